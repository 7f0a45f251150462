// Differential test of the static reader against real Nix (SPEC §2.3): every
// fixture in test/fixtures/differential is evaluated by `nix-instantiate` and
// read by readModule + definitions + toPlain. Wherever the reader gives a value
// it must be Nix's value; only where it says "unknown" may Nix have anything.
//
// Each fixture's first line is `# expect: known` (the reader knows every
// compared value completely) or `# expect: partial` (it knows some and says
// unknown for the rest), so the test cannot pass by answering unknown
// everywhere. Nix is required: without nix-instantiate on PATH the test fails,
// unless NIX_BUILDERS_SKIP_NIX=1.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { loadCore } = require('../helpers/load-ts.js');

const { parseNix } = loadCore('parser');
const { readModule, definitions } = loadCore('eval/module');
const { toPlain, UNKNOWN_MARK } = loadCore('eval/to-plain');

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'differential');
/** The option paths compared in every fixture (when either side defines them). */
const PATHS = [
  'nix.buildMachines',
  'nix.distributedBuilds',
  'nix.settings',
  'nix.extraOptions',
  'programs.ssh.knownHosts',
  'programs.ssh.extraConfig',
].map((p) => p.split('.'));
/** The key toPlain gives an attribute set that may hold more than it shows. */
const MORE = '…';

const SKIP_NIX = process.env.NIX_BUILDERS_SKIP_NIX === '1';

const fixtures = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.nix'))
  .sort()
  .map((name) => {
    const file = path.join(FIXTURES, name);
    const text = fs.readFileSync(file, 'utf8');
    const m = /^# expect: (known|partial)\s*$/m.exec(text.split('\n', 1)[0] ?? '');
    return { name, file, text, expect: m ? m[1] : undefined };
  });

// ---------------------------------------------------------------- Nix side

let tmpRoot;
/** An environment in which Nix runs unprivileged, offline, and reads nothing of the user's. */
function nixEnv() {
  tmpRoot ??= fs.mkdtempSync(path.join(os.tmpdir(), 'nix-builders-differential-'));
  const dir = (name) => {
    const d = path.join(tmpRoot, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir('home'),
    NIX_STATE_DIR: dir('state'),
    NIX_CONF_DIR: dir('conf'),
    NIX_LOG_DIR: dir('log'),
    XDG_CACHE_HOME: dir('cache'),
    XDG_CONFIG_HOME: dir('config'),
    XDG_DATA_HOME: dir('data'),
    XDG_STATE_HOME: dir('xdg-state'),
    NIX_PATH: '',
  };
}

test.after(() => {
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
});

function findNix() {
  const r = spawnSync('nix-instantiate', ['--version'], { encoding: 'utf8', env: nixEnv(), timeout: 30_000 });
  if (r.error || r.status !== 0) {
    return { ok: false, why: r.error ? r.error.message : `exit ${r.status}: ${r.stderr}` };
  }
  return { ok: true, version: r.stdout.trim() };
}
const nix = findNix();

// Applies a module function as NixOS would (with empty config/lib/pkgs: the
// fixtures use only builtins), takes `config` of a module that has one, then
// looks up each option path, telling a missing path apart from a null value.
const NIX_EXPR = `{ file, paths }:
let
  m = import file;
  v = if builtins.isFunction m then m { config = { }; lib = { }; pkgs = { }; options = { }; modulesPath = "/"; } else m;
  c = if builtins.isAttrs v && (v ? config || v ? options) then v.config or { } else v;
  step = acc: k:
    if acc.found && builtins.isAttrs acc.value && acc.value ? \${k}
    then { found = true; value = acc.value.\${k}; }
    else { found = false; value = null; };
in
map (p: builtins.foldl' step { found = true; value = c; } p) (builtins.fromJSON paths)`;

/** Nix's values of PATHS in a fixture: [{ found, value }]. */
function evalWithNix(file) {
  const args = ['--store', 'dummy://', '--eval', '--strict', '--json', '-E', NIX_EXPR];
  args.push('--argstr', 'file', file, '--argstr', 'paths', JSON.stringify(PATHS));
  const r = spawnSync('nix-instantiate', args, { encoding: 'utf8', env: nixEnv(), timeout: 120_000 });
  if (r.error || r.status !== 0) {
    assert.fail(`nix-instantiate failed on ${file}:\n${r.error ? r.error.message : r.stderr}`);
  }
  return JSON.parse(r.stdout);
}

// ------------------------------------------------------------- reader side

/** The reader's values of PATHS: [{ found, partial, value }], value as plain data. */
function readWithReader(fx) {
  const root = readModule(fx.file, parseNix(fx.text));
  return PATHS.map((p) => {
    const d = definitions([root], p);
    return {
      found: d.defs.length > 0,
      partial: d.partial,
      count: d.defs.length,
      value: d.defs.length === 1 ? toPlain(d.defs[0].value) : undefined,
    };
  });
}

function countUnknowns(v) {
  if (v === UNKNOWN_MARK) return 1;
  if (Array.isArray(v)) return v.reduce((n, x) => n + countUnknowns(x), 0);
  if (v !== null && typeof v === 'object') return Object.values(v).reduce((n, x) => n + countUnknowns(x), 0);
  return 0;
}

/** How much the reader does not know of a fixture: unknown parts, and paths it could not look up. */
function unknownsOf(read) {
  let n = 0;
  for (const r of read) {
    if (r.count > 1) continue; // reported as a difference
    if (r.found) n += countUnknowns(r.value);
    else if (r.partial) n += 1;
  }
  return n;
}

// -------------------------------------------------------------- comparison

const show = (v) => {
  if (v === UNKNOWN_MARK) return '<unknown>';
  const s = JSON.stringify(v, (_k, x) => (x === UNKNOWN_MARK ? '<unknown>' : x));
  return s === undefined ? String(v) : s.length > 200 ? `${s.slice(0, 200)}…` : s;
};
const key = (k) => (/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(k) ? `.${k}` : `.${JSON.stringify(k)}`);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Pushes to `diffs` every place where the reader's plain value `ours`
 * contradicts Nix's JSON value `theirs`. An unknown mark matches anything; a
 * list ending with the mark is incomplete (its known elements must appear in
 * Nix's list, in order); a set with the `…` key may have more attributes.
 */
function compare(ours, theirs, where, diffs) {
  if (ours === UNKNOWN_MARK) return;
  if (Array.isArray(ours)) {
    if (!Array.isArray(theirs)) {
      diffs.push(`${where}: reader has the list ${show(ours)}, Nix has ${show(theirs)}`);
      return;
    }
    const open = ours.length > 0 && ours[ours.length - 1] === UNKNOWN_MARK;
    const items = open ? ours.slice(0, -1) : ours;
    if (!open) {
      if (items.length !== theirs.length) {
        diffs.push(`${where}: reader has ${items.length} elements ${show(ours)}, Nix has ${theirs.length} ${show(theirs)}`);
        return;
      }
      items.forEach((x, i) => compare(x, theirs[i], `${where}[${i}]`, diffs));
      return;
    }
    // Greedy leftmost matching finds an in-order embedding whenever one exists.
    let j = 0;
    for (let i = 0; i < items.length; i++) {
      while (j < theirs.length && !matches(items[i], theirs[j])) j++;
      if (j === theirs.length) {
        diffs.push(
          `${where}: element ${i} ${show(items[i])} of the reader's incomplete list is not in Nix's list ` +
            `(in order): reader ${show(ours)}, Nix ${show(theirs)}`,
        );
        return;
      }
      j++;
    }
    return;
  }
  if (isObject(ours)) {
    if (!isObject(theirs)) {
      diffs.push(`${where}: reader has the set ${show(ours)}, Nix has ${show(theirs)}`);
      return;
    }
    const open = ours[MORE] === UNKNOWN_MARK;
    for (const k of Object.keys(ours)) {
      if (open && k === MORE) continue;
      if (!Object.hasOwn(theirs, k)) diffs.push(`${where}${key(k)}: reader has ${show(ours[k])}, Nix has no such attribute`);
      else compare(ours[k], theirs[k], `${where}${key(k)}`, diffs);
    }
    if (!open) {
      for (const k of Object.keys(theirs)) {
        if (!Object.hasOwn(ours, k)) diffs.push(`${where}${key(k)}: Nix has ${show(theirs[k])}, the reader's complete set has no such attribute`);
      }
    }
    return;
  }
  if (typeof ours === 'number' && typeof theirs === 'number') {
    // Older Nix prints floats in JSON with 6 significant digits.
    if (ours === theirs || Number(ours.toPrecision(6)) === theirs) return;
  } else if (ours === theirs) {
    return;
  }
  diffs.push(`${where}: reader has ${show(ours)}, Nix has ${show(theirs)}`);
}

function matches(ours, theirs) {
  const d = [];
  compare(ours, theirs, '', d);
  return d.length === 0;
}

/** All differences between the reader's and Nix's values of PATHS. */
function differences(read, evaluated) {
  const diffs = [];
  PATHS.forEach((p, i) => {
    const where = p.join('.');
    const r = read[i];
    const n = evaluated[i];
    if (r.count > 1) {
      diffs.push(`${where}: the reader gives ${r.count} definitions, expected one`);
    } else if (r.found && !n.found) {
      diffs.push(`${where}: reader has ${show(r.value)}, Nix has no such option`);
    } else if (!r.found && n.found && !r.partial) {
      diffs.push(`${where}: Nix has ${show(n.value)}, the reader finds no definition (and says it read everything)`);
    } else if (r.found && n.found) {
      compare(r.value, n.value, where, diffs);
    }
  });
  return diffs;
}

// ------------------------------------------------------------------- tests

test('nix-instantiate is available (install Nix, e.g. Debian nix-bin, or set NIX_BUILDERS_SKIP_NIX=1)', (t) => {
  if (nix.ok) return;
  if (SKIP_NIX) {
    t.skip('NIX_BUILDERS_SKIP_NIX=1: the comparisons with Nix are skipped');
    return;
  }
  assert.fail(
    `nix-instantiate is not on PATH or does not run (${nix.why}). The differential test needs Nix: ` +
      'install it (Debian/Ubuntu: apt-get install nix-bin), or set NIX_BUILDERS_SKIP_NIX=1 to skip it.',
  );
});

test('the fixtures: at least 20, each with an `# expect:` line, most fully known', () => {
  assert.ok(fixtures.length >= 20, `only ${fixtures.length} fixtures in ${FIXTURES}`);
  const missing = fixtures.filter((f) => !f.expect).map((f) => f.name);
  assert.deepEqual(missing, [], 'fixtures whose first line is not `# expect: known` or `# expect: partial`');
  const known = fixtures.filter((f) => f.expect === 'known').length;
  assert.ok(known * 3 >= fixtures.length * 2, `only ${known} of ${fixtures.length} fixtures are expected to be fully known`);
});

for (const fx of fixtures) {
  test(`${fx.name}: the reader's knowledge is as the fixture's "# expect: ${fx.expect}" says`, () => {
    const read = readWithReader(fx);
    assert.ok(read[0].found, `${fx.name}: the reader finds no nix.buildMachines`);
    const unknowns = unknownsOf(read);
    const report = PATHS.map((p, i) => `  ${p.join('.')}: ${read[i].found ? show(read[i].value) : read[i].partial ? '<not found, partial>' : '<absent>'}`);
    if (fx.expect === 'known') {
      assert.equal(unknowns, 0, `${fx.name} should be fully known but has ${unknowns} unknown part(s):\n${report.join('\n')}`);
    } else {
      assert.ok(unknowns > 0, `${fx.name} is marked partial but the reader knows everything:\n${report.join('\n')}`);
    }
  });

  test(`${fx.name}: the reader agrees with nix-instantiate`, { skip: nix.ok ? false : 'nix-instantiate is not available' }, () => {
    const evaluated = evalWithNix(fx.file);
    assert.ok(evaluated[0].found, `${fx.name}: Nix finds no nix.buildMachines`);
    const diffs = differences(readWithReader(fx), evaluated);
    if (diffs.length > 0) {
      const shown = diffs.slice(0, 20);
      if (diffs.length > shown.length) shown.push(`… and ${diffs.length - shown.length} more`);
      assert.fail(`${fx.name}: the reader contradicts Nix:\n  ${shown.join('\n  ')}`);
    }
  });
}
