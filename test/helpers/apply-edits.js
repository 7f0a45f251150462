// Applies a quick fix's text edits (spans in UTF-16 offsets, as the core gives
// them) to a document's text, as an LSP client would: all edits refer to the
// original text, must not overlap, and inserts at the same place keep their order.
'use strict';

function applyEdits(text, edits) {
  const sorted = edits
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.span.start - b.e.span.start || a.e.span.end - b.e.span.end || a.i - b.i);
  let out = '';
  let at = 0;
  for (const { e } of sorted) {
    if (e.span.start < at) throw new Error(`overlapping edits at ${e.span.start}`);
    if (e.span.end < e.span.start || e.span.end > text.length) throw new Error(`bad edit span ${e.span.start}-${e.span.end}`);
    out += text.slice(at, e.span.start) + e.newText;
    at = e.span.end;
  }
  return out + text.slice(at);
}

module.exports = { applyEdits };
