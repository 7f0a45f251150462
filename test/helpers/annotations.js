// Reads expectations annotated in place in a fixture: a comment line with
// carets under the expected range and the code after them, e.g.
//     systems = [ "x86-64-linux" ];
//     #           ^^^^^^^^^^^^^^ unknown-system
// The carets refer to the nearest line above that is not an annotation.
'use strict';

const ANNOTATION = /^(\s*#\s*)(\^+)\s+([a-z-]+)\s*$/;

function readAnnotations(text) {
  const lines = text.split(/\r?\n/);
  const expected = [];
  let target = -1;
  lines.forEach((line, i) => {
    const m = ANNOTATION.exec(line);
    if (!m) {
      target = i;
      return;
    }
    const start = m[1].length;
    expected.push({ code: m[3], line: target, start, end: start + m[2].length });
  });
  return expected;
}

module.exports = { readAnnotations };
