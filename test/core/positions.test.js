// Positions as LSP counts them: lines end at \n, \r\n or a lone \r, and columns
// are UTF-16 code units (a Japanese character is one, an emoji two). The
// expected columns below are counted by hand.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { loadCore } = require('../helpers/load-ts');
const { applyEdits } = require('../helpers/apply-edits');

const { analyze } = loadCore('analyze');
const { LineIndex } = loadCore('span');

function ranges(text, file = '/cfg/t.nix') {
  const index = new LineIndex(text);
  return analyze([{ path: file, text }]).diagnostics.map((d) => ({ code: d.code, ...index.range(d.span.start, d.span.end), d }));
}

const pos = (line, character) => ({ line, character });

test('a faulty value after Japanese text and emoji on the same line', () => {
  const line = '    { hostName = "星野アクア"; sshUser = "🦀🦀"; systems = [ "x86-64-linux" ]; supportedFeatures = [ "kvmm" ]; }';
  // 4 spaces + `{ ` = 6; `hostName = "` 12 → 18; 星野アクア 5 units → 23; `"; ` → 26;
  // `sshUser = "` 11 → 37; 🦀🦀 2 × 2 units → 41; `"; ` → 44; `systems = [ ` 12 → 56:
  // "x86-64-linux" is 56–70. Then ` ]; ` → 74, `supportedFeatures = [ ` 22 → 96: "kvmm" is 96–102.
  const text = `{\n  nix.distributedBuilds = true;\n  nix.buildMachines = [\n${line}\n  ];\n}\n`;
  const got = ranges(text);
  assert.deepEqual(
    got.map(({ code, start, end }) => ({ code, start, end })),
    [
      { code: 'unknown-system', start: pos(3, 56), end: pos(3, 70) },
      { code: 'unknown-feature', start: pos(3, 96), end: pos(3, 102) },
    ],
  );
  // Counting code points (54) or UTF-8 bytes would land elsewhere.
  const prefix = line.slice(0, line.indexOf('"x86-64-linux"'));
  assert.equal(prefix.length, 56);
  assert.equal([...prefix].length, 54);
  assert.equal(Buffer.byteLength(prefix), 70);
  // The range covers exactly the literal on that line.
  const index = new LineIndex(text);
  const [sys, feat] = got;
  assert.equal(text.slice(index.offset(sys.start), index.offset(sys.end)), '"x86-64-linux"');
  assert.equal(text.slice(index.offset(feat.start), index.offset(feat.end)), '"kvmm"');
  // A fix applied through these offsets replaces the right characters.
  const fixed = applyEdits(text, sys.d.fixes[0].edits);
  assert.equal(fixed, text.replace('x86-64-linux', 'x86_64-linux'));
});

test('emoji in a comment and inside a builders string before the faulty field', () => {
  const text = '{ /* 🚀 */ nix.settings.builders = "ssh://🦀 x86-64-linux ; b2 i686-linux - x"; }\n';
  // `{ /* ` 5; 🚀 2 → 7; ` */ ` → 11; `nix.settings.builders = "` 25 → 36; `ssh://` → 42;
  // 🦀 2 → 44; space → 45: x86-64-linux is 45–57. ` ; b2 i686-linux - ` 19 → 76: x is 76–77.
  const got = ranges(text).map(({ code, start, end }) => ({ code, start, end }));
  assert.deepEqual(got, [
    { code: 'unknown-system', start: pos(0, 45), end: pos(0, 57) },
    { code: 'machines-syntax', start: pos(0, 76), end: pos(0, 77) },
  ]);
});

test('a machines file with non-ASCII host names', () => {
  const text = '# ビルダー\nssh://星野 x86-64-linux - 2\nssh://🦀@b aarch64-linux - -1\n';
  const got = ranges(text, '/etc/nix/machines').map(({ code, start, end }) => ({ code, start, end }));
  assert.deepEqual(got, [
    // `ssh://` 6 + 星野 2 + space = 9.
    { code: 'unknown-system', start: pos(1, 9), end: pos(1, 21) },
    // `ssh://` 6 + 🦀 2 + `@b aarch64-linux - ` 19 = 27.
    { code: 'machines-syntax', start: pos(2, 27), end: pos(2, 29) },
  ]);
});

test('CRLF line ends count as one line break', () => {
  const text = [
    '{',
    '  nix.distributedBuilds = true;',
    '  # 星野 🦀',
    '  nix.buildMachines = [ { hostName = "a"; systems = [ "x86-64-linux" ]; } ];',
    '}',
    '',
  ].join('\r\n');
  const got = ranges(text);
  assert.deepEqual(got.map(({ code, start, end }) => ({ code, start, end })), [
    // `  nix.buildMachines = [ ` 24, `{ hostName = "a"; ` 18 → 42, `systems = [ ` 12 → 54.
    { code: 'unknown-system', start: pos(3, 54), end: pos(3, 68) },
  ]);
  const index = new LineIndex(text);
  assert.equal(index.lineCount, 6);
  assert.deepEqual(index.position(text.indexOf('nix.buildMachines')), pos(3, 2));
  // A position past the end of a line means the end of the line, before \r\n.
  assert.equal(index.offset(pos(0, 99)), 1);
  assert.equal(index.offset(pos(2, 99)), text.indexOf('🦀') + 2);
  for (let o = 0; o <= text.length; o++) {
    if (text[o - 1] === '\r' && text[o] === '\n') continue; // inside a line break
    assert.equal(index.offset(index.position(o)), o, `round trip at ${o}`);
  }
});

test('a lone CR ends a line, as it does for LSP clients', () => {
  const text = '{\r  nix.distributedBuilds = true;\r  nix.buildMachines = [\r    { hostName = "a"; system = "x86-64-linux"; }\r  ];\r}\r';
  const got = ranges(text);
  assert.deepEqual(got.map(({ code, start, end }) => ({ code, start, end })), [
    // `    { hostName = "a"; system = ` is 31 units.
    { code: 'unknown-system', start: pos(3, 31), end: pos(3, 45) },
  ]);
  const index = new LineIndex(text);
  assert.equal(index.lineCount, 7);
  assert.equal(index.offset(pos(1, 99)), text.indexOf('\r', 2));
  // Mixed line ends in one text.
  const mixed = new LineIndex('a\nb\r\nc\rd');
  assert.deepEqual([0, 2, 5, 7].map((o) => mixed.position(o)), [pos(0, 0), pos(1, 0), pos(2, 0), pos(3, 0)]);
  assert.deepEqual(mixed.position(8), pos(3, 1));
});

test('multi-line strings: a field on a later line of an indented string', () => {
  const text = "{\n  nix.extraOptions = ''\n    max-jobs = 0\n    builders = ssh://🦀 x86-64-linux\n  '';\n}\n";
  const got = ranges(text).map(({ code, start, end }) => ({ code, start, end }));
  // `    builders = ssh://` 21 + 🦀 2 + space = 24.
  assert.deepEqual(got.filter((g) => g.code === 'unknown-system'), [{ code: 'unknown-system', start: pos(3, 24), end: pos(3, 36) }]);
});
