// A keystroke inside a builder's strings or numbers re-reads that builder only
// (server/src/core/incremental.ts). Whatever path an analysis takes, its
// diagnostics must be exactly those of a full analysis of the same text by a
// core that never saw the earlier versions: every code, message, position and
// fix, over thousands of random keystrokes in the rule fixtures, the example
// and the 1 MB bench file.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { bigConfig } = require('../../scripts/bench/corpus');
const { loadBenchCore } = require('../../scripts/bench/core');
const { loadCore } = require('../helpers/load-ts');
const { prng } = require('../helpers/prng');
const { loadServer } = require('../helpers/load-server');
const { fixtureNixFiles } = require('../helpers/nix-files');

// The core under test (NixDocument, analyze with `previous`) and, apart, a
// reference core with caches of its own.
const core = loadBenchCore();
const reference = { ...loadCore('analyze'), ...loadServer('cli/environment') };

const root = path.resolve(__dirname, '..', '..');
const fixtures = [
  ...fs
    .readdirSync(path.join(root, 'test', 'fixtures', 'rules'))
    .filter((f) => f.endsWith('.nix'))
    .map((f) => path.join(root, 'test', 'fixtures', 'rules', f)),
  path.join(root, 'examples', 'distributed-builds.nix'),
];


const SAFE = 'abcdefghijklmnopqrstuvwxyz0123456789-_.:/@+=, ';
const DIGITS = '0123456789';
const UNSAFE = ['"', '$', '{', "'", '\\', '\n', ';', 'x'];

/** The leaves a lexical edit may stay inside: string fragments and integers. */
function leaves(tree) {
  const out = [];
  for (let i = 0; i < tree.nodeCount; i++) {
    const t = tree.type(i);
    if ((t === 'string_fragment' || t === 'integer_expression') && tree.named(i).length === 0) out.push(i);
  }
  return out;
}

/** A random keystroke-sized edit inside (or at the edge of) a random leaf: mostly characters a lexical edit takes. */
function randomEdit(doc, rnd) {
  const tree = doc.tree;
  const ls = leaves(tree);
  if (ls.length === 0) return undefined;
  const leaf = ls[rnd(ls.length)];
  const start = tree.start(leaf);
  const end = tree.end(leaf);
  const integer = tree.type(leaf) === 'integer_expression';
  const alphabet = integer ? DIGITS : SAFE;
  const at = start + rnd(end - start + 1);
  const kind = rnd(10);
  let removed = 0;
  let text = '';
  if (kind < 4) text = alphabet[rnd(alphabet.length)];
  else if (kind < 6) removed = Math.min(1 + rnd(2), end - at);
  else if (kind < 9) {
    removed = Math.min(1, end - at);
    text = alphabet[rnd(alphabet.length)] + (rnd(3) === 0 ? alphabet[rnd(alphabet.length)] : '');
  } else text = UNSAFE[rnd(UNSAFE.length)];
  if (removed === 0 && text === '') text = alphabet[rnd(alphabet.length)];
  return { start: doc.lines.position(at), end: doc.lines.position(at + removed), text };
}

/** Diagnostics as plain data, for deepEqual. */
function plain(diagnostics) {
  return JSON.parse(JSON.stringify(diagnostics));
}

/**
 * Types `steps` random keystrokes into `text` through NixDocument and
 * analyze(…, previous), comparing each analysis with the reference's full
 * analysis. Returns how many analyses took the incremental path.
 */
function typeInto(file, text, steps, seed, compareEvery = 1) {
  const rnd = prng(seed);
  const env = core.cliEnvironment([], true).env;
  const refEnv = reference.cliEnvironment([], true).env;
  const doc = new core.NixDocument(file, text, 1, true);
  let previous = core.analyze([{ path: file, text: doc.text, tree: doc.tree }], env);
  let incremental = 0;
  let good = text;
  for (let i = 0; i < steps; i++) {
    // A keystroke that broke the syntax is taken back (the whole text replaced), as a user would.
    if (doc.tree.hasError(0)) doc.applyChanges([{ text: good }], i + 1.5);
    // Now and then a burst of keystrokes before the analysis runs (the server debounces).
    const burst = rnd(3) === 0 ? 2 + rnd(3) : 1;
    let e;
    for (let k = 0; k < burst; k++) {
      e = randomEdit(doc, rnd);
      if (!e) break;
      doc.applyChanges([{ range: { start: e.start, end: e.end }, text: e.text }], i + 2 + k / 10);
    }
    if (!e) break;
    if (!doc.tree.hasError(0)) good = doc.text;
    const a = core.analyze([{ path: file, text: doc.text, tree: doc.tree }], env, undefined, previous);
    if (a.incremental) incremental++;
    // On broken text tree-sitter's incremental parse (the document's tree) can
    // recover differently from a full parse: those are not compared.
    if (a.incremental || (i % compareEvery === 0 && !doc.tree.hasError(0))) {
      reference.resetCaches();
      const full = reference.analyze([{ path: file, text: doc.text }], refEnv);
      assert.deepEqual(plain(a.diagnostics), plain(full.diagnostics), `${path.basename(file)}, keystroke ${i} (${a.incremental ? 'incremental' : 'full'}): ${JSON.stringify(e)}`);
    }
    previous = a;
  }
  doc.dispose();
  return incremental;
}

test('random keystrokes in the rule fixtures and the example: every analysis equals a full one', () => {
  let incremental = 0;
  let steps = 0;
  for (const [n, file] of fixtures.entries()) {
    const text = fs.readFileSync(file, 'utf8');
    const count = 120;
    incremental += typeInto(file, text, count, 1000 + n);
    steps += count;
  }
  // Most fixtures write builders as list items: a good share of the keystrokes is incremental.
  assert.ok(incremental > steps / 2, `${incremental} of ${steps} keystrokes were analysed incrementally`);
});

test('keystrokes in the 1 MB bench file: incremental, and equal to a full analysis', () => {
  const big = bigConfig();
  const file = '/bench/fleet.nix';
  const env = core.cliEnvironment([], true).env;
  const refEnv = reference.cliEnvironment([], true).env;
  const doc = new core.NixDocument(file, big.text, 1, true);
  let previous = core.analyze([{ path: file, text: doc.text, tree: doc.tree }], env);
  // A maxJobs digit and a hostName in the middle of the list, as the bench types.
  const maxJobs = big.text.indexOf('maxJobs = ', big.text.length / 3) + 'maxJobs = '.length;
  const host = big.text.indexOf('hostName = "', big.text.length / 4) + 'hostName = "'.length + 2;
  const edits = [
    { at: maxJobs, remove: 1, text: '0' }, // maxJobs = 0: invalid-max-jobs appears
    { at: maxJobs, remove: 1, text: '7' },
    { at: host, remove: 0, text: 'x' },
    { at: host, remove: 1, text: '' },
    { at: host, remove: 0, text: '://' }, // host-name-has-scheme appears
    { at: host, remove: 3, text: '' },
  ];
  let incremental = 0;
  for (const [i, e] of edits.entries()) {
    const start = doc.lines.position(e.at);
    doc.applyChanges([{ range: { start, end: doc.lines.position(e.at + e.remove) }, text: e.text }], i + 2);
    const a = core.analyze([{ path: file, text: doc.text, tree: doc.tree }], env, undefined, previous);
    if (a.incremental) incremental++;
    reference.resetCaches();
    const full = reference.analyze([{ path: file, text: doc.text }], refEnv);
    assert.deepEqual(plain(a.diagnostics), plain(full.diagnostics), `edit ${i}: ${JSON.stringify(e)}`);
    previous = a;
  }
  assert.equal(incremental, edits.length, 'every keystroke in a list item of the 1 MB file is incremental');
  doc.dispose();
});

test('what the incremental path does not take: it falls back to a full analysis', () => {
  const env = core.cliEnvironment([], true).env;
  const cases = [
    // The list is bound to a name other code reads: the item is not reached only as an item.
    ['let bs = [ { hostName = "a.example"; systems = [ "x86_64-linux" ]; maxJobs = 1; } ]; in { nix.buildMachines = bs; x = bs; }', 'maxJobs = 1'],
    // A function's argument.
    ['{ nix.buildMachines = map (b: b) [ { hostName = "a.example"; systems = [ "x86_64-linux" ]; maxJobs = 1; } ]; }', 'maxJobs = 1'],
    // Not in a builder at all.
    ['{ nix.buildMachines = [ { hostName = "a.example"; systems = [ "x86_64-linux" ]; maxJobs = 1; } ]; networking.hostName = "abc"; }', '"abc'],
  ];
  for (const [text, needle] of cases) {
    const file = '/cfg/fallback.nix';
    const doc = new core.NixDocument(file, text, 1, true);
    const previous = core.analyze([{ path: file, text: doc.text, tree: doc.tree }], env);
    const at = text.indexOf(needle) + needle.length - 1;
    doc.applyChanges([{ range: { start: doc.lines.position(at), end: doc.lines.position(at + 1) }, text: /\d/.test(text[at]) ? '2' : 'b' }], 2);
    assert.equal(doc.tree.readBy, 'lexical', `${needle}: the tree is lexical`);
    const a = core.analyze([{ path: file, text: doc.text, tree: doc.tree }], env, undefined, previous);
    assert.equal(a.incremental, false, `${text}: analysed in full`);
    doc.dispose();
  }
});

test('a perBuilder rule says of a model what it says of each of its builders alone, in their order', () => {
  const { RULES } = loadCore('rules/index');
  const key = (d) => `${d.code}|${d.span.file}|${d.span.start}|${d.span.end}|${d.message}|${JSON.stringify(d.fixes)}`;
  const dedup = (list) => [...new Map(list.map((d) => [key(d), d])).keys()];
  const env = reference.cliEnvironment([], true).env;
  let compared = 0;
  for (const file of fixtureNixFiles()) {
    reference.resetCaches();
    const a = reference.analyze([{ path: file, text: fs.readFileSync(file, 'utf8') }], env);
    const ctx = { env, hosts: a.hosts };
    for (const rule of RULES.filter((r) => r.perBuilder)) {
      const whole = dedup(rule.check(a.model, ctx));
      const alone = dedup(a.model.builders.flatMap((b) => rule.check({ ...a.model, builders: [b] }, ctx)));
      assert.deepEqual(alone, whole, `${rule.code} on ${path.basename(file)}`);
      compared += whole.length;
    }
  }
  assert.ok(compared > 40, `${compared} diagnostics compared`);
});

/** One keystroke replacing [at, at + remove) of `text` with `insert`: the incremental analysis against the reference's full one. */
function oneKeystroke(text, at, remove, insert, { limits, previousOf } = {}) {
  const file = '/cfg/one.nix';
  const env = core.cliEnvironment([], true).env;
  const refEnv = reference.cliEnvironment([], true).env;
  core.resetCaches();
  const doc = new core.NixDocument(file, text, 1, true);
  const files = () => [{ path: file, text: doc.text, tree: doc.tree }];
  const previous = (previousOf ?? ((first) => first))(core.analyze(files(), env, limits), () => core.analyze(files(), env, limits));
  void doc.tree.nodeCount; // read, as an analysis that ran out of fuel at once may not have
  doc.applyChanges([{ range: { start: doc.lines.position(at), end: doc.lines.position(at + remove) }, text: insert }], 2);
  const a = core.analyze(files(), env, limits, previous);
  reference.resetCaches();
  const full = reference.analyze([{ path: file, text: doc.text }], refEnv, limits);
  assert.equal(doc.tree.readBy, 'lexical');
  doc.dispose();
  return { a, full };
}

test('limits and cycles: values cut short depend on what was read first, so those modules are analysed in full', () => {
  // Fuel that runs out while the keystroke's analysis reads the builder's attributes.
  const small = '{ nix.buildMachines = [ { hostName = "a"; systems = [ "x86_64-linux" "bogus" ]; } ]; }';
  for (let fuel = 1; fuel < 60; fuel++) {
    const { a, full } = oneKeystroke(small, small.indexOf('"a"') + 1, 1, 'b', { limits: { fuel, depth: 400 } });
    assert.deepEqual(plain(a.diagnostics), plain(full.diagnostics), `fuel ${fuel} (${a.incremental ? 'incremental' : 'full'})`);
  }
  // A shared value first read past the depth limit inside the edited builder; after
  // the edit only the other builder reads it, shallowly, and finds the string.
  const deep = `let
  down = n: if n == 0 then "x86_64-lnux" else down (n - 1);
  sys = down 95;
  pass = n: x: if n == 0 then x else pass (n - 1) x;
in {
  nix.buildMachines = [
    { hostName = "a"; system = if "a" == "a" then pass 40 sys else "x86_64-linux"; }
    { hostName = "b"; system = sys; }
  ];
}
`;
  const { a, full } = oneKeystroke(deep, deep.indexOf('"a" == "a"') + 1, 1, 'b');
  assert.equal(a.incremental, false);
  assert.deepEqual(plain(a.diagnostics), plain(full.diagnostics));
  assert.ok(full.diagnostics.some((d) => d.code === 'unknown-system'));
});

test('fixes whose text comes from a line an edit shares are written anew', () => {
  // Builder c's indented string ends on the line where extraConfig starts: the
  // HostKeyAlias fix for b takes its indentation from that line.
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnCQXlllHoLX5EvU+t6yP/npsmuxKt0skHVeJashizE';
  const text = `{
  nix.buildMachines = [ { hostName = "b"; systems = [ "x86_64-linux" ]; }
    { hostName = "c"; sshKey = ''
      /k''; } ]; programs.ssh.extraConfig = ''Host b
    Host *
      HostName b.lan
  '';
  programs.ssh.knownHosts = { b = { publicKey = "${key}";
    }; };
}
`;
  const { a, full } = oneKeystroke(text, text.indexOf('/k'), 0, ' ');
  assert.ok(full.diagnostics.some((d) => d.code === 'host-key-name-mismatch'));
  assert.deepEqual(plain(a.diagnostics), plain(full.diagnostics), a.incremental ? 'incremental' : 'full');
});

test('after a full analysis of the same read module (a lookup answered), keystrokes are still incremental', () => {
  const text = `{
  nix.buildMachines = [
    { hostName = "a.example"; systems = [ "x86_64-linux" ]; maxJobs = 2; }
    { hostName = "b.example"; systems = [ "x86_64-linux" ]; maxJobs = 2; }
  ];
}`;
  const { a, full } = oneKeystroke(text, text.indexOf('a.example') + 1, 0, 'x', { previousOf: (_first, again) => again() });
  assert.equal(a.incremental, true);
  assert.deepEqual(plain(a.diagnostics), plain(full.diagnostics));
});
