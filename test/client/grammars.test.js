// The TextMate grammars in syntaxes/, tokenized with VS Code's own engine
// (vscode-textmate + the Oniguruma WASM build): every pattern compiles, and
// sample lines get the scopes a theme colours.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const root = path.join(__dirname, '..', '..');
const pkg = require(path.join(root, 'package.json'));
const grammarFiles = Object.fromEntries(pkg.contributes.grammars.map((g) => [g.scopeName, path.join(root, g.path)]));

const onigLib = (async () => {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  return {
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  };
})();

const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scopeName) => {
    const file = grammarFiles[scopeName];
    return file ? vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file) : null;
  },
  getInjections: (scopeName) =>
    pkg.contributes.grammars.filter((g) => (g.injectTo ?? []).includes(scopeName)).map((g) => g.scopeName),
});

/** Tokens of a text: [{ text, scopes }] per line, all lines. */
async function tokenize(scopeName, text) {
  const grammar = await registry.loadGrammar(scopeName);
  assert.ok(grammar, `grammar ${scopeName} loads`);
  let state = vsctm.INITIAL;
  const out = [];
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) out.push({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    state = r.ruleStack;
  }
  return out;
}

/** The scopes of the (n-th) token whose text is exactly `text`. */
function scopesOf(tokens, text, n = 0) {
  const hits = tokens.filter((t) => t.text.trim() === text);
  assert.ok(hits[n], `a token "${text}" (#${n}) among ${JSON.stringify(tokens.map((t) => t.text))}`);
  return hits[n].scopes;
}

/** The scopes of the first token whose text contains `text`. */
function scopesContaining(tokens, text) {
  const hit = tokens.find((t) => t.text.includes(text));
  assert.ok(hit, `a token containing "${text}"`);
  return hit.scopes;
}

function hasScope(scopes, prefix) {
  return scopes.some((s) => s === prefix || s.startsWith(`${prefix}.`));
}

test('every pattern of every grammar compiles with Oniguruma', async () => {
  await onigLib;
  let count = 0;
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const key of ['match', 'begin', 'end', 'while']) {
      if (typeof node[key] !== 'string') continue;
      // Back-references in `end` (\1) are filled in at run time; they compile as they are.
      assert.doesNotThrow(() => new oniguruma.OnigScanner([node[key]]).dispose(), `${key}: ${node[key]}`);
      count++;
    }
    for (const v of Object.values(node)) walk(v);
  };
  for (const file of Object.values(grammarFiles)) walk(JSON.parse(fs.readFileSync(file, 'utf8')));
  assert.ok(count > 40, `${count} patterns`);
});

test('Nix: attribute paths, strings, numbers, keywords, comments', async () => {
  const t = await tokenize(
    'source.nix',
    [
      '{ config, lib, ... }: let x = 1; in {',
      '  # a comment',
      '  nix.buildMachines = [ { hostName = "a.example"; maxJobs = 3; sshKey = /root/key; } ];',
      '  nix.settings."max-jobs" = if x == 1 then 0 else 2;',
      '  f = y: y ++ [ <nixpkgs> ];',
      '}',
    ].join('\n'),
  );
  assert.ok(hasScope(scopesOf(t, 'buildMachines'), 'entity.other.attribute-name.nix'));
  assert.ok(hasScope(scopesOf(t, 'hostName'), 'entity.other.attribute-name.nix'));
  assert.ok(hasScope(scopesOf(t, 'a.example'), 'string.quoted.double.nix'));
  assert.ok(hasScope(scopesOf(t, '3'), 'constant.numeric.nix'));
  assert.ok(hasScope(scopesOf(t, '/root/key'), 'string.unquoted.path.nix'));
  assert.ok(hasScope(scopesOf(t, 'let'), 'keyword.control.nix'));
  assert.ok(hasScope(scopesOf(t, 'if'), 'keyword.control.nix'));
  assert.ok(hasScope(scopesOf(t, '=='), 'keyword.operator.nix'));
  assert.ok(hasScope(scopesOf(t, 'a comment'), 'comment.line.number-sign.nix'));
  assert.ok(hasScope(scopesOf(t, 'y'), 'variable.parameter.function.nix'));
  assert.ok(hasScope(scopesOf(t, '<nixpkgs>'), 'string.unquoted.spath.nix'));
  assert.ok(!hasScope(scopesOf(t, 'x', 1), 'entity.other.attribute-name.nix'), '`x ==` is no binding');
});

test("Nix: an indented string ends at '' but not at its escapes", async () => {
  const t = await tokenize('source.nix', "{ a = '' one ''${two} ''' three ${four} ''; b = 1; }");
  assert.ok(hasScope(scopesOf(t, "''$"), 'constant.character.escape.nix'));
  assert.ok(hasScope(scopesOf(t, "'''"), 'constant.character.escape.nix'));
  assert.ok(!hasScope(scopesOf(t, '{two}'), 'meta.embedded.interpolation.nix'), "''${ is no interpolation");
  assert.ok(hasScope(scopesOf(t, 'four'), 'meta.embedded.interpolation.nix'));
  assert.ok(hasScope(scopesOf(t, 'b'), 'entity.other.attribute-name.nix'));
  assert.ok(!hasScope(scopesOf(t, 'b'), 'string'));
});

test('ssh_config inside programs.ssh.extraConfig (the example module)', async () => {
  const text = fs.readFileSync(path.join(root, 'examples/distributed-builds.nix'), 'utf8');
  const t = await tokenize('source.nix', text);
  assert.ok(hasScope(scopesOf(t, 'Host'), 'keyword.control.section.ssh-config'));
  assert.ok(hasScope(scopesOf(t, 'ai'), 'entity.name.section.host.ssh-config'));
  assert.ok(hasScope(scopesOf(t, 'HostName'), 'keyword.other.option.ssh-config'));
  assert.ok(hasScope(scopesOf(t, 'HostName'), 'meta.embedded.block.ssh-config'));
  assert.ok(hasScope(scopesOf(t, '22'), 'constant.numeric.ssh-config'));
  // After the closing '' the Nix grammar takes over again.
  assert.ok(hasScope(scopesOf(t, 'knownHosts'), 'entity.other.attribute-name.nix'));
  assert.ok(!hasScope(scopesOf(t, 'knownHosts'), 'meta.embedded.block.ssh-config'));
  // Other indented strings stay plain strings.
  assert.ok(!hasScope(scopesContaining(t, 'builders-use-substitutes'), 'keyword.other.option.ssh-config'));
});

test('ssh_config in `programs.ssh = { extraConfig = … }`, with interpolation and escapes', async () => {
  const t = await tokenize(
    'source.nix',
    [
      '{',
      '  programs.ssh = {',
      '    knownHosts = { b = { publicKey = "k"; }; };',
      "    extraConfig = ''",
      '      # builders',
      '      Host builder ${name}',
      "        IdentityFile ''${HOME}/id",
      '        StrictHostKeyChecking yes',
      "    '';",
      '  };',
      "  services.nginx.extraConfig = ''",
      '    Host not-ssh',
      "  '';",
      '}',
    ].join('\n'),
  );
  assert.ok(hasScope(scopesContaining(t, '# builders'), 'comment.line.number-sign.ssh-config'));
  assert.ok(hasScope(scopesOf(t, 'builder'), 'entity.name.section.host.ssh-config'));
  assert.ok(hasScope(scopesOf(t, 'name'), 'meta.embedded.interpolation.nix'));
  assert.ok(hasScope(scopesOf(t, 'IdentityFile'), 'keyword.other.option.ssh-config'));
  assert.ok(hasScope(scopesOf(t, "''$"), 'constant.character.escape.nix'));
  assert.ok(hasScope(scopesOf(t, 'yes'), 'constant.language.ssh-config'));
  // Not ssh_config: another service's extraConfig.
  assert.ok(!hasScope(scopesContaining(t, 'Host not-ssh'), 'keyword.control.section.ssh-config'));
  assert.ok(hasScope(scopesContaining(t, 'Host not-ssh'), 'string.quoted.other.indented.nix'));
});

test('machines file: URI parts, systems, numbers, defaults, comments', async () => {
  const t = await tokenize(
    'source.nix-machines',
    [
      '# builders',
      'ssh-ng://nix@big.example x86_64-linux,aarch64-linux /root/.ssh/id 8 2 kvm,big-parallel - - ; ssh://b <unknown>',
      '@/etc/nix/more-machines',
    ].join('\n'),
  );
  assert.ok(hasScope(scopesOf(t, 'builders'), 'comment.line.number-sign.nix-machines'));
  assert.ok(hasScope(scopesOf(t, 'ssh-ng://'), 'keyword.other.scheme.nix-machines'));
  assert.ok(hasScope(scopesOf(t, 'nix'), 'variable.other.user.nix-machines'));
  assert.ok(hasScope(scopesOf(t, 'big.example'), 'entity.name.tag.host.nix-machines'));
  assert.ok(hasScope(scopesOf(t, 'aarch64-linux'), 'support.constant.system.nix-machines'));
  assert.ok(hasScope(scopesOf(t, '/root/.ssh/id'), 'string.unquoted.path.nix-machines'));
  assert.ok(hasScope(scopesOf(t, '8'), 'constant.numeric.nix-machines'));
  assert.ok(hasScope(scopesOf(t, '-'), 'constant.language.default.nix-machines'));
  assert.ok(hasScope(scopesOf(t, '<unknown>'), 'invalid.illegal.unknown-value.nix-machines'));
  assert.ok(hasScope(scopesOf(t, '@/etc/nix/more-machines'), 'keyword.control.import.nix-machines'));
});
