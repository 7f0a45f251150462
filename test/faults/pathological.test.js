// Pathological inputs, answered without a crash or a stack overflow and within
// a bound: by the analysis core, by the CLI, and by the language server (hover,
// completion and code actions on each document). Also: an @file include cycle
// in machines files, an `imports` cycle between files, and files deleted while
// the server indexes the workspace.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { loadCore } = require('../helpers/load-ts');
const { prng } = require('../../scripts/bench/corpus');
const { LspClient, ensureBuilt } = require('../../scripts/bench/lsp');

const { analyze } = loadCore('analyze');
const { LineIndex } = loadCore('span');
const { OFFLINE } = loadCore('environment');

const root = path.resolve(__dirname, '..', '..');
const DEEP = 100_000;

/** Runs fn, returns [ms, result]. */
function timed(fn) {
  const t0 = performance.now();
  const r = fn();
  return [performance.now() - t0, r];
}

function assertRangesInside(a, files) {
  for (const d of a.diagnostics) {
    const text = files.get(d.span.file);
    assert.ok(text !== undefined, `${d.code} in a file that was not given: ${d.span.file}`);
    assert.ok(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= text.length, `${d.code} [${d.span.start}, ${d.span.end}) outside ${d.span.file} (${text.length})`);
    for (const f of d.fixes) {
      for (const e of f.edits) {
        const t = files.get(e.span.file);
        assert.ok(t !== undefined && e.span.start >= 0 && e.span.start <= e.span.end && e.span.end <= t.length, `${d.code} fix outside its file`);
      }
    }
  }
}

/** Analyses one document within `boundMs`; ranges inside it. */
function analyzeWithin(file, text, boundMs, env) {
  const [ms, a] = timed(() => analyze([{ path: file, text }], env));
  assert.ok(ms < boundMs, `${path.basename(file)}: ${Math.round(ms)} ms, bound ${boundMs} ms`);
  assertRangesInside(a, new Map([[file, text]]));
  return { a, ms };
}

const codesAndText = (a, text) => a.diagnostics.map((d) => `${d.code} ${JSON.stringify(text.slice(d.span.start, d.span.end))}`).sort();

// ------------------------------------------------------------------ the documents

function deepList(n) {
  return `{ nix.buildMachines = ${'['.repeat(n)}${']'.repeat(n)}; }`;
}
function deepSet(n) {
  return `{ nix.buildMachines = ${'{ a = '.repeat(n)}1${'; }'.repeat(n)}; }`;
}
function deepParens(n) {
  return `{ nix.buildMachines = ${'('.repeat(n)}[ { hostName = "p"; } ]${')'.repeat(n)}; }`;
}
function deepUnclosed(n) {
  return `{ nix.buildMachines = ${'[ { a = ('.repeat(n)}`;
}

const tenMB = 'x'.repeat(10 * 1024 * 1024);

function binaryText(seed, bytes, encoding) {
  return prng(seed).bytes(bytes).toString(encoding);
}

function machinesLines(n) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    switch (i % 10) {
      case 0:
        lines.push(`# builder group ${i}`);
        break;
      case 1:
        lines.push('');
        break;
      case 2:
        lines.push(`ssh://b${i} x86-64-linux /k 2 1 kvm - -`); // unknown system, the same typo every time
        break;
      case 3:
        lines.push(`b${i} x86_64-linux - two 1`); // machines-syntax
        break;
      case 4:
        lines.push(`ssh-ng://nix@b${i} x86_64-linux,aarch64-linux /etc/nix/k 4 2 big-parallel,kvm benchmark -; ssh://c${i} i686-linux`);
        break;
      default:
        lines.push(`ssh://nix@b${i} x86_64-linux /etc/nix/key ${i % 7} 1 kvm,nixos-test - -`);
    }
  }
  return lines.join('\n');
}

const EMOJI_CJK = [
  '# 🦀🦀🦀 構成ファイル — 星野 愛久愛海 👩‍👩‍👧‍👦 🏳️‍🌈 𝕏 中文注释 한국어',
  '{',
  '  # 👉 リモートビルダー 👈',
  '  nix.distributedBuilds = true;',
  '  nix.buildMachines = [',
  '    { hostName = "ビルダー.example"; systems = [ "x86-64-linux" ]; maxJobs = 2; } # 🚀 速い',
  '    { hostName = "🦀.example"; /* 😀 */ system = "aarch64-linux"; supportedFeatures = [ "big_parallel" ]; }',
  '  ];',
  '  programs.ssh.extraConfig = "Host 星\\n  HostName 10.0.0.1\\n";',
  '}',
  '',
].join('\n');

// ------------------------------------------------------------------ the core

describe('pathological inputs: the analysis core', () => {
  for (const [name, make] of [
    ['lists', deepList],
    ['sets', deepSet],
    ['parentheses', deepParens],
    ['unclosed lists, sets and parentheses', deepUnclosed],
  ]) {
    it(`${DEEP.toLocaleString('en')}-deep nesting of ${name}`, () => {
      analyzeWithin('/p/deep.nix', make(DEEP), 10_000);
    });
  }

  it('`let a = a; in a`, self and mutual recursion through lambdas, runaway recursion', () => {
    const docs = [
      'let a = a; in a',
      '{ nix.buildMachines = let a = a; in a; nix.distributedBuilds = let b = b; in b; }',
      'rec { nix.buildMachines = nix.buildMachines ++ [ { hostName = "a"; } ]; }',
      'let f = x: g x; g = x: f x; in { nix.buildMachines = [ (f 1) ]; programs.ssh.knownHosts = g 2; }',
      'let f = x: [ (g x) (g x) ]; g = x: f x; in { nix.buildMachines = f 1; }',
      'let f = x: f (x + 1); in { nix.buildMachines = [ { hostName = f 0; maxJobs = f 1; } ]; }',
      'let fix = f: let x = f x; in x; in { nix.buildMachines = fix (self: [ { hostName = "a"; } ] ++ self); }',
      '(x: x x) (x: x x)',
      '{ config, ... }: { nix.buildMachines = config.nix.buildMachines; }',
    ];
    for (const text of docs) analyzeWithin('/p/rec.nix', text, 5_000);
  });

  it('a 10 MB string as a host name and as ssh_config text', () => {
    const host = analyzeWithin('/p/big-string.nix', `{ nix.buildMachines = [ { hostName = "${tenMB}"; systems = [ "x86-64-linux" ]; } ]; }`, 15_000);
    assert.ok(host.a.diagnostics.some((d) => d.code === 'unknown-system'), 'the builder is still read');
    analyzeWithin('/p/big-config.nix', `{ programs.ssh.extraConfig = ''\n  ${tenMB}\n''; nix.buildMachines = [ { hostName = "b"; system = "x86_64-linux"; } ]; }`, 15_000);
    analyzeWithin('/p/big-machines.nix', `{ nix.settings.builders = "ssh://${tenMB} x86_64-linux"; }`, 15_000);
  });

  it('binary bytes and NULs', () => {
    analyzeWithin('/p/binary.nix', binaryText(1, 1024 * 1024, 'latin1'), 10_000);
    analyzeWithin('/p/binary-utf8.nix', binaryText(2, 1024 * 1024, 'utf8'), 10_000);
    analyzeWithin('/p/machines', binaryText(3, 1024 * 1024, 'latin1'), 10_000);
    // A NUL inside a string ends it for the grammar (Nix cuts the string there too): no crash.
    analyzeWithin('/p/nul-string.nix', '{ nix.buildMachines = [ { hostName = "a\u0000b"; systems = [ "x86-64-linux" ]; } ]; }', 1_000);
    // NULs in a comment and after the end do not hide the builder.
    const text = '# \u0000\u0000\n{ nix.buildMachines = [ { hostName = "ab"; systems = [ "x86-64-linux" ]; } ]; }\u0000\u0000';
    const { a } = analyzeWithin('/p/nul.nix', text, 1_000);
    assert.ok(codesAndText(a, text).includes('unknown-system "\\"x86-64-linux\\""'), 'NULs elsewhere do not hide the builder');
  });

  it('CRLF and lone CR line ends give the diagnostics LF gives, on the same text', () => {
    const dir = path.join(root, 'test', 'fixtures', 'rules');
    let compared = 0;
    for (const f of fs.readdirSync(dir).sort()) {
      const lf = fs.readFileSync(path.join(dir, f), 'utf8').replace(/\r\n?/g, '\n');
      const file = `/p/${f}`;
      const expected = codesAndText(analyze([{ path: file, text: lf }]), lf);
      // Nix splits machines text on \n only: a lone \r is no line end there.
      for (const eol of f.endsWith('.machines') ? ['\r\n'] : ['\r\n', '\r']) {
        const text = lf.replace(/\n/g, eol);
        const { a } = analyzeWithin(file, text, 2_000);
        const got = codesAndText(a, text).map((s) => s.replace(/\\r\\n|\\r/g, '\\n'));
        assert.deepEqual(got, expected, `${f} with ${JSON.stringify(eol)} line ends`);
        // Ranges map to the same lines and columns as in the LF text.
        const lfLines = new LineIndex(lf);
        const lines = new LineIndex(text);
        const lfAnalysis = analyze([{ path: file, text: lf }]);
        assert.deepEqual(
          a.diagnostics.map((d) => lines.range(d.span.start, d.span.end)),
          lfAnalysis.diagnostics.map((d) => lfLines.range(d.span.start, d.span.end)),
          `${f} with ${JSON.stringify(eol)}: positions`,
        );
        compared++;
      }
    }
    assert.ok(compared > 50);
  });

  it('lines of emoji and CJK: ranges on the right characters, in UTF-16 columns', () => {
    const { a } = analyzeWithin('/p/emoji.nix', EMOJI_CJK, 1_000);
    const got = codesAndText(a, EMOJI_CJK);
    assert.ok(got.includes('unknown-system "\\"x86-64-linux\\""'), got.join('; '));
    assert.ok(got.includes('unknown-feature "\\"big_parallel\\""'), got.join('; '));
    const lines = new LineIndex(EMOJI_CJK);
    const d = a.diagnostics.find((x) => x.code === 'unknown-system');
    const r = lines.range(d.span.start, d.span.end);
    const lineText = EMOJI_CJK.split('\n')[r.start.line];
    assert.equal(lineText.slice(r.start.character, r.end.character), '"x86-64-linux"');
    // Every line of emoji alone, too.
    analyzeWithin('/p/emoji-only.nix', '🦀'.repeat(100_000), 5_000);
    analyzeWithin('/p/cjk-only.nix', `${'中文'.repeat(50_000)}\n`.repeat(20), 5_000);
  });

  it('a machines file of 100,000 lines, in linear time', () => {
    const small = machinesLines(10_000);
    const big = machinesLines(100_000);
    analyzeWithin('/p/machines', small, 5_000);
    const t10k = Math.min(timed(() => analyze([{ path: '/p/machines', text: small }]))[0], timed(() => analyze([{ path: '/p/machines', text: small }]))[0]);
    const { a, ms } = analyzeWithin('/p/machines', big, 20_000);
    assert.ok(a.model.builders.length >= 90_000, `${a.model.builders.length} builders`);
    assert.ok(ms < 30 * t10k + 500, `100,000 lines took ${Math.round(ms)} ms, 10,000 lines ${Math.round(t10k)} ms: not linear`);
  });

  it('an @file include cycle in machines files ends (includes are reported, not followed)', () => {
    const files = new Map([
      ['/p/a.machines', '@/p/b.machines\nssh://a x86_64-linux\n'],
      ['/p/b.machines', '@/p/a.machines\n@/p/b.machines\nssh://b x86_64-linux\n'],
    ]);
    const [ms, a] = timed(() => analyze([...files].map(([p, text]) => ({ path: p, text }))));
    assert.ok(ms < 1_000);
    assertRangesInside(a, files);
    assert.deepEqual(a.model.builders.map((b) => b.attrs.get('hostName')?.value.value).sort(), ['a', 'b']);
  });

  it('an `imports` cycle between files ends, each file read once', () => {
    const files = {
      '/p/a.nix': '{ imports = [ ./b.nix ./a.nix ]; nix.buildMachines = [ { hostName = "a"; systems = [ "x86_64-linux" ]; } ]; }',
      '/p/b.nix': '{ imports = [ ./a.nix ./c ]; nix.distributedBuilds = true; }',
      '/p/c/default.nix': '{ imports = [ ../b.nix ../a.nix ./. ]; programs.ssh.knownHosts.a.publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7n11XxB8B3HjdyAsL3PuLVDZxWCzEOUTJAY8+goQmW"; }',
    };
    const reads = new Map();
    const env = {
      ...OFFLINE,
      readFile: (p) => {
        reads.set(p, (reads.get(p) ?? 0) + 1);
        return files[p];
      },
    };
    const [ms, a] = timed(() => analyze([{ path: '/p/a.nix', text: files['/p/a.nix'] }], env));
    assert.ok(ms < 1_000);
    assert.ok([...reads.values()].every((n) => n === 1), JSON.stringify([...reads]));
    assert.deepEqual(a.roots.map((r) => r.file).sort(), ['/p/a.nix', '/p/b.nix', '/p/c/default.nix']);
    assert.ok(!a.diagnostics.some((d) => d.code === 'distributed-builds-off'), 'the imported file counts');
    assertRangesInside(a, new Map(Object.entries(files)));
  });
});

// ------------------------------------------------------------------ the CLI and the server

describe('pathological inputs: the CLI and the language server', () => {
  let dir;
  const docs = new Map();

  before(() => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nix-builders-pathological-'));
    docs.set('deep-lists.nix', deepList(DEEP));
    docs.set('deep-sets.nix', deepSet(DEEP));
    docs.set('deep-parens.nix', deepParens(DEEP));
    docs.set('deep-unclosed.nix', deepUnclosed(DEEP));
    docs.set('let.nix', '{ nix.buildMachines = let a = a; in a; x = let f = x: g x; g = x: f x; in f 1; }');
    docs.set('big-string.nix', `{ nix.buildMachines = [ { hostName = "${tenMB}"; systems = [ "x86-64-linux" ]; } ]; }`);
    docs.set('binary.nix', binaryText(7, 256 * 1024, 'latin1'));
    docs.set('crlf.nix', fs.readFileSync(path.join(root, 'examples', 'distributed-builds.nix'), 'utf8').replace(/\n/g, '\r\n'));
    docs.set('cr.nix', fs.readFileSync(path.join(root, 'test', 'fixtures', 'rules', 'unknown-system.nix'), 'utf8').replace(/\n/g, '\r'));
    docs.set('emoji.nix', EMOJI_CJK);
    docs.set('machines', machinesLines(100_000));
    docs.set('a.machines', `@${path.join(dir, 'b.machines')}\nssh://a x86_64-linux\n`);
    docs.set('b.machines', `@${path.join(dir, 'a.machines')}\nssh://b x86_64-linux\n`);
    docs.set('cycle-a.nix', '{ imports = [ ./cycle-b.nix ]; nix.buildMachines = [ { hostName = "a"; system = "x86_64-linux"; } ]; }');
    docs.set('cycle-b.nix', '{ imports = [ ./cycle-a.nix ./cycle-b.nix ]; nix.distributedBuilds = true; }');
    for (const [name, text] of docs) fs.writeFileSync(path.join(dir, name), text);
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('`nix-builders check --offline` on all of them ends without a crash', () => {
    const r = cp.spawnSync(process.execPath, [path.join(root, 'bin', 'nix-builders.js'), 'check', '--offline', '--json', dir], {
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 512 * 1024 * 1024,
    });
    assert.equal(r.signal, null, `killed: ${r.signal}`);
    assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr.slice(0, 2000)}`);
    assert.doesNotMatch(r.stderr, /RangeError|Maximum call stack|TypeError|at .*\.js:\d+/);
    const out = JSON.parse(r.stdout);
    assert.ok(out.some((d) => d.code === 'unknown-system' && d.file.endsWith('cr.nix')), 'lone-CR files are read');
  });

  it('the server answers hover, completion and code actions on each, and publishes diagnostics', { timeout: 300_000 }, async () => {
    const client = new LspClient({ debounceMs: 0, lookups: { enable: false }, sshConfigFiles: [], knownHostsFiles: [] });
    try {
      await client.initialize();
      let version = 1;
      for (const [name, text] of docs) {
        const uri = pathToFileURL(path.join(dir, name)).href;
        const languageId = name.endsWith('machines') ? 'nix-machines' : 'nix';
        const t0 = performance.now();
        client.open(uri, text, languageId, version);
        await client.diagnostics(uri, version, 60_000);
        const lines = new LineIndex(text);
        const end = lines.position(text.length);
        for (const position of [{ line: 0, character: 0 }, lines.position(Math.floor(text.length / 2)), end]) {
          const params = { textDocument: { uri }, position };
          await client.conn.sendRequest('textDocument/hover', params);
          await client.conn.sendRequest('textDocument/completion', params);
          await client.conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: position, end: position }, context: { diagnostics: [] } });
        }
        // An edit in the middle, then the document closes.
        const mid = lines.position(Math.floor(text.length / 2));
        client.change(uri, version + 1, [{ range: { start: mid, end: mid }, text: ' ]} x ' }]);
        await client.diagnostics(uri, version + 1, 60_000);
        await client.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
        const ms = performance.now() - t0;
        assert.ok(ms < 60_000, `${name}: ${Math.round(ms)} ms`);
        assert.equal(client.proc.exitCode, null, `the server exited on ${name}: ${client.stderr.slice(0, 2000)}`);
        version += 2;
      }
      const errors = client.logs.filter((l) => l.type === 1).map((l) => l.message);
      assert.deepEqual(errors.filter((m) => /RangeError|Maximum call stack|failed/.test(m)).map((m) => m.slice(0, 500)), []);
    } finally {
      const status = await client.stop();
      assert.equal(status.code, 0, client.stderr.slice(0, 2000));
    }
  });

  it('the server survives files deleted while it indexes the workspace', { timeout: 120_000 }, async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'nix-builders-vanishing-'));
    try {
      const all = [];
      for (let d = 0; d < 20; d++) {
        fs.mkdirSync(path.join(ws, `m${d}`, 'sub'), { recursive: true });
        for (let i = 0; i < 100; i++) {
          const p = path.join(ws, `m${d}`, i % 2 ? 'sub' : '', `f${i}.nix`);
          fs.writeFileSync(p, `{ nix.buildMachines = [ { hostName = "h${d}-${i}"; system = "x86_64-linux"; } ]; programs.ssh.knownHosts.h${d}x${i}.publicKey = "x"; }\n`);
          all.push(p);
        }
      }
      const client = new LspClient({ debounceMs: 0, lookups: { enable: false }, sshConfigFiles: [], knownHostsFiles: [] });
      try {
        await client.initialize({ folders: [ws] });
        // Delete files and whole folders while the first scan runs.
        for (let i = 0; i < all.length; i += 3) fs.rmSync(all[i], { force: true });
        for (let d = 0; d < 20; d += 4) fs.rmSync(path.join(ws, `m${d}`), { recursive: true, force: true });
        await client.waitLog(/indexed \d+ \.nix files/, 60_000);
        const uri = pathToFileURL(path.join(ws, 'open.nix')).href;
        client.open(uri, '{ nix.buildMachines = [ { hostName = "z"; system = "x86_64-linux"; } ]; }', 'nix', 1);
        await client.diagnostics(uri, 1, 30_000);
        assert.notEqual(await client.hover(uri, { line: 0, character: 30 }), undefined);
        assert.equal(client.proc.exitCode, null, client.stderr.slice(0, 2000));
        const errors = client.logs.filter((l) => l.type === 1).map((l) => l.message);
        assert.deepEqual(errors.map((m) => m.slice(0, 500)), [], 'no error logged');
      } finally {
        const status = await client.stop();
        assert.equal(status.code, 0, client.stderr.slice(0, 2000));
      }
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });
});
