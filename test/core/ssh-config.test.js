// programs.ssh.extraConfig Host blocks: parsed with ssh-config, keywords
// case-insensitive, every pattern and value mapped back to the document.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');

const { analyze } = loadCore('analyze');

const at = (text, span) => text.slice(span.start, span.end);

test('the example: four Host blocks with HostName and Port, ranges on the literal text', () => {
  const file = path.join(__dirname, '..', '..', 'examples', 'distributed-builds.nix');
  const text = fs.readFileSync(file, 'utf8');
  const { model } = analyze([{ path: file, text }]);
  const hosts = model.sshBlocks.filter((b) => b.kind === 'host');
  assert.deepEqual(hosts.map((b) => b.patterns.map((p) => p.text)), [['ai'], ['aquamarine'], ['ruby'], ['kana']]);
  const ruby = hosts[2];
  assert.equal(at(text, ruby.patterns[0].span), 'ruby');
  const hn = ruby.options.find((o) => o.keyword === 'hostname');
  assert.equal(hn.value, '192.168.5.102');
  assert.equal(at(text, hn.valueSpan), '192.168.5.102');
  assert.equal(at(text, hn.keywordSpan), 'HostName');
  assert.equal(ruby.options.find((o) => o.keyword === 'port').value, '22');
});

test('lowercase keywords, several and negated patterns, Match blocks, global options', () => {
  const text = [
    '{',
    '  programs.ssh.extraConfig = \'\'',
    '    StrictHostKeyChecking yes',
    '    host builder-* !builder-old',
    '      hostname 10.0.0.7',
    '      HOSTKEYALIAS builder',
    '    Match host jump exec "true"',
    '      User jumper',
    '  \'\';',
    '}',
  ].join('\n');
  const { model } = analyze([{ path: 'ssh.nix', text }]);
  const [global, host, match] = model.sshBlocks;
  assert.equal(global.kind, 'global');
  assert.equal(global.options[0].keyword, 'stricthostkeychecking');
  assert.equal(host.kind, 'host');
  assert.deepEqual(host.patterns.map((p) => [p.text, p.negated, at(text, p.span)]), [
    ['builder-*', false, 'builder-*'],
    ['!builder-old', true, '!builder-old'],
  ]);
  assert.deepEqual(host.options.map((o) => [o.keyword, o.value, at(text, o.valueSpan)]), [
    ['hostname', '10.0.0.7', '10.0.0.7'],
    ['hostkeyalias', 'builder', 'builder'],
  ]);
  assert.equal(match.kind, 'match');
  assert.equal(match.options[0].keyword, 'user');
});

test('unreadable or odd extraConfig never throws', () => {
  for (const body of ['', 'Host', '"unterminated', 'Host a\n\tHostName\n', '#only a comment', 'Host a b c\n  Port notanumber']) {
    const text = `{ programs.ssh.extraConfig = ${JSON.stringify(body)}; }`;
    assert.doesNotThrow(() => analyze([{ path: 'x.nix', text }]));
  }
});

test('a text parsed once is mapped afresh for each place it sits (a keystroke above an extraConfig moves it)', () => {
  const { parseSshConfig, resetSshConfigCache } = loadCore('ssh-config');
  const config = 'Compression yes\nHost a "b c" !d\n  HostName 10.0.0.1\n  Port 2222\nMatch host x\n  User y\n';
  const shifted = (delta) => (s, e) => ({ file: '/f.nix', start: s + delta, end: e + delta });
  resetSshConfigCache();
  const cold = parseSshConfig(config, shifted(0));
  const again = parseSshConfig(config, shifted(0));
  const moved = parseSshConfig(config, shifted(100));
  assert.deepEqual(again, cold, 'the cached parse maps to the same blocks');
  assert.notEqual(again[1], cold[1], 'fresh objects for each analysis');
  const spans = (blocks) =>
    blocks.flatMap((b) => [b.headerSpan, ...(b.insertAt ? [b.insertAt] : []), ...b.patterns.map((p) => p.span), ...b.options.flatMap((o) => [o.keywordSpan, o.valueSpan])]);
  assert.deepEqual(
    spans(moved).map((s) => [s.start, s.end]),
    spans(cold).map((s) => [s.start + 100, s.end + 100]),
  );
  // What the spans cover is the text itself.
  const host = cold[1];
  assert.deepEqual(host.patterns.map((p) => [p.text, p.negated, config.slice(p.span.start, p.span.end)]), [
    ['a', false, 'a'],
    ['b c', false, 'b c'],
    ['!d', true, '!d'],
  ]);
  assert.equal(config.slice(host.options[1].valueSpan.start, host.options[1].valueSpan.end), '2222');
  assert.equal(cold[0].kind, 'global');
  assert.equal(cold[0].insertAt, undefined);
});
