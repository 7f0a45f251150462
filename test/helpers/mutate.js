// Deterministic mutations of a document for the fuzz tests: byte flips,
// truncations, random Nix tokens spliced in, ranges deleted or duplicated.
// The same seed gives the same documents on every machine.
'use strict';
const { prng } = require('../../scripts/bench/corpus');

const NIX_TOKENS = [
  '{', '}', '[', ']', '(', ')', ';', '=', ':', ',', '.', '?', '@', '...', '"', "''", '${', '//', '++', '->', '||', '&&',
  '==', '!=', '<', '>', '<=', '>=', '!', '-', '+', '*', '/', '|>', 'let', 'in', 'rec', 'with', 'inherit', 'if', 'then',
  'else', 'assert', 'or', 'import', 'builtins', 'lib.mkIf', 'lib.mkForce', 'mkDefault', 'map', 'x', 'y', 'f', 'a.b.c',
  'nix.buildMachines', 'nix.distributedBuilds', 'programs.ssh.knownHosts', 'programs.ssh.extraConfig', 'hostName',
  'systems', 'system', 'maxJobs', 'speedFactor', 'supportedFeatures', 'publicHostKey', 'sshKey', 'sshUser', 'protocol',
  '"x86_64-linux"', '"aarch64-linux"', '"kvm"', '"ssh-ng"', '"ssh://user@host"', '42', '-1', '0', '3.14', '1e9',
  '9223372036854775807', './path.nix', '/abs/path', '<nixpkgs>', '~/x', '# comment\n', '/* c */', '\n', '\r\n', '\r',
  '\t', ' ', "''\n  Host x\n    HostName y\n''", '"${ x }"', '"\\n\\"\\\\"', 'true', 'false', 'null', 'x: x', '{ a, b ? 1, ... }:',
  'imports = [ ./a.nix ];', '@/etc/nix/machines', 'ssh://b x86_64-linux - 1 1 kvm - -', '\u0000', '\ufeff', 'é', '🦀', '中文',
];

/** One mutation step on a string. */
function mutateOnce(rng, text) {
  const pos = () => rng.int(text.length + 1);
  switch (rng.int(7)) {
    case 0: {
      // Byte flips in the UTF-8 encoding, decoded again (invalid sequences become U+FFFD).
      const buf = Buffer.from(text, 'utf8');
      if (buf.length === 0) return text;
      for (let i = 0, n = rng.range(1, 8); i < n; i++) buf[rng.int(buf.length)] ^= 1 << rng.int(8);
      return rng.chance(0.8) ? buf.toString('utf8') : buf.toString('latin1');
    }
    case 1: {
      // Truncation: the end cut off, sometimes the start too.
      const end = pos();
      const start = rng.chance(0.2) ? rng.int(end + 1) : 0;
      return text.slice(start, end);
    }
    case 2:
    case 3: {
      // Random Nix tokens spliced in.
      let t = text;
      for (let i = 0, n = rng.range(1, 6); i < n; i++) {
        const at = rng.int(t.length + 1);
        const tok = rng.pick(NIX_TOKENS);
        t = t.slice(0, at) + (rng.chance(0.5) ? ` ${tok} ` : tok) + t.slice(at);
      }
      return t;
    }
    case 4: {
      // A range deleted.
      const a = pos();
      const b = Math.min(text.length, a + rng.range(1, 80));
      return text.slice(0, a) + text.slice(b);
    }
    case 5: {
      // A range duplicated elsewhere.
      const a = pos();
      const b = Math.min(text.length, a + rng.range(1, 120));
      const at = pos();
      return text.slice(0, at) + text.slice(a, b) + text.slice(at);
    }
    default: {
      // A token replaced: a run of word characters swapped for a random token.
      const re = /[A-Za-z0-9_.-]+/g;
      const words = [];
      let m;
      while ((m = re.exec(text)) !== null && words.length < 2000) words.push([m.index, m.index + m[0].length]);
      if (words.length === 0) return text;
      const [a, b] = rng.pick(words);
      return text.slice(0, a) + rng.pick(NIX_TOKENS) + text.slice(b);
    }
  }
}

/**
 * `count` mutated documents, cycling over `sources` ({ path, text }) so that
 * every source is a starting point; 1 to 3 mutation steps each.
 */
function* mutatedDocuments(sources, count, seed) {
  const rng = prng(seed);
  for (let i = 0; i < count; i++) {
    const src = sources[i % sources.length];
    let text = src.text;
    for (let s = 0, n = rng.range(1, 3); s < n; s++) text = mutateOnce(rng, text);
    yield { index: i, source: src.path, text };
  }
}

module.exports = { mutatedDocuments, mutateOnce, NIX_TOKENS };
