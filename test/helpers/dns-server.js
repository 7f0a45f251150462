// A tiny DNS responder for the tests, over UDP on 127.0.0.1 (never another
// address): answers A and AAAA from a map, NXDOMAIN for names it does not know.
//
//   const dns = await startDnsServer({
//     records: { 'builder.lan': ['10.1.2.3', 'fd00::3'] },  // IPv4 -> A, IPv6 -> AAAA
//     hang: ['slow.lan'],          // never answered
//     delays: { 'late.lan': 300 }, // answered after 300 ms
//     servfail: ['broken.lan'],    // SERVFAIL
//     refused: ['nope.lan'],       // REFUSED
//     onQuery: (name, type) => {}, // called as each query arrives
//   });
//   dns.address  // '127.0.0.1:PORT', for the `server` option
//   dns.queries  // every query received, in order: 'builder.lan A', 'builder.lan AAAA', ...
//   dns.count('builder.lan')  // queries received for a name (any type)
//   await dns.close();
//
// A name in `records` without an address of the asked type gets NOERROR with no
// answers (NODATA). Names are compared case-insensitively, without a trailing dot.
'use strict';
const dgram = require('node:dgram');
const net = require('node:net');

const TYPES = { 1: 'A', 28: 'AAAA' };
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };

const norm = (name) => name.toLowerCase().replace(/\.$/, '');

/** Parses the header and the first question; undefined when malformed. */
function parseQuery(msg) {
  if (msg.length < 12) return undefined;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response, not a query
  if (msg.readUInt16BE(4) < 1) return undefined;
  const labels = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off];
    if (len === 0) {
      off += 1;
      break;
    }
    if (len & 0xc0) return undefined; // no compression in a question we sent first
    if (off + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return undefined;
  const qtype = msg.readUInt16BE(off);
  const qclass = msg.readUInt16BE(off + 2);
  return { id, flags, name: labels.join('.'), qtype, qclass, question: msg.subarray(12, off + 4) };
}

function ipv6Bytes(text) {
  let s = text;
  const tail = [];
  const v4 = s.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const b = v4.slice(1).map(Number);
    tail.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
    s = s.slice(0, v4.index);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const words16 = (x) => (x === '' ? [] : x.split(':').map((h) => parseInt(h, 16)));
  const halves = s.split('::');
  let words;
  if (halves.length === 2) {
    const left = words16(halves[0]);
    const right = [...words16(halves[1]), ...tail];
    words = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  } else {
    words = [...words16(s), ...tail];
  }
  const buf = Buffer.alloc(16);
  words.forEach((w, i) => buf.writeUInt16BE(w, i * 2));
  return buf;
}

function rdata(address) {
  if (net.isIPv4(address)) return { type: 1, data: Buffer.from(address.split('.').map(Number)) };
  if (net.isIPv6(address)) return { type: 28, data: ipv6Bytes(address) };
  throw new Error(`dns-server: not an IP address: ${address}`);
}

function response(q, rcode, answers) {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, the query's opcode and RD, RA, rcode.
  header.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const rrs = answers.map(({ type, data }) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question
    rr.writeUInt16BE(type, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6); // TTL
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, q.question, ...rrs]);
}

function startDnsServer({ records = {}, hang = [], delays = {}, servfail = [], refused = [], onQuery } = {}) {
  const table = new Map(Object.entries(records).map(([k, v]) => [norm(k), v.map(rdata)]));
  const hangSet = new Set([...hang].map(norm));
  const failSet = new Set([...servfail].map(norm));
  const refuseSet = new Set([...refused].map(norm));
  const delayMap = new Map(Object.entries(delays).map(([k, v]) => [norm(k), v]));
  const queries = [];
  const timers = new Set();
  const socket = dgram.createSocket('udp4');

  socket.on('message', (msg, rinfo) => {
    const q = parseQuery(msg);
    if (!q) return;
    const name = norm(q.name);
    const type = TYPES[q.qtype] ?? `TYPE${q.qtype}`;
    queries.push(`${name} ${type}`);
    if (onQuery) onQuery(name, type);
    if (hangSet.has(name)) return;
    let reply;
    if (failSet.has(name)) reply = response(q, RCODE.SERVFAIL, []);
    else if (refuseSet.has(name)) reply = response(q, RCODE.REFUSED, []);
    else if (!table.has(name)) reply = response(q, RCODE.NXDOMAIN, []);
    else reply = response(q, RCODE.NOERROR, q.qclass === 1 ? table.get(name).filter((r) => r.type === q.qtype) : []);
    const send = () => socket.send(reply, rinfo.port, rinfo.address, () => {});
    const delay = delayMap.get(name);
    if (delay === undefined) send();
    else {
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, delay);
      timers.add(t);
    }
  });

  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      const { port } = socket.address();
      resolve({
        port,
        address: `127.0.0.1:${port}`,
        queries,
        count: (n) => queries.filter((e) => e.slice(0, e.lastIndexOf(' ')) === norm(n)).length,
        close: () =>
          new Promise((done) => {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            socket.close(() => done());
          }),
      });
    });
  });
}

module.exports = { startDnsServer };
