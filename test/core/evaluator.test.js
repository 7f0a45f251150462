// The static reader (SPEC §2.3) through its public entry points: readModule +
// toPlain for values, definitions() for option paths, analyze() for what the
// rules then see. Unknown parts are the UNKNOWN mark, never a guess.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { loadCore } = require('../helpers/load-ts');

const { analyze } = loadCore('analyze');
const { parseNix } = loadCore('parser');
const { readModule, definitions, winning } = loadCore('eval/module');
const { toPlain } = loadCore('eval/to-plain');

const U = { unknown: true };
const FILE = '/cfg/t.nix';

/** The plain value of a whole file read as a module (its config part). */
function read(text) {
  return toPlain(readModule(FILE, parseNix(text)).config);
}

/** The plain value of one expression; `head` may open a module function or a let. */
function value(expr, head = '{ lib, ... }: ') {
  const v = read(`${head}{ x = ${expr}; }`);
  assert.equal(typeof v, 'object', `not an attribute set: ${JSON.stringify(v)}`);
  return v.x;
}

function run(text) {
  return analyze([{ path: FILE, text }]);
}

/** Definitions of an option path, as plain values. */
function defs(text, path) {
  const a = run(text);
  const d = definitions(a.roots, path.split('.'));
  return { plain: d.defs.map((x) => toPlain(x.value)), defs: d.defs, partial: d.partial, analysis: a };
}

/** Diagnostics as [code, the text they cover]. */
function diags(text) {
  return run(text).diagnostics.map((d) => [d.code, text.slice(d.span.start, d.span.end)]);
}

/** The builders of the model as plain attribute sets. */
function builders(text) {
  return run(text).model.builders.map((b) => {
    const o = {};
    for (const [k, a] of b.attrs) o[k] = toPlain(a.value);
    return o;
  });
}

const ON = 'nix.distributedBuilds = true;';

test('let, rec, with, inherit and inherit (e)', () => {
  assert.deepEqual(value('let a = 1; b = a + 1; in [ a b ]'), [1, 2]);
  assert.deepEqual(value('rec { a = 1; b = a + 1; c = "${toString b}!"; }'), { a: 1, b: 2, c: '2!' });
  assert.deepEqual(value('with { a = 1; b = 2; }; [ a b ]'), [1, 2]);
  // A lexical binding wins over any `with`; the innermost `with` wins among them.
  assert.deepEqual(value('let a = "let"; in with { a = "with"; }; a'), 'let');
  assert.deepEqual(value('with { a = "outer"; }; with { a = "inner"; }; a'), 'inner');
  assert.deepEqual(value('let a = 1; in { inherit a; }'), { a: 1 });
  assert.deepEqual(value('let s = { a = 1; b = { c = 2; }; }; in { inherit (s) a b; }'), { a: 1, b: { c: 2 } });
  // inherit inside rec and let reads the enclosing scope, as in Nix.
  assert.deepEqual(value('let a = 1; in rec { inherit a; b = a + 1; }'), { a: 1, b: 2 });
  // A name nobody defines is unknown, not an error.
  assert.deepEqual(value('[ 1 undefinedName ]'), [1, U]);
  // An unknown `with` makes free names unknown, but lexical ones stay known.
  assert.deepEqual(value('let a = 1; in with config; [ a b ]', '{ config, ... }: '), [1, U]);
});

test('attribute paths are merged across bindings', () => {
  const text = `{
    nix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ];
    nix = { distributedBuilds = true; };
    nix.settings.max-jobs = 0;
    nix.settings = { builders-use-substitutes = true; };
  }`;
  assert.deepEqual(read(text), {
    nix: {
      buildMachines: [{ hostName: 'a', system: 'x86_64-linux' }],
      distributedBuilds: true,
      settings: { 'builders-use-substitutes': true, 'max-jobs': 0 },
    },
  });
  const a = run(text);
  assert.equal(a.model.builders.length, 1);
  assert.deepEqual(a.model.distributedBuilds.defs.map((d) => toPlain(d.value)), [true]);
  assert.deepEqual(a.model.settings.maxJobs.defs.map((d) => toPlain(d.value)), [0]);
  // Merged, so distributed-builds-off sees the `nix = { … }` definition.
  assert.deepEqual(a.diagnostics.map((d) => d.code), []);
});

test('++ and // (the right side wins)', () => {
  assert.deepEqual(value('[ 1 ] ++ [ 2 3 ] ++ [ ]'), [1, 2, 3]);
  assert.deepEqual(value('{ a = 1; b = 1; } // { b = 2; c = 3; }'), { a: 1, b: 2, c: 3 });
  assert.deepEqual(value('({ a = 1; } // { a = 2; }) // { a = 3; }'), { a: 3 });
  // An unknown left side leaves the right side's attributes known.
  const left = value('config.x // { a = 1; }', '{ config, ... }: ');
  assert.equal(left.a, 1);
  // An unknown right side could override anything.
  assert.deepEqual(value('{ a = 1; } // config.x', '{ config, ... }: '), U);
  // A known list concatenated with an unknown one keeps its known elements, open-ended.
  assert.deepEqual(value('[ 1 ] ++ config.more', '{ config, ... }: '), [1, U]);
});

test('if with known and unknown conditions', () => {
  assert.equal(value('if true then "yes" else "no"'), 'yes');
  assert.equal(value('if 1 == 2 then "yes" else "no"'), 'no');
  assert.equal(value('if "a" + "b" == "ab" && !false then 1 else 2'), 1);
  assert.deepEqual(value('if config.x.enable then 1 else 2', '{ config, ... }: '), U);
  // || and && short-circuit on a known side even when the other is unknown.
  assert.equal(value('if config.x || true then 1 else 2', '{ config, ... }: '), 1);
  assert.equal(value('if false && config.x then 1 else 2', '{ config, ... }: '), 2);
});

test('helper lambdas and map over literal lists', () => {
  const head = `let mkBuilder = hostName: system: maxJobs: { inherit hostName system maxJobs; speedFactor = 2; }; in `;
  assert.deepEqual(value('mkBuilder "a" "x86_64-linux" 4', head), { hostName: 'a', system: 'x86_64-linux', maxJobs: 4, speedFactor: 2 });
  assert.deepEqual(
    value('map (h: { hostName = h; systems = [ "x86_64-linux" ]; }) [ "a" "b" ]'),
    [{ hostName: 'a', systems: ['x86_64-linux'] }, { hostName: 'b', systems: ['x86_64-linux'] }],
  );
  // Formals with defaults, and `@` patterns.
  assert.deepEqual(value('({ a, b ? 2, ... }@args: [ a b args.c ]) { a = 1; c = 3; }'), [1, 2, 3]);
  assert.deepEqual(
    builders(`{ lib, ... }: let mk = { name, jobs ? 1 }: { hostName = name; system = "x86_64-linux"; maxJobs = jobs; }; in {
      ${ON}
      nix.buildMachines = [ (mk { name = "a"; }) (mk { name = "b"; jobs = 8; }) ] ++ map (n: mk { name = n; }) [ "c" ];
    }`),
    [
      { hostName: 'a', system: 'x86_64-linux', maxJobs: 1 },
      { hostName: 'b', system: 'x86_64-linux', maxJobs: 8 },
      { hostName: 'c', system: 'x86_64-linux', maxJobs: 1 },
    ],
  );
});

// Each function with an argument list and the expected result; every one is tried
// as lib.f, with `with lib;`, through `inherit (lib) f;` and, where Nix has it, builtins.f.
const FUNCTIONS = [
  ['map', '(x: x * 2) [ 1 2 3 ]', [2, 4, 6], true],
  ['filter', '(x: x != "b") [ "a" "b" "c" ]', ['a', 'c'], true],
  ['elemAt', '[ "a" "b" "c" ] 1', 'b', true],
  ['head', '[ "first" "second" ]', 'first', true],
  ['listToAttrs', '[ { name = "a"; value = 1; } { name = "b"; value = 2; } { name = "a"; value = 3; } ]', { a: 1, b: 2 }, true],
  ['attrValues', '{ b = 2; a = 1; c = 3; }', [1, 2, 3], true],
  ['attrNames', '{ b = 2; a = 1; }', ['a', 'b'], true],
  ['mapAttrs', '(name: v: "${name}=${toString v}") { a = 1; b = 2; }', { a: 'a=1', b: 'b=2' }, true],
  ['mapAttrsToList', '(name: v: { hostName = name; maxJobs = v; }) { b = 2; a = 1; }', [{ hostName: 'a', maxJobs: 1 }, { hostName: 'b', maxJobs: 2 }], false],
  ['genAttrs', '[ "a" "b" ] (n: n + "!")', { a: 'a!', b: 'b!' }, false],
  ['concatMap', '(x: [ x x ]) [ 1 2 ]', [1, 1, 2, 2], true],
  ['flatten', '[ 1 [ 2 [ 3 [ ] ] ] [ [ 4 ] ] ]', [1, 2, 3, 4], false],
  ['optional', 'true "x"', ['x'], false],
  ['optional', 'false "x"', [], false],
  ['optionals', 'true [ 1 2 ]', [1, 2], false],
  ['optionals', 'false [ 1 2 ]', [], false],
  ['optionalString', 'true "on"', 'on', false],
  ['optionalString', 'false "on"', '', false],
  ['removeAttrs', '{ a = 1; b = 2; c = 3; } [ "a" "c" ]', { b: 2 }, true],
  ['concatStringsSep', '" ; " [ "ssh://a x86_64-linux" "ssh://b" ]', 'ssh://a x86_64-linux ; ssh://b', true],
  ['toString', '[ 1 "a" true null 2.5 ]', '1 a 1  2.500000', true],
];

for (const [name, args, expected, inBuiltins] of FUNCTIONS) {
  test(`${name} ${args.slice(0, 30)}… under lib., with lib;, inherit (lib)${inBuiltins ? ' and builtins.' : ''}`, () => {
    assert.deepEqual(value(`lib.${name} ${args}`), expected, `lib.${name}`);
    assert.deepEqual(value(`with lib; ${name} ${args}`), expected, `with lib; ${name}`);
    assert.deepEqual(value(`${name} ${args}`, `{ lib, ... }: let inherit (lib) ${name}; in `), expected, `inherit (lib) ${name}`);
    if (inBuiltins) assert.deepEqual(value(`builtins.${name} ${args}`), expected, `builtins.${name}`);
  });
}

test('lib functions keep what is known of partly unknown input', () => {
  const head = '{ lib, config, ... }: ';
  assert.deepEqual(value('map (x: x + 1) ([ 1 ] ++ config.more)', head), [2, U]);
  // An unknown condition keeps the content readable, and the list open.
  assert.deepEqual(value('lib.optional config.x.enable "a"', head), ['a', U]);
  assert.deepEqual(value('lib.optionals config.x.enable [ "a" ]', head), ['a', U]);
  assert.deepEqual(value('lib.optionalString config.x.enable "a"', head), U);
  assert.deepEqual(value('builtins.elemAt config.list 0', head), U);
  assert.deepEqual(value('builtins.head [ ]', head), U);
  assert.deepEqual(value('builtins.concatStringsSep "," [ "a" config.b ]', head), U);
  assert.deepEqual(value('lib.attrNames (config.more // { a = 1; })', head), ['a', U]);
  assert.deepEqual(value('lib.attrNames ({ a = 1; } // config.more)', head), U);
});

test('string interpolation and indented strings', () => {
  assert.equal(value('let user = "ryan"; host = "b1"; in "ssh://${user}@${host}"'), 'ssh://ryan@b1');
  assert.equal(value('"jobs=${toString 4}"'), 'jobs=4');
  // Strict interpolation of a number is an error in Nix: unknown here.
  assert.deepEqual(value('"jobs=${4}"'), U);
  assert.deepEqual(value('"${config.x}-suffix"', '{ config, ... }: '), U);
  assert.equal(value("''\n    Host a\n      HostName 10.0.0.1\n  ''"), 'Host a\n  HostName 10.0.0.1\n');
  assert.equal(value("''\n  a ''${b} '''c''' ${\"d\"}\n''"), "a ${b} ''c'' d\n");
  assert.equal(value('"tab\\there\\nnewline \\${not} \\\\"'), 'tab\there\nnewline ${not} \\');
});

test('mkIf: known true and false, and an unknown condition that keeps the content readable', () => {
  const machines = '[ { hostName = "a"; systems = [ "x86_64-linux" ]; } ]';
  const on = (cond) => `{ lib, config, ... }: { ${ON} nix.buildMachines = lib.mkIf ${cond} ${machines}; }`;
  assert.deepEqual(run(on('true')).model.builders.map((b) => b.conditional), [false]);
  assert.deepEqual(run(on('false')).model.builders, []);
  assert.deepEqual(run(on('config.x.enable')).model.builders.map((b) => b.conditional), [true]);
  // The whole module under mkIf, the NixOS way (`config = mkIf cfg.enable { … }`).
  const whole = run(`{ lib, config, ... }: { options = { }; config = lib.mkIf config.services.x.enable {
    ${ON} nix.buildMachines = [ { hostName = "a"; systems = [ "x86-64-linux" ]; } ]; }; }`);
  assert.deepEqual(whole.model.builders.map((b) => b.conditional), [true]);
  // Content under an unknown condition is still checked.
  assert.deepEqual(whole.diagnostics.map((d) => d.code), ['unknown-system']);
  // mkIf on one attribute: false removes it, unknown keeps it.
  assert.deepEqual(
    builders(`{ lib, config, ... }: { ${ON} nix.buildMachines = [ {
      hostName = "a"; system = "x86_64-linux";
      maxJobs = lib.mkIf false 8; speedFactor = lib.mkIf config.fast 4; sshUser = lib.mkIf true "nix";
    } ]; }`),
    [{ hostName: 'a', system: 'x86_64-linux', speedFactor: 4, sshUser: 'nix' }],
  );
});

test('mkMerge, mkForce, mkDefault, mkOverride, mkBefore and mkAfter', () => {
  const b = (h) => `[ { hostName = "${h}"; system = "x86_64-linux"; } ]`;
  const hosts = (expr) => run(`{ lib, ... }: { ${ON} nix.buildMachines = ${expr}; }`).model.builders.map((x) => toPlain(x.attrs.get('hostName').value));
  assert.deepEqual(hosts(`lib.mkMerge [ ${b('a')} ${b('b')} ]`), ['a', 'b']);
  assert.deepEqual(hosts(`lib.mkMerge [ (lib.mkForce ${b('forced')}) ${b('plain')} ]`), ['forced']);
  assert.deepEqual(hosts(`lib.mkMerge [ (lib.mkDefault ${b('default')}) ${b('plain')} ]`), ['plain']);
  assert.deepEqual(hosts(`lib.mkMerge [ (lib.mkDefault ${b('default')}) ]`), ['default']);
  assert.deepEqual(hosts(`lib.mkMerge [ (lib.mkOverride 10 ${b('ten')}) (lib.mkForce ${b('forced')}) ]`), ['ten']);
  assert.deepEqual(hosts(`lib.mkMerge [ (lib.mkOverride 2000 ${b('late')}) (lib.mkDefault ${b('default')}) ]`), ['default']);
  assert.deepEqual(hosts(`lib.mkMerge [ (lib.mkBefore ${b('before')}) (lib.mkAfter ${b('after')}) ]`), ['before', 'after']);
  // Priorities across separate definitions (two bindings of the same option in two files).
  const two = analyze([
    { path: '/cfg/a.nix', text: `{ lib, ... }: { nix.buildMachines = lib.mkForce ${b('a')}; }` },
    { path: '/cfg/b.nix', text: `{ nix.buildMachines = ${b('b')}; }` },
  ]);
  const d = definitions(two.roots, ['nix', 'buildMachines']);
  assert.deepEqual(d.defs.map((x) => x.priority).sort(), [100, 50]);
  assert.deepEqual(winning(d.defs).map((x) => toPlain(x.value)), [[{ hostName: 'a', system: 'x86_64-linux' }]]);
  assert.deepEqual(two.model.builders.map((x) => x.file), ['/cfg/a.nix']);
  // Inside a builder, mkDefault / mkForce wrappers are transparent.
  assert.deepEqual(
    builders(`{ lib, ... }: { ${ON} nix.buildMachines = [ { hostName = lib.mkForce "a"; system = lib.mkDefault "x86_64-linux"; } ]; }`),
    [{ hostName: 'a', system: 'x86_64-linux' }],
  );
});

test('definitions() follows config, mkIf, mkMerge and attribute nesting', () => {
  const r = defs(
    `{ lib, ... }: { config = lib.mkMerge [
      { nix.settings.max-jobs = 0; }
      (lib.mkIf true { nix = { settings = { max-jobs = lib.mkForce 4; }; }; })
      (lib.mkIf false { nix.settings.max-jobs = 99; })
    ]; }`,
    'nix.settings.max-jobs',
  );
  assert.deepEqual(r.plain, [0, 4]);
  assert.deepEqual(r.defs.map((d) => d.priority), [100, 50]);
  assert.equal(r.partial, false);
  // An unknown part of the configuration makes the answer partial…
  assert.equal(defs('{ config, ... }: { nix = config.x; }', 'nix.settings.max-jobs').partial, true);
  // …but a file whose whole value is not a module (a package, a shell) is left
  // out: it would otherwise silence every configuration-wide check.
  assert.equal(defs('{ config, ... }: config.x', 'nix.settings.max-jobs').partial, false);
  assert.equal(defs('{ imports = [ ./x.nix ]; nix.settings = { } // (import ./y.nix); }', 'nix.settings.max-jobs').partial, true);
});

test('a list with one unknown element still has its literal elements checked', () => {
  const text = `{ config, ... }: { ${ON} nix.buildMachines = [ {
    hostName = "a";
    systems = [ config.x "x86-64-linux" ];
    supportedFeatures = [ "kvm" config.y "big-paralel" ];
  } ]; }`;
  assert.deepEqual(diags(text), [
    ['unknown-system', '"x86-64-linux"'],
    ['unknown-feature', '"big-paralel"'],
  ]);
  // A whole builder list with an unknown tail keeps its literal builders.
  assert.deepEqual(diags(`{ config, ... }: { ${ON} nix.buildMachines = config.extra ++ [ { hostName = "b"; system = "x86-64-linux"; } ]; }`), [
    ['unknown-system', '"x86-64-linux"'],
  ]);
});

test('unknown values never produce diagnostics', () => {
  const head = '{ config, pkgs, lib, ... }: ';
  const texts = [
    // Every attribute unknown.
    `{ ${ON} nix.buildMachines = [ {
      hostName = config.a; system = config.b; systems = config.c; sshUser = config.d; sshKey = config.e;
      maxJobs = config.f; speedFactor = pkgs.g; supportedFeatures = config.h; mandatoryFeatures = config.i;
      publicHostKey = config.j; protocol = config.k;
    } ]; }`,
    // Builders that are entirely unknown, or built from unknown data.
    `{ ${ON} nix.buildMachines = config.builders; }`,
    `{ ${ON} nix.buildMachines = [ config.one (import ./two.nix) ]; }`,
    `{ ${ON} nix.buildMachines = map (h: { hostName = h.name; systems = h.systems; }) config.hosts; }`,
    `{ ${ON} nix.buildMachines = [ ({ hostName = "a"; } // config.rest) ]; }`,
    // distributedBuilds, max-jobs and builders unknown.
    `{ nix.distributedBuilds = config.x; nix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ]; }`,
    `{ nix.distributedBuilds = lib.mkIf config.x true; nix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ]; }`,
    `{ nix.settings.max-jobs = config.jobs; nix.settings.builders = config.builders; }`,
    `{ nix.settings.max-jobs = 0; nix.settings.builders = "\${config.b} x86_64-linux"; }`,
    `{ nix.extraOptions = config.extra; programs.ssh.knownHosts = config.hosts; }`,
    `{ nix.settings.max-jobs = 0; nix.extraOptions = config.extra; }`,
    `{ nix.settings.max-jobs = 0; nix.extraOptions = ''
  builders = \${config.b}
''; }`,
    `{ programs.ssh.knownHosts.b.publicKey = config.key; }`,
    `with config; { ${ON} nix.buildMachines = [ { hostName = host; systems = [ system ]; maxJobs = jobs; } ]; }`,
  ];
  for (const t of texts) assert.deepEqual(diags(head + t), [], t);
});

test('a value reached through let / inherit / a lambda argument is reported once, at the literal', () => {
  const three = (body) => `{ ${ON} nix.buildMachines = [ ${body('a')} ${body('b')} ${body('c')} ]; }`;
  const cases = [
    ['let', `let sys = "x86-64-linux"; in ${three((h) => `{ hostName = "${h}"; system = sys; }`)}`],
    ['inherit', `let system = "x86-64-linux"; in ${three((h) => `{ hostName = "${h}"; inherit system; }`)}`],
    ['inherit (e)', `let common = { systems = [ "x86-64-linux" ]; }; in ${three((h) => `{ hostName = "${h}"; inherit (common) systems; }`)}`],
    ['rec', `let c = rec { s = "x86-64-linux"; systems = [ s ]; }; in ${three((h) => `{ hostName = "${h}"; inherit (c) systems; }`)}`],
    ['lambda', `let mk = host: sys: { hostName = host; system = sys; }; s = "x86-64-linux"; in ${three((h) => `(mk "${h}" s)`)}`],
    ['map', `{ ${ON} nix.buildMachines = map (h: { hostName = h; systems = [ "x86-64-linux" ]; }) [ "a" "b" "c" ]; }`],
    ['with', `with { sys = "x86-64-linux"; }; ${three((h) => `{ hostName = "${h}"; system = sys; }`)}`],
  ];
  for (const [name, text] of cases) {
    const a = run(text);
    assert.equal(a.model.builders.length, 3, name);
    const got = a.diagnostics.map((d) => [d.code, text.slice(d.span.start, d.span.end)]);
    assert.deepEqual(got, [['unknown-system', '"x86-64-linux"']], name);
    // The span is the one literal in the file.
    assert.equal(a.diagnostics[0].span.start, text.indexOf('"x86-64-linux"'), name);
  }
  // The same for a wrong type shared through a helper, and for a feature.
  const text = `let mk = h: { hostName = h; system = "x86_64-linux"; maxJobs = "3"; supportedFeatures = [ "kvmm" ]; }; in
    { ${ON} nix.buildMachines = map mk [ "a" "b" "c" ]; }`;
  assert.deepEqual(diags(text), [
    ['wrong-type', '"3"'],
    ['unknown-feature', '"kvmm"'],
  ]);
});

test('limits: deep nesting, self reference, mutual and exponential recursion all end as unknown', () => {
  const N = 100_000;
  const builder = `${ON} nix.buildMachines = [ { hostName = "a"; system = "x86-64-linux"; } ];`;
  const cases = [
    ['lists', '['.repeat(N) + ']'.repeat(N)],
    ['sets', '{ a = '.repeat(N) + '1' + '; }'.repeat(N)],
    ['parentheses', '('.repeat(N) + '1' + ')'.repeat(N)],
    ['attribute path', `{ ${Array(N).fill('a').join('.')} = 1; }`],
    ['let chain', `let ${Array.from({ length: 2000 }, (_, i) => `a${i + 1} = a${i};`).join(' ')} a0 = 1; in a2000`],
    ['self reference', 'let a = a; in a'],
    ['rec self reference', 'rec { a = b; b = a; }.a'],
    ['mutual recursion', 'let f = x: g x; g = x: f x; in f 1'],
    ['exponential list', 'let f = x: [ (f x) (f x) ]; in f 1'],
    ['exponential set', 'let f = x: { a = f x; b = f x; }; in f 1'],
    ['exponential sum', 'let f = x: f x + f x; in f 1'],
    ['exponential concat', 'let f = x: (f x) ++ (f x); in builtins.concatLists [ (f 1) ]'],
    ['exponential flatten', 'let f = x: [ (f x) (f x) ]; in lib.flatten (f 1)'],
    ['exponential mapAttrs', 'let f = x: lib.mapAttrs (n: v: f v) { a = x; b = x; }; in f 1'],
  ];
  for (const [name, expr] of cases) {
    const start = Date.now();
    // As a value nobody reads, as the builders themselves, and fully forced.
    const text = `{ lib, ... }: { x = ${expr}; ${builder} }`;
    const a = run(text);
    assert.deepEqual(a.diagnostics.map((d) => d.code), ['unknown-system'], name);
    const plain = toPlain(a.roots[0].config);
    assert.ok(plain.x !== undefined, name);
    const asBuilders = run(`{ lib, ... }: { ${ON} nix.buildMachines = ${expr}; y = ${expr}; }`);
    toPlain(asBuilders.roots[0].config);
    for (const d of asBuilders.diagnostics) assert.notEqual(d.code, 'unknown-system', name);
    assert.ok(Date.now() - start < 5000, `${name} took ${Date.now() - start} ms`);
  }
  // The cyclic ones are unknown, not a guess.
  assert.deepEqual(value('let a = a; in a'), U);
  assert.deepEqual(value('let f = x: g x; g = x: f x; in f 1'), U);
  assert.deepEqual(value('(' .repeat(N) + '1' + ')'.repeat(N)), U);
});

test('syntax the grammar does not parse: the rest of the file is read, and nothing is said about syntax', () => {
  const builder = '{ hostName = "b"; systems = [ "x86_64-linux" ]; }';
  const texts = [
    // A trailing comma in formals (accepted by newer Nix).
    `{ config, lib, }: { ${ON} nix.buildMachines = [ ${builder} ]; }`,
    `{ config, lib, ... , }: { ${ON} nix.buildMachines = [ ${builder} ]; }`,
    // The pipe operators (experimental in Nix 2.24).
    `{ ... }: { x = [ 1 ] |> map (y: y); ${ON} nix.buildMachines = [ ${builder} ]; }`,
    `{ ... }: { ${ON} nix.buildMachines = [ ${builder} ]; z = f <| 1; }`,
  ];
  for (const t of texts) {
    const a = run(t);
    assert.deepEqual(a.model.builders.map((b) => toPlain(b.attrs.get('hostName').value)), ['b'], t);
    assert.deepEqual(a.diagnostics, [], t);
  }
  // A real problem next to unparsable syntax is still reported, and only it.
  const t = `{ a, b, }: { ${ON} nix.buildMachines = [ { hostName = "b"; systems = [ "x86-64-linux" ]; } ]; }`;
  assert.deepEqual(diags(t), [['unknown-system', '"x86-64-linux"']]);
});
