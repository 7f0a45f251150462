// The index of the .nix files under the workspace folders, so that knowledge
// from files that are not open counts (a knownHosts entry in ssh.nix covers a
// builder in builders.nix). Built in the background: file-system calls are
// asynchronous and the worker yields to the event loop between files, so
// requests are answered while it runs. Skipped: symbolic links (`result` links
// into the store, loops), `.git`, `node_modules`, `.direnv`, whatever the
// client's `files.exclude` or a `.gitignore` (and .git/info/exclude) excludes,
// files over MAX_FILE_BYTES, and files beyond MAX_FILES.
//
// Kept up to date by the client's file events (workspace/didChangeWatchedFiles)
// and by rescans when the folders, `files.exclude` or a .gitignore change.
// Files that may contribute (relevance.ts) keep their text and their parsed
// tree, parsed once per content: an analysis never re-parses an unchanged file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ignore, { type Ignore } from 'ignore';
import { parseNix, type Tree } from '../core/parser';
import { LineIndex } from '../core/span';
import { excludeMatcher, type PathMatcher } from './glob';
import { mayContribute } from './relevance';

/** Largest .nix file indexed (and largest file read for an import or publicKeyFile). */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Most .nix files indexed over all folders. */
export const MAX_FILES = 20_000;
/** How long diagnostics wait for the first scan before they are published without it. */
const SETTLE_WAIT_MS = 3000;

const SKIP_DIRS = new Set(['.git', 'node_modules', '.direnv']);

export interface IndexedFile {
  fsPath: string;
  /** The core's name for the file: its file:// URI (the form imports resolve to). */
  uri: string;
  mtimeMs: number;
  size: number;
  /** Whether it may contribute (relevance.ts); only such files keep text and tree. */
  relevant: boolean;
  text?: string;
  tree?: Tree;
  lines?: LineIndex;
}

export interface IndexOptions {
  log(message: string): void;
  logError(message: string): void;
  /** Something in the index changed (not called for each file of a scan: once at its end). */
  onChange(): void;
  /** The first scan of the folders finished, or took longer than SETTLE_WAIT_MS. */
  onSettled(): void;
}

type Task = { kind: 'scan'; folder: string; dir: string } | { kind: 'file'; path: string } | { kind: 'created'; path: string };

interface GitRules {
  base: string;
  ig: Ignore;
}

/** A file:// URI or an absolute path → absolute path; undefined for other schemes. */
export function toFsPath(fileOrUri: string): string | undefined {
  if (fileOrUri.startsWith('file:')) {
    try {
      return fileURLToPath(fileOrUri.replace(/#.*$/, ''));
    } catch {
      return undefined;
    }
  }
  return path.isAbsolute(fileOrUri) ? path.resolve(fileOrUri) : undefined;
}

export function inside(dir: string, p: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : `${dir}${path.sep}`);
}

function posixRel(from: string, to: string): string {
  return path.relative(from, to).split(path.sep).join('/');
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class WorkspaceIndex {
  private folderList: string[] = [];
  private excluded: PathMatcher = () => false;
  private excludeKey = '';
  private readonly files = new Map<string, IndexedFile>();
  private readonly byUri = new Map<string, IndexedFile>();
  private readonly gitignores = new Map<string, Ignore | null>();
  private readonly queue: Task[] = [];
  private readonly queued = new Set<string>();
  private running = false;
  private started = false;
  private gen = 0;
  private settledFlag = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private tooMany = false;
  private disposed = false;
  /** Files read for imports / publicKeyFile that are not indexed. */
  private readonly diskCache = new Map<string, { mtimeMs: number; size: number; text: string }>();
  /** Duration and size of the last complete scan. */
  lastScan: { ms: number; files: number; relevant: number } | undefined;

  constructor(private readonly o: IndexOptions) {}

  /** Changes whenever an indexed file is added, changed or removed. */
  get generation(): number {
    return this.gen;
  }

  /** True once the first scan finished (or SETTLE_WAIT_MS passed). */
  get settled(): boolean {
    return this.settledFlag;
  }

  get folders(): readonly string[] {
    return this.folderList;
  }

  get size(): number {
    return this.files.size;
  }

  /** Starts indexing (call once settings are known); until then events are only queued. */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.settleTimer = setTimeout(() => this.settle(), SETTLE_WAIT_MS);
    this.settleTimer.unref?.();
    this.rescan();
    if (this.queue.length === 0) this.settle();
    else this.kick();
  }

  setFolders(folders: string[]): void {
    const next = [...new Set(folders.map((f) => path.resolve(f)))].sort();
    if (next.join('\0') === this.folderList.join('\0')) return;
    this.folderList = next;
    let removed = false;
    for (const p of [...this.files.keys()]) if (!this.inFolders(p)) removed = this.remove(p) || removed;
    if (removed) this.o.onChange();
    this.rescan();
  }

  /** The client's `files.exclude` setting (an object of glob → boolean). */
  setExcludes(setting: unknown): void {
    const key = JSON.stringify(setting ?? null);
    if (key === this.excludeKey) return;
    this.excludeKey = key;
    this.excluded = excludeMatcher(setting);
    if (this.started) this.rescan();
  }

  /** Scans every folder again; unchanged files (same mtime and size) are not re-read. */
  rescan(): void {
    this.gitignores.clear();
    for (const f of this.folderList) this.enqueue({ kind: 'scan', folder: f, dir: f });
  }

  /** A client file event for a .nix file (created or changed). */
  fileChanged(fsPath: string): void {
    if (path.basename(fsPath) === '.gitignore') {
      this.rescan();
      return;
    }
    if (this.inFolders(fsPath)) this.enqueue({ kind: 'file', path: fsPath });
  }

  /** Something was created: a folder (moved or copied in) is scanned. */
  pathCreated(fsPath: string): void {
    if (fsPath.endsWith('.nix')) this.fileChanged(fsPath);
    else if (path.basename(fsPath) === '.gitignore') this.rescan();
    else if (this.inFolders(fsPath)) this.enqueue({ kind: 'created', path: fsPath });
  }

  /** A file or folder was deleted: drops it and everything below it. */
  pathDeleted(fsPath: string): void {
    if (path.basename(fsPath) === '.gitignore') {
      this.rescan();
      return;
    }
    let changed = false;
    for (const p of [...this.files.keys()]) {
      if (inside(fsPath, p)) {
        this.remove(p);
        changed = true;
      }
    }
    this.diskCache.delete(fsPath);
    if (changed) this.o.onChange();
  }

  get(fsPath: string): IndexedFile | undefined {
    return this.files.get(fsPath);
  }

  byCorePath(uri: string): IndexedFile | undefined {
    return this.byUri.get(uri);
  }

  linesOf(f: IndexedFile): LineIndex | undefined {
    if (f.text === undefined) return undefined;
    f.lines ??= new LineIndex(f.text);
    return f.lines;
  }

  /** The indexed files that may contribute, by path. */
  relevant(): IndexedFile[] {
    const out: IndexedFile[] = [];
    for (const f of this.files.values()) if (f.relevant && f.text !== undefined) out.push(f);
    return out;
  }

  /** Inside one of the workspace folders (following symbolic links when `real`). */
  inFolders(fsPath: string, real = false): boolean {
    let p = path.resolve(fsPath);
    if (real) {
      try {
        p = fs.realpathSync(p);
      } catch {
        return false;
      }
    }
    return this.folderList.some((f) => {
      if (inside(f, p)) return true;
      if (!real) return false;
      try {
        return inside(fs.realpathSync(f), p);
      } catch {
        return false;
      }
    });
  }

  /**
   * A file the configuration names (an import, a publicKeyFile), for the core's
   * env.readFile: the index first, then the disk, inside the workspace folders
   * only unless `outside` is allowed. Synchronous (the core's API is), bounded
   * by MAX_FILE_BYTES, cached by mtime and size.
   */
  readFile(fsPath: string, outside: boolean): string | undefined {
    const p = path.resolve(fsPath);
    const indexed = this.files.get(p);
    if (indexed?.text !== undefined) return indexed.text;
    if (!outside && !this.inFolders(p, true)) return undefined;
    try {
      const st = fs.statSync(p);
      if (!st.isFile() || st.size > MAX_FILE_BYTES) return undefined;
      const hit = this.diskCache.get(p);
      if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.text;
      const text = fs.readFileSync(p, 'utf8');
      if (this.diskCache.size > 1000) this.diskCache.clear();
      this.diskCache.set(p, { mtimeMs: st.mtimeMs, size: st.size, text });
      return text;
    } catch {
      return undefined;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.queue.length = 0;
    if (this.settleTimer) clearTimeout(this.settleTimer);
  }

  // ------------------------------------------------------------------ worker

  private enqueue(t: Task): void {
    const key = t.kind === 'scan' ? `scan\0${t.dir}` : `${t.kind}\0${t.path}`;
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(t);
    if (this.started) this.kick();
  }

  private kick(): void {
    if (this.running || this.disposed) return;
    this.running = true;
    void this.work().finally(() => {
      this.running = false;
      if (this.queue.length > 0 && !this.disposed) this.kick();
    });
  }

  private async work(): Promise<void> {
    while (this.queue.length > 0 && !this.disposed) {
      const t = this.queue.shift() as Task;
      this.queued.delete(t.kind === 'scan' ? `scan\0${t.dir}` : `${t.kind}\0${t.path}`);
      try {
        if (t.kind === 'scan') await this.scan(t.folder, t.dir);
        else if (t.kind === 'file') {
          if (await this.refresh(t.path)) this.o.onChange();
        } else {
          await this.created(t.path);
        }
      } catch (err) {
        this.o.logError(`nix-builders: indexing failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
    this.settle();
  }

  private settle(): void {
    if (this.settledFlag || !this.started) return;
    this.settledFlag = true;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.o.onSettled();
  }

  private folderOf(p: string): string | undefined {
    let best: string | undefined;
    for (const f of this.folderList) if (inside(f, p) && (!best || f.length > best.length)) best = f;
    return best;
  }

  private async gitignoreOf(dir: string, folder: string): Promise<Ignore | null> {
    const cached = this.gitignores.get(dir);
    if (cached !== undefined) return cached;
    let ig: Ignore | null = null;
    const add = async (file: string) => {
      try {
        const st = await fs.promises.stat(file);
        if (!st.isFile() || st.size > MAX_FILE_BYTES) return;
        ig = (ig ?? ignore()).add(await fs.promises.readFile(file, 'utf8'));
      } catch {
        // none
      }
    };
    await add(path.join(dir, '.gitignore'));
    if (dir === folder) await add(path.join(dir, '.git', 'info', 'exclude'));
    this.gitignores.set(dir, ig);
    return ig;
  }

  /** The .gitignore rules that apply in dir (its own and its ancestors' up to the folder), innermost first. */
  private async rulesFor(dir: string, folder: string): Promise<GitRules[]> {
    const out: GitRules[] = [];
    for (let d = dir; ; d = path.dirname(d)) {
      const ig = await this.gitignoreOf(d, folder);
      if (ig) out.push({ base: d, ig });
      if (d === folder || !inside(folder, d) || path.dirname(d) === d) break;
    }
    return out;
  }

  private isExcluded(folder: string, full: string, isDir: boolean, rules: GitRules[]): boolean {
    const rel = posixRel(folder, full);
    if (this.excluded(rel) || (isDir && this.excluded(`${rel}/`))) return true;
    for (const r of rules) {
      const relHere = posixRel(r.base, full);
      if (relHere === '' || relHere.startsWith('..')) continue;
      try {
        const t = r.ig.test(isDir ? `${relHere}/` : relHere);
        if (t.ignored) return true;
        if (t.unignored) return false;
      } catch {
        // A path `ignore` refuses: not excluded.
      }
    }
    return false;
  }

  /** Whether a path (or one of its parent folders below the workspace folder) is excluded. */
  private async excludedPath(folder: string, full: string, isDir: boolean): Promise<boolean> {
    const parts = posixRel(folder, full).split('/');
    let cur = folder;
    for (let i = 0; i < parts.length; i++) {
      const parent = cur;
      cur = path.join(cur, parts[i] as string);
      const dir = i < parts.length - 1 || isDir;
      if (dir && SKIP_DIRS.has(parts[i] as string)) return true;
      if (this.isExcluded(folder, cur, dir, await this.rulesFor(parent, folder))) return true;
    }
    return false;
  }

  private async scan(folder: string, start: string): Promise<void> {
    if (!this.folderList.includes(folder)) return;
    const began = performance.now();
    if (start !== folder && (await this.excludedPath(folder, start, true))) return;
    const found: string[] = [];
    const stack: { dir: string; rules: GitRules[] }[] = [{ dir: start, rules: await this.rulesFor(start, folder) }];
    while (stack.length > 0 && !this.disposed) {
      const { dir, rules: parentRules } = stack.pop() as { dir: string; rules: GitRules[] };
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      let rules = parentRules;
      if (dir !== start) {
        const own = await this.gitignoreOf(dir, folder);
        if (own) rules = [{ base: dir, ig: own }, ...parentRules];
      }
      for (const e of entries) {
        // Symbolic links (`result` → /nix/store/…, loops) are never followed.
        if (e.isSymbolicLink()) continue;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name) && !this.isExcluded(folder, full, true, rules)) stack.push({ dir: full, rules });
        } else if (e.isFile() && e.name.endsWith('.nix') && !this.isExcluded(folder, full, false, rules)) {
          found.push(full);
        }
      }
      await yieldToLoop();
    }
    found.sort();
    const seen = new Set<string>();
    let changed = false;
    for (const f of found) {
      if (this.disposed) return;
      if (!this.files.has(f) && this.files.size >= MAX_FILES) {
        if (!this.tooMany) {
          this.tooMany = true;
          this.o.log(`nix-builders: the workspace has more than ${MAX_FILES} .nix files; the rest are not indexed.`);
        }
        break;
      }
      seen.add(f);
      if (await this.load(f)) changed = true;
      await yieldToLoop();
    }
    for (const p of [...this.files.keys()]) {
      if (inside(start, p) && !seen.has(p) && this.folderOf(p) === folder) {
        this.remove(p);
        changed = true;
      }
    }
    if (start === folder) {
      let files = 0;
      let relevant = 0;
      for (const f of this.files.values()) {
        if (this.folderOf(f.fsPath) !== folder) continue;
        files++;
        if (f.relevant) relevant++;
      }
      this.lastScan = { ms: performance.now() - began, files, relevant };
      const skipped = found.length - files;
      this.o.log(
        `nix-builders: indexed ${files} .nix files (${relevant} relevant${skipped > 0 ? `, ${skipped} skipped` : ''}) in ${folder} in ${Math.round(this.lastScan.ms)} ms`,
      );
    }
    if (changed) this.o.onChange();
  }

  private async created(p: string): Promise<void> {
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(p);
    } catch {
      return;
    }
    const folder = this.folderOf(p);
    if (folder && st.isDirectory()) await this.scan(folder, p);
  }

  /** Re-reads one file after a client event; true when the index changed. */
  private async refresh(p: string): Promise<boolean> {
    const folder = this.folderOf(p);
    if (!folder || (await this.excludedPath(folder, p, false))) return this.remove(p);
    return this.load(p);
  }

  /** Reads a file into the index unless unchanged; true when the index changed. */
  private async load(p: string): Promise<boolean> {
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(p);
    } catch {
      return this.remove(p);
    }
    if (!st.isFile() || st.size > MAX_FILE_BYTES) return this.remove(p);
    const old = this.files.get(p);
    if (old && old.mtimeMs === st.mtimeMs && old.size === st.size) return false;
    let text: string;
    try {
      text = await fs.promises.readFile(p, 'utf8');
    } catch {
      return this.remove(p);
    }
    if (this.disposed) return false;
    if (old && old.text === text) {
      old.mtimeMs = st.mtimeMs;
      old.size = st.size;
      return false;
    }
    const relevant = mayContribute(text);
    if (old && !old.relevant && !relevant) {
      old.mtimeMs = st.mtimeMs;
      old.size = st.size;
      return false;
    }
    const entry: IndexedFile = {
      fsPath: p,
      uri: old?.uri ?? pathToFileURL(p).href,
      mtimeMs: st.mtimeMs,
      size: st.size,
      relevant,
      // Parsed here, in the background, once per content.
      ...(relevant ? { text, tree: parseNix(text).detached() } : {}),
    };
    this.files.set(p, entry);
    this.byUri.set(entry.uri, entry);
    this.diskCache.delete(p);
    this.gen++;
    return true;
  }

  private remove(p: string): boolean {
    const e = this.files.get(p);
    if (!e) return false;
    this.files.delete(p);
    this.byUri.delete(e.uri);
    this.gen++;
    return true;
  }
}
