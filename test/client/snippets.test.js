// Every snippet in snippets/ expands (with its defaults, and with each choice
// of each choice placeholder) to Nix the core reads without a diagnostic,
// placed where a user would insert it.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');

const { analyze } = loadCore('analyze');
const { OFFLINE } = loadCore('environment');

const root = path.join(__dirname, '..', '..');
const snippets = require(path.join(root, 'snippets/nix-builders.json'));

// ------------------------------------------------ VS Code snippet syntax

/**
 * Parses a snippet body (TextMate/VS Code syntax: $1, ${1}, ${1:default},
 * ${1|a,b|}, \-escapes) into a tree: strings and { index, children | choices }.
 */
function parseSnippet(text) {
  let i = 0;
  function parseUntil(stop) {
    const out = [];
    let lit = '';
    const flush = () => {
      if (lit) out.push(lit);
      lit = '';
    };
    while (i < text.length) {
      const c = text[i];
      if (stop && c === stop) break;
      if (c === '\\' && i + 1 < text.length && '$}\\'.includes(text[i + 1])) {
        lit += text[i + 1];
        i += 2;
      } else if (c === '$' && /\d/.test(text[i + 1] ?? '')) {
        flush();
        const m = /^\d+/.exec(text.slice(i + 1));
        out.push({ index: Number(m[0]), children: [] });
        i += 1 + m[0].length;
      } else if (c === '$' && text[i + 1] === '{' && /\d/.test(text[i + 2] ?? '')) {
        flush();
        const m = /^\d+/.exec(text.slice(i + 2));
        const index = Number(m[0]);
        i += 2 + m[0].length;
        if (text[i] === '}') {
          out.push({ index, children: [] });
          i++;
        } else if (text[i] === ':') {
          i++;
          const children = parseUntil('}');
          assert.equal(text[i], '}', `unclosed placeholder \${${index}: in ${text}`);
          i++;
          out.push({ index, children });
        } else if (text[i] === '|') {
          const end = text.indexOf('|}', i + 1);
          assert.ok(end > i, `unclosed choice \${${index}| in ${text}`);
          const choices = text.slice(i + 1, end).split(/(?<!\\),/).map((s) => s.replace(/\\([,|\\])/g, '$1'));
          out.push({ index, choices });
          i = end + 2;
        } else {
          assert.fail(`bad placeholder at ${i} in ${text}`);
        }
      } else {
        lit += c;
        i++;
      }
    }
    flush();
    return out;
  }
  const tree = parseUntil(undefined);
  assert.equal(i, text.length, 'the whole body parses');
  return tree;
}

/** All choice placeholders of a tree: [{ index, choices }]. */
function choicesOf(tree, out = []) {
  for (const n of tree) {
    if (typeof n === 'string') continue;
    if (n.choices && !out.some((c) => c.index === n.index)) out.push(n);
    if (n.children) choicesOf(n.children, out);
  }
  return out;
}

/**
 * The text VS Code inserts: each placeholder's default (or the given choice),
 * mirrors ($1 again) repeat the first definition's value; $0 is empty.
 */
function expand(tree, picks = {}) {
  const values = new Map();
  const define = (nodes) => {
    for (const n of nodes) {
      if (typeof n === 'string' || values.has(n.index)) continue;
      if (n.choices) values.set(n.index, picks[n.index] ?? n.choices[0]);
      else if (n.children.length > 0) {
        define(n.children);
        values.set(n.index, render(n.children));
      }
    }
  };
  const render = (nodes) =>
    nodes.map((n) => (typeof n === 'string' ? n : n.index === 0 ? '' : (values.get(n.index) ?? ''))).join('');
  define(tree);
  return render(tree);
}

// ---------------------------------------------- where each snippet goes

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDfM0YyjeF0K9RNVxAvhN8VvabK8PSnGkF9i7pWqeBZ1';

/** Wraps a snippet's expansion in the module text it is meant for. */
const CONTEXT = {
  'Remote builder (nix.buildMachines entry)': (s) =>
    `{ ... }:\n{\n  nix.distributedBuilds = true;\n  nix.buildMachines = [\n${indent(s, 4)}\n  ];\n}\n`,
  'Known host (programs.ssh.knownHosts entry)': (s) =>
    `{ ... }:\n{\n  programs.ssh.knownHosts = {\n${indent(s, 4)}\n  };\n}\n`,
  'ssh Host block (in programs.ssh.extraConfig)': (s) =>
    `{ ... }:\n{\n  programs.ssh.extraConfig = ''\n${indent(s, 4)}\n  '';\n}\n`,
  'Distributed builds module': (s) => s,
};

function indent(s, n) {
  return s
    .split('\n')
    .map((l) => (l ? ' '.repeat(n) + l : l))
    .join('\n');
}

/** Host-key checks on: what the configuration itself says is all there is to know. */
const HOST_KEY_CHECKS = { ...OFFLINE, checkHostKeys: true };

function diagnosticsOf(text, env) {
  const file = '/snippets/test.nix';
  return analyze([{ path: file, text }], env).diagnostics.map((d) => `${d.severity} ${d.code}: ${d.message}`);
}

test('every snippet has a context here, a prefix and a description', () => {
  assert.deepEqual(Object.keys(snippets).sort(), Object.keys(CONTEXT).sort());
  for (const [name, s] of Object.entries(snippets)) {
    assert.ok(typeof s.prefix === 'string' && /^\w+$/.test(s.prefix), `${name}: one-word prefix`);
    assert.ok(s.description, `${name}: description`);
    assert.ok(Array.isArray(s.body) && s.body.length > 0, `${name}: body`);
  }
});

for (const [name, s] of Object.entries(snippets)) {
  const tree = parseSnippet(s.body.join('\n'));
  const wrap = CONTEXT[name];
  test(`snippet "${name}" with its defaults reads without diagnostics`, () => {
    const text = wrap(expand(tree));
    assert.deepEqual(diagnosticsOf(text, OFFLINE), [], text);
  });
  for (const { index, choices } of choicesOf(tree)) {
    test(`snippet "${name}": every choice of \${${index}|…|} reads without diagnostics`, () => {
      assert.ok(choices.length >= 2, 'a choice offers at least two values');
      for (const choice of choices) {
        const text = wrap(expand(tree, { [index]: choice }));
        assert.deepEqual(diagnosticsOf(text, OFFLINE), [], text);
      }
    });
  }
}

test('the builder, knownHosts and Host snippets together pass the host-key checks', () => {
  const builder = expand(parseSnippet(snippets['Remote builder (nix.buildMachines entry)'].body.join('\n')));
  const known = expand(parseSnippet(snippets['Known host (programs.ssh.knownHosts entry)'].body.join('\n')));
  const text = [
    '{ ... }:',
    '{',
    '  nix.distributedBuilds = true;',
    `  nix.buildMachines = [\n${indent(builder, 4)}\n  ];`,
    `  programs.ssh.knownHosts = {\n${indent(known, 4)}\n  };`,
    '}',
    '',
  ].join('\n');
  assert.deepEqual(diagnosticsOf(text, HOST_KEY_CHECKS), [], text);
});

test('the whole module passes the host-key checks, and its machines line is complete', () => {
  const text = expand(parseSnippet(snippets['Distributed builds module'].body.join('\n')));
  assert.deepEqual(diagnosticsOf(text, HOST_KEY_CHECKS), [], text);
  const { renderBuilder } = loadCore('render-machines');
  const { model } = analyze([{ path: '/snippets/module.nix', text }]);
  assert.equal(model.builders.length, 1);
  assert.equal(
    renderBuilder(model.builders[0]).line,
    'ssh-ng://nixremote@builder x86_64-linux /root/.ssh/nixremote 4 1 nixos-test,benchmark,big-parallel,kvm - -',
  );
  assert.ok(text.includes(KEY));
});

test('the snippet parser understands mirrors, nesting and escapes', () => {
  const tree = parseSnippet('a ${1:x${2:y}} $1 ${3|p,q\\,r|} \\$4 $0');
  assert.equal(expand(tree), 'a xy xy p $4 ');
  assert.equal(expand(tree, { 3: 'q,r' }), 'a xy xy q,r $4 ');
});
