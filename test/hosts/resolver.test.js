// HostResolver: lookups through a DNS responder on 127.0.0.1 (the `server`
// option) or an injected `lookup`; never the system resolver, never a packet
// to another machine (the guard below fails any attempt, before it is sent).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const dns = require('node:dns');
const net = require('node:net');
const { startDnsServer } = require('../helpers/dns-server');
const { loadServer } = require('../helpers/load-server');

// --- Guard: installed before the resolver module is loaded (its bundle reads
// node:dns through live getters, so it sees these). Every attempt to use the
// system resolver, or a Resolver whose servers are not loopback, is recorded
// and answered with an error at once, without sending anything.
const violations = [];
// When set, guarded Resolver methods report their servers to it and fail without sending.
let intercept = null;
const isLoopback = (server) => /^(127\.\d+\.\d+\.\d+|\[::1\]|::1)(:\d+)?$/.test(server);
/** Fails a dns call at once: through its callback if it has one, else as a rejected promise. */
function fail(args, message, code) {
  const err = Object.assign(new Error(message), { code });
  const cb = args.findLast((a) => typeof a === 'function');
  if (cb) {
    process.nextTick(cb, err);
    return undefined;
  }
  return Promise.reject(err);
}
function refuse(what, args) {
  violations.push(what);
  return fail(args, `test guard: ${what}`, 'EGUARD');
}
// IP literals are answered by node itself, without a query (dgram's bind uses that).
const originalLookup = dns.lookup;
const originalPromisesLookup = dns.promises.lookup;
dns.lookup = (...args) => (net.isIP(args[0]) ? originalLookup(...args) : refuse('dns.lookup', args));
dns.promises.lookup = (...args) => (net.isIP(args[0]) ? originalPromisesLookup(...args) : refuse('dns.promises.lookup', args));
for (const m of ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname', 'reverse']) {
  dns[m] = (...args) => refuse(`dns.${m}`, args);
  dns.promises[m] = (...args) => refuse(`dns.promises.${m}`, args);
  for (const proto of [dns.Resolver.prototype, dns.promises.Resolver.prototype]) {
    const original = proto[m];
    proto[m] = function guarded(...args) {
      const servers = this.getServers();
      if (intercept) {
        intercept(servers);
        return fail(args, 'intercepted', 'ECONNREFUSED');
      }
      if (servers.length === 0 || !servers.every(isLoopback)) return refuse(`Resolver.${m} via ${servers.join(',') || '(none)'}`, args);
      return original.apply(this, args);
    };
  }
}

const { HostResolver } = loadServer('hosts/resolver');

const RECORDS = {
  'builder.lan': ['10.1.2.3'],
  'dual.lan': ['10.1.2.4', 'fd00::4'],
  'six.lan': ['fd00::6'],
  'empty.lan': [],
  'late.lan': ['10.9.9.9'],
};

async function withServer(opts, fn) {
  const server = await startDnsServer({ records: RECORDS, ...opts });
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hangNames = (n, prefix = 'hang') => Array.from({ length: n }, (_, i) => `${prefix}${i}.lan`);

test('the guard catches the system resolver and non-loopback servers, sending nothing', async () => {
  const system = new HostResolver({ timeoutMs: 200 });
  const r = await system.resolve('example.invalid');
  assert.equal(r.status, 'error');
  const elsewhere = new HostResolver({ server: '192.0.2.1', timeoutMs: 200 });
  assert.equal((await elsewhere.resolve('example.invalid')).status, 'error');
  assert.deepEqual(violations.splice(0), ['dns.lookup', 'Resolver.resolve4 via 192.0.2.1', 'Resolver.resolve6 via 192.0.2.1']);
});

test('A and AAAA records through the server option', async () => {
  await withServer({}, async (s) => {
    const res = new HostResolver({ server: s.address, timeoutMs: 500 });
    assert.deepEqual(await res.resolve('builder.lan'), { status: 'resolved', addresses: ['10.1.2.3'] });
    assert.deepEqual(await res.resolve('dual.lan'), { status: 'resolved', addresses: ['10.1.2.4', 'fd00::4'] });
    assert.deepEqual(await res.resolve('six.lan'), { status: 'resolved', addresses: ['fd00::6'] });
    assert.deepEqual(s.queries.filter((q) => q.startsWith('builder.lan')).sort(), ['builder.lan A', 'builder.lan AAAA']);
  });
});

test('a server given as host only (port 53), [v6]:port, or host:port', async () => {
  // Port 53 on this machine may be a forwarding resolver: these queries are intercepted, not sent.
  const seen = [];
  intercept = (servers) => seen.push(servers.join(','));
  try {
    for (const server of ['127.0.0.1', '127.0.0.1:53', '[::1]:5353', '::1']) {
      const r = await new HostResolver({ server, timeoutMs: 200 }).resolve('builder.lan');
      assert.equal(r.status, 'error');
      assert.match(r.detail, /could not contact the DNS server/);
    }
  } finally {
    intercept = null;
  }
  assert.deepEqual(seen, ['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '[::1]:5353', '[::1]:5353', '::1', '::1']);
  await withServer({}, async (s) => {
    const withPort = new HostResolver({ server: ` ${s.address} `, timeoutMs: 500 });
    assert.equal((await withPort.resolve('builder.lan')).status, 'resolved');
  });
});

test('NXDOMAIN and NODATA are not-found; SERVFAIL and REFUSED are errors', async () => {
  await withServer({ servfail: ['broken.lan'], refused: ['nope.lan'] }, async (s) => {
    const res = new HostResolver({ server: s.address, timeoutMs: 500 });
    const nx = await res.resolve('missing.lan');
    assert.equal(nx.status, 'not-found');
    assert.match(nx.detail, /NXDOMAIN/);
    const nodata = await res.resolve('empty.lan');
    assert.equal(nodata.status, 'not-found');
    assert.match(nodata.detail, /no A or AAAA/);
    const fail = await res.resolve('broken.lan');
    assert.equal(fail.status, 'error');
    assert.match(fail.detail, /SERVFAIL/);
    const refused = await res.resolve('nope.lan');
    assert.equal(refused.status, 'error');
    assert.match(refused.detail, /REFUSED/);
  });
});

test('an invalid server setting makes every lookup an error, without a query', async () => {
  const res = new HostResolver({ server: 'dns.example.com:53', timeoutMs: 200 });
  const r = await res.resolve('builder.lan');
  assert.equal(r.status, 'error');
  assert.match(r.detail, /invalid DNS server/);
});

test('a name that is never answered times out after timeoutMs and frees its slot', async () => {
  await withServer({ hang: ['slow.lan'] }, async (s) => {
    const res = new HostResolver({ server: s.address, timeoutMs: 200 });
    const t0 = performance.now();
    const p = res.resolve('slow.lan');
    assert.equal(res.inFlight, 1);
    const r = await p;
    const elapsed = performance.now() - t0;
    assert.deepEqual(r, { status: 'timeout', ms: 200 });
    assert.ok(elapsed >= 195 && elapsed < 400, `timed out after ${elapsed.toFixed(0)} ms`);
    assert.equal(res.inFlight, 0);
    assert.equal(res.abandoned, 0);
    assert.equal(s.count('slow.lan'), 2, 'tries: 1 - one A and one AAAA query, no retries');
    await sleep(100);
    assert.equal(s.count('slow.lan'), 2, 'the cancelled query is not retried');
  });
});

test('a slow answer within the deadline is an answer', async () => {
  await withServer({ delays: { 'late.lan': 100 } }, async (s) => {
    const res = new HostResolver({ server: s.address, timeoutMs: 400 });
    assert.deepEqual(await res.resolve('late.lan'), { status: 'resolved', addresses: ['10.9.9.9'] });
  });
});

test('cache: a second resolve or peek sends no query; names are case- and trailing-dot-insensitive', async () => {
  await withServer({}, async (s) => {
    const res = new HostResolver({ server: s.address, timeoutMs: 500 });
    assert.equal(res.peek('builder.lan'), undefined, 'peek never starts a lookup');
    assert.equal(s.queries.length, 0);
    const p1 = res.resolve('builder.lan');
    const p2 = res.resolve('BUILDER.lan.');
    assert.equal(p1, p2, 'one lookup in flight per name');
    await p1;
    assert.equal(s.count('builder.lan'), 2);
    assert.deepEqual(await res.resolve('Builder.Lan'), { status: 'resolved', addresses: ['10.1.2.3'] });
    assert.deepEqual(res.peek('builder.lan.'), { status: 'resolved', addresses: ['10.1.2.3'] });
    assert.equal(s.count('builder.lan'), 2, 'served from the cache');
    // Failures are cached too.
    await res.resolve('missing.lan');
    await res.resolve('missing.lan');
    assert.equal(s.count('missing.lan'), 2);
  });
});

test('expiry: answers after ttlMs, failures and timeouts after 30 s (injected clock)', async () => {
  await withServer({ hang: ['slow.lan'] }, async (s) => {
    let clock = 1_000_000;
    const res = new HostResolver({ server: s.address, timeoutMs: 150, ttlMs: 60_000, now: () => clock });
    await res.resolve('builder.lan');
    await res.resolve('missing.lan');
    await res.resolve('slow.lan');
    assert.equal(res.peek('slow.lan').status, 'timeout');
    clock += 29_999;
    assert.equal(res.peek('missing.lan').status, 'not-found');
    assert.equal(res.peek('slow.lan').status, 'timeout');
    clock += 1;
    assert.equal(res.peek('missing.lan'), undefined);
    assert.equal(res.peek('slow.lan'), undefined);
    assert.equal(res.peek('builder.lan').status, 'resolved');
    clock += 30_000;
    assert.equal(res.peek('builder.lan'), undefined, 'expired after ttlMs');
    assert.equal(s.count('builder.lan'), 2);
    await res.resolve('builder.lan');
    assert.equal(s.count('builder.lan'), 4, 'looked up again');
  });
});

test('concurrency: 20 hanging names, concurrency 4 - never more than 4 in flight, the queue drains as timeouts fire', async (t) => {
  const names = hangNames(20);
  let maxInFlight = 0;
  let maxSeenAtServer = 0;
  let res;
  const outstanding = new Set();
  await withServer(
    {
      hang: names,
      onQuery: (name) => {
        outstanding.add(name);
        maxInFlight = Math.max(maxInFlight, res.inFlight);
      },
    },
    async (s) => {
      res = new HostResolver({ server: s.address, timeoutMs: 200, concurrency: 4 });
      const sampler = setInterval(() => {
        maxInFlight = Math.max(maxInFlight, res.inFlight);
      }, 2);
      const t0 = performance.now();
      const settledAt = [];
      const all = names.map((n) =>
        res.resolve(n).then((r) => {
          settledAt.push(performance.now() - t0);
          // Names the server saw but whose lookup ended are no longer outstanding.
          outstanding.delete(n);
          return r;
        }),
      );
      assert.equal(res.inFlight, 4);
      assert.equal(res.queued, 16);
      const probe = setInterval(() => {
        maxSeenAtServer = Math.max(maxSeenAtServer, outstanding.size);
      }, 2);
      const results = await Promise.all(all);
      clearInterval(sampler);
      clearInterval(probe);
      const elapsed = performance.now() - t0;
      assert.ok(results.every((r) => r.status === 'timeout'));
      assert.ok(maxInFlight <= 4, `max in flight ${maxInFlight}`);
      assert.ok(maxSeenAtServer <= 4, `names outstanding at the server at once: ${maxSeenAtServer}`);
      assert.equal(s.queries.length, 40, 'one A and one AAAA query per name');
      // Five waves of four: done after ~1000 ms, each wave ~200 ms after the last.
      assert.ok(elapsed >= 5 * 195 && elapsed < 5 * 200 + 400, `drained after ${elapsed.toFixed(0)} ms`);
      const waves = [0, 4, 8, 12, 16].map((i) => Math.round(settledAt[i]));
      for (let i = 1; i < waves.length; i++) assert.ok(waves[i] - waves[i - 1] >= 190, `waves at ${waves.join(', ')} ms`);
      assert.equal(res.inFlight, 0);
      assert.equal(res.queued, 0);
      t.diagnostic(`20 hanging names, concurrency 4, timeout 200 ms: drained in ${elapsed.toFixed(0)} ms, waves settled at ${waves.join(', ')} ms, max in flight ${maxInFlight}`);
    },
  );
});

test('IP literals resolve to themselves without a query', async () => {
  await withServer({}, async (s) => {
    const res = new HostResolver({ server: s.address, timeoutMs: 200 });
    assert.deepEqual(res.peek('10.0.0.1'), { status: 'resolved', addresses: ['10.0.0.1'] });
    assert.deepEqual(res.peek('::1'), { status: 'resolved', addresses: ['::1'] });
    assert.deepEqual(res.peek('[fe80::1]'), { status: 'resolved', addresses: ['fe80::1'] });
    assert.deepEqual(await res.resolve('192.168.5.102'), { status: 'resolved', addresses: ['192.168.5.102'] });
    assert.deepEqual(await res.resolve('FD00::1'), { status: 'resolved', addresses: ['FD00::1'] });
    assert.equal(res.inFlight, 0);
    assert.equal(s.queries.length, 0);
    let called = 0;
    res.prefetch(['10.0.0.1', '::1'], () => called++);
    await sleep(20);
    assert.equal(called, 0, 'nothing to look up: no refresh');
    assert.equal(s.queries.length, 0);
  });
});

test('dispose cancels running lookups, empties the queue and settles every promise with an error', async () => {
  const names = hangNames(6);
  await withServer({ hang: names }, async (s) => {
    const res = new HostResolver({ server: s.address, timeoutMs: 5000, concurrency: 2 });
    let refreshed = 0;
    res.prefetch(['builder.lan'], () => refreshed++);
    await sleep(50);
    assert.equal(refreshed, 1);
    const all = names.map((n) => res.resolve(n));
    res.prefetch(names, () => refreshed++);
    await sleep(50);
    assert.equal(res.inFlight, 2);
    assert.equal(res.queued, 4);
    const before = s.queries.length;
    const t0 = performance.now();
    res.dispose();
    const results = await Promise.all(all);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed < 50, `settled ${elapsed.toFixed(1)} ms after dispose`);
    assert.ok(results.every((r) => r.status === 'error' && /shut down/.test(r.detail)));
    assert.equal(res.inFlight, 0);
    assert.equal(res.queued, 0);
    assert.equal(res.peek('builder.lan'), undefined, 'cache emptied');
    assert.equal((await res.resolve('builder.lan')).status, 'error');
    await sleep(200);
    assert.equal(s.queries.length, before, 'no query after dispose');
    assert.equal(refreshed, 1, 'no refresh after dispose');
  });
});

test('injected lookup: answers, not-found, errors, and the abort signal at the deadline', async () => {
  const asked = [];
  const res = new HostResolver({
    timeoutMs: 100,
    lookup: async (name, signal) => {
      asked.push(name);
      if (name === 'a.lan') return ['10.0.0.5', '10.0.0.5', 'fd00::5'];
      if (name === 'none.lan') return [];
      if (name === 'gone.lan') throw Object.assign(new Error('getaddrinfo ENOTFOUND gone.lan'), { code: 'ENOTFOUND' });
      if (name === 'bad.lan') throw Object.assign(new Error('queryA ESERVFAIL bad.lan'), { code: 'ESERVFAIL' });
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    },
  });
  assert.deepEqual(await res.resolve('A.lan.'), { status: 'resolved', addresses: ['10.0.0.5', 'fd00::5'] });
  assert.equal((await res.resolve('none.lan')).status, 'not-found');
  assert.deepEqual(await res.resolve('gone.lan'), { status: 'not-found', detail: 'getaddrinfo ENOTFOUND gone.lan' });
  const bad = await res.resolve('bad.lan');
  assert.equal(bad.status, 'error');
  assert.match(bad.detail, /SERVFAIL/);
  assert.deepEqual(await res.resolve('hang.lan'), { status: 'timeout', ms: 100 });
  await sleep(0);
  assert.equal(res.abandoned, 0, 'the call honoured the abort signal');
  assert.deepEqual(asked, ['a.lan', 'none.lan', 'gone.lan', 'bad.lan', 'hang.lan']);
});

test('calls that ignore the abort signal: a timeout frees the slot, but at most `concurrency` hung calls pile up', async () => {
  const hung = [];
  let answerAtOnce = false;
  const res = new HostResolver({
    timeoutMs: 100,
    concurrency: 2,
    lookup: () =>
      answerAtOnce ? Promise.resolve(['10.0.0.99']) : new Promise((resolve) => hung.push(() => resolve([`10.0.0.${hung.length}`]))),
  });
  const all = hangNames(8).map((n) => res.resolve(n));
  assert.equal(res.inFlight, 2);
  await sleep(150); // first wave timed out at 100 ms: its slots are free, the next two run
  assert.equal(res.abandoned, 2);
  assert.equal(res.inFlight, 2);
  await sleep(100); // second wave timed out at 200 ms: 4 hung calls = the bound, nothing new starts
  assert.equal(res.abandoned, 4);
  assert.equal(res.inFlight, 0);
  assert.equal(res.queued, 4);
  assert.equal(hung.length, 4, 'no new call while 4 are hung');
  hung[0]();
  await sleep(5);
  assert.equal(res.abandoned, 3);
  assert.equal(res.inFlight, 1, 'a returning hung call lets the next one start');
  answerAtOnce = true;
  for (const release of hung) release();
  const results = await Promise.all(all);
  assert.deepEqual(
    results.map((r) => r.status),
    ['timeout', 'timeout', 'timeout', 'timeout', 'resolved', 'resolved', 'resolved', 'resolved'],
  );
  assert.equal(res.abandoned, 0);
  assert.equal(res.inFlight, 0);
});

test('prefetch calls onSettled once per batch, after its last name', async () => {
  await withServer({ delays: { 'late.lan': 80 } }, async (s) => {
    const res = new HostResolver({ server: s.address, timeoutMs: 500 });
    const calls = [];
    const t0 = performance.now();
    res.prefetch(['builder.lan', 'late.lan', 'missing.lan', 'builder.lan', '10.0.0.1'], () => calls.push(performance.now() - t0));
    assert.equal(res.peek('builder.lan'), undefined);
    await sleep(150);
    assert.equal(calls.length, 1);
    assert.ok(calls[0] >= 75, `refreshed after ${calls[0].toFixed(0)} ms`);
    assert.equal(res.peek('late.lan').status, 'resolved');
    res.prefetch(['builder.lan', 'late.lan'], () => calls.push(-1));
    await sleep(20);
    assert.equal(calls.length, 1, 'all cached: no refresh');
    res.prefetch(['six.lan'], () => {
      throw new Error('a failing refresh is swallowed');
    });
    await sleep(50);
    assert.equal(s.count('builder.lan'), 2);
  });
});

test('a full queue drops its oldest name, which settles as an uncached error', async () => {
  const res = new HostResolver({ timeoutMs: 1000, concurrency: 1, maxQueued: 2, lookup: (_n, signal) => new Promise((_, rej) => signal.addEventListener('abort', () => rej(new Error('aborted')))) });
  const [running, first, second, third] = ['r.lan', 'q1.lan', 'q2.lan', 'q3.lan'].map((n) => res.resolve(n));
  assert.equal(res.queued, 2);
  const dropped = await first;
  assert.equal(dropped.status, 'error');
  assert.equal(res.peek('q1.lan'), undefined);
  res.dispose();
  for (const p of [running, second, third]) assert.equal((await p).status, 'error');
});

test('100 hanging names do not delay peek or unrelated event-loop work', async (t) => {
  const names = hangNames(100, 'stuck');
  for (const concurrency of [4, 100]) {
    await withServer({ hang: names }, async (s) => {
      const res = new HostResolver({ server: s.address, timeoutMs: 2000, concurrency });
      let refreshed = 0;
      const t0 = performance.now();
      res.prefetch(names, () => refreshed++);
      const prefetchMs = performance.now() - t0;
      await sleep(20);
      assert.equal(res.inFlight, concurrency);
      // peek of every name while they hang: synchronous, cache only.
      const p0 = performance.now();
      for (const n of names) assert.equal(res.peek(n), undefined);
      const peekMs = performance.now() - p0;
      // setImmediate latency, sampled repeatedly while the lookups hang.
      const lags = [];
      const until = performance.now() + 250;
      while (performance.now() < until) {
        const i0 = performance.now();
        await new Promise((r) => setImmediate(r));
        lags.push(performance.now() - i0);
        await sleep(5);
      }
      const maxLag = Math.max(...lags);
      assert.equal(res.inFlight, concurrency, 'all still hanging');
      assert.ok(peekMs < 5, `100 peeks took ${peekMs.toFixed(2)} ms`);
      assert.ok(maxLag < 10, `setImmediate ran after up to ${maxLag.toFixed(2)} ms`);
      t.diagnostic(
        `100 hanging names, concurrency ${concurrency}: prefetch ${prefetchMs.toFixed(2)} ms, 100 peeks ${peekMs.toFixed(3)} ms, ` +
          `setImmediate lag max ${maxLag.toFixed(2)} ms over ${lags.length} samples, ${s.queries.length} queries at the server`,
      );
      res.dispose();
      assert.equal(refreshed, 0);
    });
  }
});

test('no query went to the system resolver or a non-loopback server', () => {
  assert.deepEqual(violations, []);
});
