// What is under a cursor, found through the model: the builder or knownHosts
// entry around an offset, and the attribute whose name or value it is on.
import type { Builder, KnownHost, Model, ReadAttr } from '../core/model';
import type { Span } from '../core/span';

/** start <= offset < end (or <= end when inclusive), in the given file. */
export function spanContains(span: Span | undefined, file: string, offset: number, inclusiveEnd = false): span is Span {
  if (!span || span.file !== file) return false;
  return span.start <= offset && (inclusiveEnd ? offset <= span.end : offset < span.end);
}

/** Strictly inside: start < offset < end (after an opening bracket or quote, before the closing one). */
export function spanEncloses(span: Span | undefined, file: string, offset: number): span is Span {
  return !!span && span.file === file && span.start < offset && offset < span.end;
}

export type Owner = { kind: 'builder'; builder: Builder } | { kind: 'knownHost'; host: KnownHost };

export interface AttrHit {
  owner: Owner;
  attr: ReadAttr;
  /** On the attribute's name, or on its value. */
  on: 'key' | 'value';
  span: Span;
}

function owners(model: Model): Owner[] {
  return [
    ...model.builders.map((builder): Owner => ({ kind: 'builder', builder })),
    ...model.knownHosts.map((host): Owner => ({ kind: 'knownHost', host })),
  ];
}

export function ownerAttrs(o: Owner): Map<string, ReadAttr> {
  return o.kind === 'builder' ? o.builder.attrs : o.host.attrs;
}

export function ownerSpan(o: Owner): Span {
  return o.kind === 'builder' ? o.builder.span : o.host.span;
}

/**
 * The attribute whose name or value is at offset: names win over values, and
 * the smallest value span wins (a value shared through `let`/`inherit` is found
 * from every builder; the first one is taken).
 */
export function attrAt(model: Model, file: string, offset: number): AttrHit | undefined {
  let best: AttrHit | undefined;
  for (const owner of owners(model)) {
    for (const attr of ownerAttrs(owner).values()) {
      if (spanContains(attr.keySpan, file, offset)) {
        const hit: AttrHit = { owner, attr, on: 'key', span: attr.keySpan };
        if (!best || best.on === 'value' || size(hit.span) < size(best.span)) best = hit;
        continue;
      }
      const vs = attr.value.span;
      if (spanContains(vs, file, offset) && (!best || (best.on === 'value' && size(vs) < size(best.span)))) {
        best = { owner, attr, on: 'value', span: vs };
      }
    }
  }
  return best;
}

function size(s: Span): number {
  return s.end - s.start;
}

/** The innermost Nix builder or knownHosts entry whose attribute set strictly encloses offset. */
export function enclosingOwner(model: Model, file: string, offset: number): Owner | undefined {
  let best: Owner | undefined;
  for (const o of owners(model)) {
    if (o.kind === 'builder' && o.builder.source !== 'nix') continue;
    const s = ownerSpan(o);
    if (spanEncloses(s, file, offset) && (!best || size(s) < size(ownerSpan(best)))) best = o;
  }
  return best;
}
