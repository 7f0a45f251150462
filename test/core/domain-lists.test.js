// Known systems, known features and did-you-mean suggestions.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { loadCore } = require('../helpers/load-ts.js');

const systems = loadCore('known-systems');
const features = loadCore('known-features');
const dym = loadCore('did-you-mean');

const ATTRS = [
  'hostName', 'protocol', 'system', 'systems', 'sshUser', 'sshKey', 'maxJobs', 'speedFactor',
  'supportedFeatures', 'mandatoryFeatures', 'publicHostKey',
];

test('system doubles: the 80 of SPEC 1.3, no duplicates, plus builtin and x86_64-v1..v4-linux', () => {
  assert.equal(systems.SYSTEM_DOUBLES.length, 80);
  assert.equal(new Set(systems.KNOWN_SYSTEMS).size, systems.KNOWN_SYSTEMS.length);
  assert.equal(systems.SYSTEM_DOUBLES[0], 'i686-cygwin');
  assert.equal(systems.SYSTEM_DOUBLES[79], 'x86_64-uefi');
  for (const s of ['x86_64-linux', 'aarch64-linux', 'riscv64-linux', 'aarch64-darwin', 'x86_64-darwin',
    'armv7l-linux', 'powerpc64le-linux', 'wasm32-wasi', 'aarch64_be-none', 'mmix-mmixware', 'builtin',
    'x86_64-v1-linux', 'x86_64-v2-linux', 'x86_64-v3-linux', 'x86_64-v4-linux']) {
    assert.ok(systems.isKnownSystem(s), s);
  }
});

test('isKnownSystem rejects typos, other case and made-up levels', () => {
  for (const s of ['x86-64-linux', 'X86_64-linux', 'aarch64-linx', 'x86_64-v5-linux', 'arm64-darwin', 'x86_64', '', ' x86_64-linux']) {
    assert.equal(systems.isKnownSystem(s), false, s);
  }
});

test('well-known features and the gccarch family', () => {
  for (const f of ['benchmark', 'big-parallel', 'kvm', 'nixos-test', 'apple-virt', 'ca-derivations',
    'recursive-nix', 'uid-range', 'builder-rpc-v0', 'gccarch-x86-64-v3', 'gccarch-znver3', 'gccarch-znver5',
    'gccarch-armv8-a', 'gccarch-armv8.1-a', 'gccarch-armv9-a', 'gccarch-cortex-a53', 'gccarch-skylake-avx512',
    'gccarch-sierraforest', 'gccarch-la64v1.0', 'gccarch-default', 'gccarch-armv8.3-a+crypto+sha2']) {
    assert.ok(features.isKnownFeature(f), f);
  }
  for (const f of ['big_parallel', 'nixos-tests', 'KVM', 'gccarch-', 'gccarch-znver9', 'gccarch-+crypto',
    'x86-64-v3', 'gccarch', 'gccarch-Znver3', '']) {
    assert.equal(features.isKnownFeature(f), false, f);
  }
  assert.ok(features.KNOWN_FEATURES.includes('gccarch-haswell'));
  assert.ok(features.KNOWN_FEATURES.includes('nixos-test'));
});

test('suggest: case-insensitive exact match wins for attribute names', () => {
  assert.deepEqual(dym.suggest('hostname', ATTRS), ['hostName']);
  assert.deepEqual(dym.suggest('sshkey', ATTRS), ['sshKey']);
  assert.deepEqual(dym.suggest('SSHUSER', ATTRS), ['sshUser']);
  // exact-in-another-case beats a closer-looking candidate
  assert.deepEqual(dym.suggest('System', ['systems', 'system']), ['system']);
});

test('suggest: typos of attributes, systems and features', () => {
  assert.deepEqual(dym.suggest('hostNmae', ATTRS), ['hostName']); // transposition
  assert.deepEqual(dym.suggest('maxjob', ATTRS), ['maxJobs']);
  assert.deepEqual(dym.suggest('sytem', ATTRS), ['system']);
  assert.deepEqual(dym.suggest('supportedFeature', ATTRS), ['supportedFeatures']);
  assert.deepEqual(dym.suggest('x86-64-linux', systems.KNOWN_SYSTEMS), ['x86_64-linux']);
  assert.deepEqual(dym.suggest('aarch64-linx', systems.KNOWN_SYSTEMS), ['aarch64-linux']);
  assert.deepEqual(dym.suggest('aarch64-lniux', systems.KNOWN_SYSTEMS), ['aarch64-linux']);
  assert.deepEqual(dym.suggest('x86_64-darwn', systems.KNOWN_SYSTEMS), ['x86_64-darwin']);
  assert.deepEqual(dym.suggest('big_parallel', features.KNOWN_FEATURES), ['big-parallel']);
  assert.deepEqual(dym.suggest('nixos-tests', features.KNOWN_FEATURES), ['nixos-test']);
  assert.deepEqual(dym.suggest('kvm2', features.KNOWN_FEATURES), ['kvm']);
});

test('suggest: nothing for words too far away', () => {
  assert.deepEqual(dym.suggest('banana', ATTRS), []);
  assert.deepEqual(dym.suggest('foo', features.KNOWN_FEATURES), []);
  assert.deepEqual(dym.suggest('', ATTRS), []);
  assert.deepEqual(dym.suggest('x', []), []);
  // 'kv' is 1 edit from 'kvm' (allowed: bound is at least 1), 'k' is 2 edits away
  assert.deepEqual(dym.suggest('kv', features.KNOWN_FEATURES), ['kvm']);
  assert.deepEqual(dym.suggest('k', features.KNOWN_FEATURES), []);
});

test('suggest: ties keep the caller order, max and maxDistance are honoured, duplicates dropped', () => {
  const c = ['gccarch-znver3', 'gccarch-znver1', 'gccarch-znver2', 'gccarch-znver1'];
  assert.deepEqual(dym.suggest('gccarch-znver', c), ['gccarch-znver3', 'gccarch-znver1', 'gccarch-znver2']);
  assert.deepEqual(dym.suggest('gccarch-znver', c, { max: 2 }), ['gccarch-znver3', 'gccarch-znver1']);
  assert.deepEqual(dym.suggest('abcd', ['abxy'], { maxDistance: 1 }), []);
  assert.deepEqual(dym.suggest('abcd', ['abxy'], { maxDistance: 2 }), ['abxy']);
  // only the closest distance is offered
  assert.deepEqual(dym.suggest('aarch64-linx', ['aarch64-none', 'aarch64-linux']), ['aarch64-linux']);
  // deterministic: same input, same output
  assert.deepEqual(dym.suggest('x86-64-linux', systems.KNOWN_SYSTEMS), dym.suggest('x86-64-linux', systems.KNOWN_SYSTEMS));
});

test('editDistance: Levenshtein with adjacent transpositions, capped at limit + 1', () => {
  assert.equal(dym.editDistance('kitten', 'sitting'), 3);
  assert.equal(dym.editDistance('linux', 'lniux'), 1);
  assert.equal(dym.editDistance('', 'abc'), 3);
  assert.equal(dym.editDistance('same', 'same'), 0);
  assert.equal(dym.editDistance('kitten', 'sitting', 1), 2);
  assert.equal(dym.editDistance('a', 'abcdef', 2), 3);
});
