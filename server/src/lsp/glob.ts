// VS Code glob patterns (the keys of `files.exclude`) as regular expressions
// over slash-separated paths relative to a workspace folder: `*` and `?` within
// one segment, `**` across segments, `{a,b}` alternatives, `[abc]` / `[!abc]`
// character classes. Matching is case-sensitive, as VS Code's is on Linux.

const SPECIAL = /[\\^$.*+?()[\]{}|]/g;

function escape(s: string): string {
  return s.replace(SPECIAL, '\\$&');
}

/** The index of the `}` closing the `{` at `open`, or -1. */
function closingBrace(p: string, open: number): number {
  let depth = 0;
  for (let i = open; i < p.length; i++) {
    if (p[i] === '{') depth++;
    else if (p[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Splits the inside of `{…}` at top-level commas. */
function alternatives(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(body.slice(start, i));
      start = i + 1;
    }
  }
  out.push(body.slice(start));
  return out;
}

function source(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === '*') {
      if (p[i + 1] === '*') {
        // `**/` at a segment start: any number of leading segments; `/**` at the end: anything below.
        const atStart = i === 0 || p[i - 1] === '/';
        i++;
        if (atStart && p[i + 1] === '/') {
          out += '(?:[^/]*/)*';
          i++;
        } else {
          out += '.*';
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '{') {
      const close = closingBrace(p, i);
      if (close < 0) {
        out += '\\{';
        continue;
      }
      out += `(?:${alternatives(p.slice(i + 1, close)).map(source).join('|')})`;
      i = close;
    } else if (c === '[') {
      const close = p.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = p.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else {
      out += escape(c);
    }
  }
  return out;
}

/** One glob as an anchored RegExp (a trailing `/` is ignored); undefined for an empty pattern. */
export function globToRegExp(pattern: string): RegExp | undefined {
  const p = pattern.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
  if (p === '') return undefined;
  try {
    return new RegExp(`^${source(p)}$`);
  } catch {
    return undefined;
  }
}

export type PathMatcher = (relPath: string) => boolean;

/**
 * `files.exclude` as a matcher of folder-relative paths. Only patterns set to
 * `true` count; `{ when: … }` sibling conditions are not evaluated (the file is
 * kept), nor are patterns set to false.
 */
export function excludeMatcher(setting: unknown): PathMatcher {
  const res: RegExp[] = [];
  if (setting && typeof setting === 'object' && !Array.isArray(setting)) {
    for (const [pattern, on] of Object.entries(setting as Record<string, unknown>)) {
      if (on !== true) continue;
      const re = globToRegExp(pattern);
      if (re) res.push(re);
    }
  }
  return (rel) => res.some((re) => re.test(rel));
}
