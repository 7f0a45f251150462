// FrameResync (server/src/transport/framing.ts): well-formed LSP frames pass
// through unchanged, however the input is split; malformed input is dropped up
// to the next frame, so the message after it still arrives.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Readable } = require('node:stream');
const rpc = require('vscode-jsonrpc/node');
const { loadServer } = require('../helpers/load-server');
const { prng } = require('../../scripts/bench/corpus');

const { FrameResync } = loadServer('transport/framing');

const frame = (obj, extraHeaders = '') => {
  const body = Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj), 'utf8');
  return Buffer.concat([Buffer.from(`${extraHeaders}Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
};
const req = (id, method = 'textDocument/hover', params = {}) => ({ jsonrpc: '2.0', id, method, params });

/** Feeds chunks through a FrameResync; resolves with its output and the drops it reported. */
async function run(chunks) {
  const dropped = [];
  const t = new FrameResync((m) => dropped.push(m));
  const out = [];
  t.on('data', (d) => out.push(d));
  const done = new Promise((resolve, reject) => {
    t.on('end', resolve);
    t.on('error', reject);
  });
  for (const c of chunks) t.write(c);
  t.end();
  await done;
  return { out: Buffer.concat(out), dropped };
}

/** Splits a buffer into pieces of the given sizes (cycling). */
function split(buf, sizes) {
  const out = [];
  for (let at = 0, i = 0; at < buf.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** The messages vscode-jsonrpc reads from a byte stream. */
async function messages(bytes) {
  const got = [];
  const reader = new rpc.StreamMessageReader(Readable.from([bytes]));
  const errors = [];
  reader.onError((e) => errors.push(e));
  await new Promise((resolve) => {
    reader.listen((m) => got.push(m));
    reader.onClose(resolve);
  });
  // Messages are decoded asynchronously, one after the other.
  await new Promise((resolve) => setTimeout(resolve, 20));
  reader.dispose();
  return { got, errors };
}

test('well-formed frames pass through byte for byte, however the input is split', async () => {
  const big = 'x'.repeat(300_000);
  const input = Buffer.concat([
    frame(req(1)),
    frame(req(2, 'textDocument/didOpen', { text: `Content-Length: 12\\r\\n\\r\\n${big} é 🦀` })),
    frame(req(3), 'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n'),
    frame(req(4)).toString('latin1').replace('Content-Length', 'content-length') === '' ? Buffer.alloc(0) : Buffer.from(frame(req(4)).toString('latin1').replace('Content-Length', 'content-length'), 'latin1'),
    frame('{\r\n  "jsonrpc": "2.0",\r\n  "id": 5,\r\n  "method": "x"\r\n}'),
  ]);
  for (const sizes of [[input.length], [1], [7, 1, 3], [4096], [65536, 13]]) {
    const { out, dropped } = await run(split(input, sizes));
    assert.deepEqual(dropped, [], `split ${sizes}`);
    assert.ok(out.equals(input), `split ${sizes}: output differs`);
  }
  const { got, errors } = await messages(input);
  assert.deepEqual(errors, []);
  assert.deepEqual(got.map((m) => m.id), [1, 2, 3, 4, 5]);
});

const MALFORMED = {
  'a Content-Length that is not a number': Buffer.from('Content-Length: abc\r\n\r\n{"jsonrpc":"2.0","id":90,"method":"x"}', 'latin1'),
  'a negative Content-Length': Buffer.from('Content-Length: -5\r\n\r\n{}', 'latin1'),
  'no Content-Length': Buffer.from('Content-Type: application/json\r\n\r\n{"jsonrpc":"2.0","id":91,"method":"x"}', 'latin1'),
  'two Content-Lengths': Buffer.from('Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 'latin1'),
  'a Content-Length too large for any message': Buffer.from('Content-Length: 99999999999999\r\n\r\n{}', 'latin1'),
  'a header line without a colon': Buffer.from('garbage without header\r\n\r\n', 'latin1'),
  'a Content-Length shorter than the body': Buffer.concat([Buffer.from('Content-Length: 10\r\n\r\n', 'latin1'), Buffer.from(JSON.stringify(req(92)))]),
  'a Content-Length longer than the body': Buffer.concat([Buffer.from('Content-Length: 500\r\n\r\n', 'latin1'), Buffer.from(JSON.stringify(req(93)))]),
  'a header block that never ends': Buffer.from(`Content-Length: 5\r\nX-Junk: ${'y'.repeat(20_000)}`, 'latin1'),
  'binary garbage': prng(3).bytes(5000),
  'a lone line end': Buffer.from('\r\n', 'latin1'),
  'an unterminated header name': Buffer.from('Content-Len', 'latin1'),
};

for (const [name, bad] of Object.entries(MALFORMED)) {
  test(`after ${name}, the next well-formed message still arrives`, async () => {
    const before = frame(req(1));
    const after = Buffer.concat([frame(req(2)), frame(req(3, 'shutdown'))]);
    for (const sizes of [[1 << 20], [1], [5, 3]]) {
      const { out, dropped } = await run(split(Buffer.concat([before, bad, after]), sizes));
      assert.ok(dropped.length > 0 || name === 'a lone line end', `${name}: nothing reported as dropped`);
      const { got, errors } = await messages(out);
      // A frame whose body is not JSON reaches the reader, which reports it and goes on.
      assert.deepEqual(errors.map(String).filter((e) => !e.startsWith('SyntaxError')), [], `${name}, split ${sizes}`);
      const ids = got.map((m) => m.id);
      assert.deepEqual(ids.filter((id) => id < 90), [1, 2, 3], `${name}, split ${sizes}: got ${JSON.stringify(ids)}`);
    }
  });
}

test('random garbage between messages never loses a later message that follows a line end', async () => {
  const rng = prng(11);
  for (let round = 0; round < 200; round++) {
    const parts = [frame(req(1))];
    const junk = rng.bytes(rng.range(1, 300));
    parts.push(junk, Buffer.from('\r\n\r\n', 'latin1'), frame(req(2)), frame(req(3)));
    const input = Buffer.concat(parts);
    const { out } = await run(split(input, [rng.range(1, 50), rng.range(1, 500)]));
    const { got } = await messages(out);
    const ids = got.map((m) => m.id);
    // Message 2 may be swallowed only when the junk ends inside a header that absorbs it; 3 always arrives.
    assert.ok(ids.includes(1) && ids.includes(3), `round ${round}: ${JSON.stringify(ids)}`);
  }
});
