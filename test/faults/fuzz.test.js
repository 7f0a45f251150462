// 10,000 mutated documents through the analysis, starting from every fixture
// (byte flips, truncations, random Nix tokens spliced in, ranges deleted or
// duplicated): no exception, each within 100 ms, every range inside its
// document, and the same results for the same seed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { loadCore } = require('../helpers/load-ts');
const { mutatedDocuments } = require('../helpers/mutate');

const { analyze } = loadCore('analyze');

const root = path.resolve(__dirname, '..', '..');
const SEED = Number(process.env.NIX_BUILDERS_FUZZ_SEED ?? 20240611);
const COUNT = 10_000;
const LIMIT_MS = 100;

function fixtures() {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.nix$|(^|\.)machines$/.test(e.name)) out.push({ path: p, text: fs.readFileSync(p, 'utf8') });
    }
  };
  walk(path.join(root, 'test', 'fixtures'));
  out.push({ path: path.join(root, 'examples', 'distributed-builds.nix'), text: fs.readFileSync(path.join(root, 'examples', 'distributed-builds.nix'), 'utf8') });
  return out;
}

const SOURCES = fixtures();

function hash(s) {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/** An environment with everything switched on, answering deterministically. */
const ENV = {
  sshConfigFiles: [
    { path: '/etc/ssh/ssh_config', text: 'Host *.lan !old.lan\n  User nix\n  Port 2222\nHost b?\n  HostName %h.internal\nMatch host 10.*\n  HostKeyAlias aliased\n', notRoot: false },
    { path: '/home/u/.ssh/config', text: 'Host aquamarine\n  HostName 192.168.5.101\n', notRoot: true },
  ],
  knownHostsFiles: [
    {
      path: '/etc/ssh/ssh_known_hosts',
      text: 'ruby,192.168.5.102 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7n11XxB8B3HjdyAsL3PuLVDZxWCzEOUTJAY8+goQmW\n@revoked kana ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3dDLOZERP1nZfRz3zIeVDm1q2Trer+fWFVvVXrgXM1\n',
      notRoot: false,
    },
  ],
  lookups: true,
  checkHostKeys: true,
  resolve(name) {
    const h = crypto.createHash('md5').update(name).digest()[0] % 4;
    if (h === 0) return { status: 'resolved', addresses: ['10.1.2.3'] };
    if (h === 1) return { status: 'not-found', detail: 'NXDOMAIN' };
    if (h === 2) return { status: 'timeout', ms: 2000 };
    return undefined;
  },
  readFile: (p) => (p.endsWith('.pub') ? 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7n11XxB8B3HjdyAsL3PuLVDZxWCzEOUTJAY8+goQmW\n' : undefined),
};

/**
 * The file name a mutated document is analysed under: machines files keep their
 * kind. One name for all (the core keeps the last read module per name while
 * its text is unchanged, so every document is read cold); `again` gives another.
 */
function docPath(source, again = false) {
  const base = path.basename(source);
  const dir = again ? '/fuzz/again' : '/fuzz';
  return base === 'machines' || base.endsWith('.machines') ? `${dir}/${base}` : `${dir}/doc.nix`;
}

function check(doc, file, env) {
  const a = analyze([{ path: file, text: doc.text }], env);
  const problems = [];
  const inside = (span, what) => {
    if (span.file !== file) {
      problems.push(`${what} in another file: ${span.file}`);
      return;
    }
    if (!(Number.isInteger(span.start) && Number.isInteger(span.end) && span.start >= 0 && span.start <= span.end && span.end <= doc.text.length)) {
      problems.push(`${what} [${span.start}, ${span.end}) outside the document (length ${doc.text.length})`);
    }
  };
  for (const d of a.diagnostics) {
    inside(d.span, `${d.code}`);
    for (const f of d.fixes) for (const e of f.edits) inside(e.span, `${d.code} fix "${f.title}"`);
    for (const r of d.related ?? []) inside(r.span, `${d.code} related`);
  }
  return { a, problems };
}

function fingerprint(a) {
  return hash(
    JSON.stringify(
      a.diagnostics.map((d) => [d.code, d.severity, d.span.start, d.span.end, d.message, d.fixes.map((f) => [f.title, f.edits.map((e) => [e.span.start, e.span.end, e.newText])])]),
    ),
  );
}

test(`fuzz: ${COUNT} mutated documents from ${SOURCES.length} fixtures (seed ${SEED})`, { timeout: 10 * 60_000 }, (t) => {
  assert.ok(SOURCES.length > 50, 'the fixtures are found');
  const failures = [];
  const slow = [];
  const times = [];
  const fingerprints = [];
  const codes = new Map();
  let withBuilders = 0;
  const began = performance.now();
  for (const doc of mutatedDocuments(SOURCES, COUNT, SEED)) {
    const file = docPath(doc.source);
    const env = doc.index % 2 === 0 ? undefined : ENV;
    let ms;
    let result;
    try {
      const t0 = performance.now();
      result = check(doc, file, env);
      ms = performance.now() - t0;
      if (ms > LIMIT_MS) {
        // A GC pause or a busy machine is not the input's cost: measure once more (cold, under another name).
        const t1 = performance.now();
        check(doc, docPath(doc.source, true), env);
        ms = Math.min(ms, performance.now() - t1);
      }
    } catch (err) {
      failures.push(`#${doc.index} (from ${path.relative(root, doc.source)}): ${err && err.stack ? err.stack.split('\n').slice(0, 4).join(' | ') : err}`);
      continue;
    }
    times.push(ms);
    if (ms > LIMIT_MS) slow.push(`#${doc.index} (from ${path.relative(root, doc.source)}): ${ms.toFixed(1)} ms`);
    for (const p of result.problems) failures.push(`#${doc.index} (from ${path.relative(root, doc.source)}): ${p}`);
    if (doc.index % 20 === 0) fingerprints.push([doc.index, fingerprint(result.a)]);
    if (result.a.model.builders.length > 0) withBuilders++;
    for (const d of result.a.diagnostics) codes.set(d.code, (codes.get(d.code) ?? 0) + 1);
  }
  const total = performance.now() - began;
  times.sort((x, y) => x - y);
  const p = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2);
  t.diagnostic(`${COUNT} documents in ${(total / 1000).toFixed(1)} s; per document p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${times[times.length - 1].toFixed(1)} ms`);
  t.diagnostic(`${withBuilders} documents with builders; diagnostics: ${[...codes].sort().map(([c, n]) => `${c} ${n}`).join(', ')}`);
  // The mutations must leave most documents readable, or the fuzzing tests little.
  assert.ok(withBuilders > COUNT / 4, `only ${withBuilders} documents still have builders`);
  assert.ok(codes.size >= 20, `only ${codes.size} different diagnostic codes were produced`);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures`);
  assert.deepEqual(slow.slice(0, 20), [], `${slow.length} documents over ${LIMIT_MS} ms`);

  // Determinism: the same seed gives the same documents, and the same documents the same results.
  const again = new Map(fingerprints);
  let compared = 0;
  for (const doc of mutatedDocuments(SOURCES, COUNT, SEED)) {
    if (!again.has(doc.index)) continue;
    const { a } = check(doc, docPath(doc.source), doc.index % 2 === 0 ? undefined : ENV);
    assert.equal(fingerprint(a), again.get(doc.index), `document #${doc.index} analysed differently the second time`);
    compared++;
  }
  assert.equal(compared, fingerprints.length);
});

test('fuzz: the documents depend on the seed only', () => {
  const digest = (seed) => {
    const h = crypto.createHash('sha256');
    for (const doc of mutatedDocuments(SOURCES, 500, seed)) h.update(doc.text).update('\u0000');
    return h.digest('hex');
  };
  assert.equal(digest(SEED), digest(SEED));
  assert.notEqual(digest(SEED), digest(SEED + 1));
});
