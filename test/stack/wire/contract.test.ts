/**
 * The wire codecs' contract with the engine: the exported names, reset and
 * bounds guarantees, the SYN|ACK and SACK-carrying ACK Linux sends (literal
 * bytes, checksums computed with an independent summation), memmove
 * semantics of the ICMP echo copy, large running sums, and seqMax/seqMin.
 */
import type { Seq, TsVal } from '../../../src/stack/wire/seqnum.ts';
import t from 'tap';
import { DropReason } from '../../../src/stack/drop-reason.ts';
import * as wire from '../../../src/stack/wire/index.ts';
import { checksumAdd, checksumFold, pseudoHeaderSum } from '../../../src/stack/wire/checksum.ts';
import { seqAdd, seqInWindow, seqMax, seqMin } from '../../../sim/raw-seqnum.ts';
import { ethDst, ethSrc, ethType, EthernetFields, parseEthernet } from '../../../src/stack/wire/ethernet.ts';
import { ArpFields, parseArp } from '../../../src/stack/wire/arp.ts';
import { emitIpv4, Ipv4Fields, parseIpv4 } from '../../../src/stack/wire/ipv4.ts';
import { emitIcmpEcho, ICMP_ECHO_REPLY, IcmpFields, parseIcmp } from '../../../src/stack/wire/icmp.ts';
import { emitTcp, parseTcp, TcpFields, tcpHeaderLen, TCP_ACK, TCP_SYN } from '../../../src/stack/wire/tcp.ts';
import { parseTcpOptions } from '../../../src/stack/wire/tcp-options.ts';

/** RFC 1071 the slow way, over a plain array: the independent reference. */
function refChecksum(bytes: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += bytes[i] * 256 + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return 0xffff - sum;
}

/** Seeded PRNG (xorshift32), integers in [0, n). */
function rng(seed: number): (n: number) => number {
  let x = seed | 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return Math.floor(((x >>> 0) / 4294967296) * n);
  };
}

const A = 0xc6120002 | 0; // 198.18.0.2, the Linux peer
const B = 0xc6120001 | 0; // 198.18.0.1, this stack
const A_BYTES = [0xc6, 0x12, 0x00, 0x02];
const B_BYTES = [0xc6, 0x12, 0x00, 0x01];

/** Linux's SYN|ACK 198.18.0.1:80 → 198.18.0.2:40000: IP id 0, DF, TTL 64, header checksum 0xae94. */
const SYNACK_IP = [0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xae, 0x94, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02];
/** seq 0x8f3c1b2a, ack 0x1a2b3c4e, window 65160, checksum 0x323c; MSS 1460, SACK_PERM, TS(0x9a8b7c6d, 0x0012d687), NOP, WS 7. */
const SYNACK_TCP = [
  0x00, 0x50, 0x9c, 0x40, 0x8f, 0x3c, 0x1b, 0x2a, 0x1a, 0x2b, 0x3c, 0x4e, 0xa0, 0x12, 0xfe, 0x88, 0x32, 0x3c, 0x00, 0x00,
  0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x9a, 0x8b, 0x7c, 0x6d, 0x00, 0x12, 0xd6, 0x87, 0x01, 0x03, 0x03, 0x07,
];
/** An ACK 40000 → 80 reporting a hole: IP id 0x1c47, checksum 0x9249. */
const SACK_IP = [0x45, 0x00, 0x00, 0x40, 0x1c, 0x47, 0x40, 0x00, 0x40, 0x06, 0x92, 0x49, 0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01];
/** seq 0x1a2b3c4e, ack 0x8f3c1b2b, window 502, checksum 0xc32a; NOP NOP TS(0x0012d6a0, 0x9a8b7c80) NOP NOP SACK [0x8f3c2000, 0x8f3c25b4). */
const SACK_TCP = [
  0x9c, 0x40, 0x00, 0x50, 0x1a, 0x2b, 0x3c, 0x4e, 0x8f, 0x3c, 0x1b, 0x2b, 0xb0, 0x10, 0x01, 0xf6, 0xc3, 0x2a, 0x00, 0x00,
  0x01, 0x01, 0x08, 0x0a, 0x00, 0x12, 0xd6, 0xa0, 0x9a, 0x8b, 0x7c, 0x80, 0x01, 0x01, 0x05, 0x0a,
  0x8f, 0x3c, 0x20, 0x00, 0x8f, 0x3c, 0x25, 0xb4,
];

const pseudo = (src: readonly number[], dst: readonly number[], len: number): number[] => [...src, ...dst, 0, 6, len >>> 8, len & 0xff];

t.test('the index exports every name the engine is written against', async (t) => {
  const values: Record<string, number> = {
    ETH_HLEN: 14, ETHERTYPE_IPV4: 0x0800, ETHERTYPE_ARP: 0x0806, MAC_BROADCAST: 0xffffffffffff,
    ARP_LEN: 28, ARP_REQUEST: 1, ARP_REPLY: 2, IPPROTO_ICMP: 1, IPPROTO_TCP: 6, IPV4_HLEN: 20,
    ICMP_ECHO_REQUEST: 8, ICMP_ECHO_REPLY: 0, TCP_FIN: 0x01, TCP_SYN: 0x02, TCP_RST: 0x04, TCP_PSH: 0x08,
    TCP_ACK: 0x10, TCP_URG: 0x20, TCP_ECE: 0x40, TCP_CWR: 0x80, TCP_HLEN: 20, TCP_MAX_SACK_BLOCKS: 4,
  };
  const w = wire as unknown as Record<string, unknown>;
  for (const [name, v] of Object.entries(values)) t.equal(w[name], v, name);
  const fns = [
    'checksumAdd', 'checksumFold', 'pseudoHeaderSum', 'seqLt', 'seqLe', 'seqGt', 'seqGe', 'seqAdd', 'seqDiff', 'seqMax',
    'seqMin', 'seqInWindow', 'readMac', 'writeMac', 'ethDst', 'ethSrc', 'ethType', 'emitEthernet', 'parseEthernet',
    'parseArp', 'emitArp', 'parseIpv4', 'emitIpv4', 'parseIcmp', 'emitIcmpEcho', 'parseTcpOptions', 'parseTcp',
    'tcpHeaderLen', 'emitTcp', 'tcpChecksumOk', 'EthernetFields', 'ArpFields', 'Ipv4Fields', 'IcmpFields', 'TcpFields',
  ];
  for (const name of fns) t.equal(typeof w[name], 'function', name);
});

t.test('fields objects start with every property present (one hidden class)', async (t) => {
  t.same(Object.keys(new EthernetFields()), ['dst', 'src', 'type', 'payloadOff', 'payloadLen']);
  t.same(Object.keys(new ArpFields()), ['op', 'sha', 'spa', 'tha', 'tpa']);
  t.same(Object.keys(new Ipv4Fields()),
    ['headerLen', 'totalLen', 'id', 'flagsFrag', 'ttl', 'proto', 'src', 'dst', 'payloadOff', 'payloadLen']);
  t.same(Object.keys(new IcmpFields()), ['type', 'code', 'id', 'seq', 'payloadOff', 'payloadLen']);
  const f = new TcpFields();
  t.same(Object.keys(f), [
    'srcPort', 'dstPort', 'seq', 'ack', 'headerLen', 'flags', 'window', 'urgent', 'payloadOff', 'payloadLen',
    'mss', 'wscale', 'sackPermitted', 'hasTimestamp', 'tsVal', 'tsEcr', 'sackCount', 'sackLeft', 'sackRight',
  ]);
  t.same([f.mss, f.wscale, f.sackPermitted, f.hasTimestamp, f.sackCount, f.sackLeft.length], [-1, -1, false, false, 0, 4]);
  for (const v of Object.values(f)) t.not(v, undefined);
});

t.test('fixtures: checksums verify with the independent reference', async (t) => {
  t.equal(refChecksum(SYNACK_IP), 0);
  t.equal(refChecksum(SACK_IP), 0);
  t.equal(refChecksum([...pseudo(B_BYTES, A_BYTES, SYNACK_TCP.length), ...SYNACK_TCP]), 0);
  t.equal(refChecksum([...pseudo(A_BYTES, B_BYTES, SACK_TCP.length), ...SACK_TCP]), 0);
});

t.test('Linux SYN|ACK: deconstruct, construct byte for byte', async (t) => {
  const frame = Uint8Array.from([...SYNACK_IP, ...SYNACK_TCP]);
  const ip = new Ipv4Fields();
  t.equal(parseIpv4(frame, 0, frame.length, ip), DropReason.None);
  t.same([ip.src, ip.dst, ip.id, ip.flagsFrag, ip.payloadLen], [B, A, 0, 0x4000, 40]);
  const f = new TcpFields();
  t.equal(parseTcp(frame, ip.payloadOff, ip.payloadLen, ip.src, ip.dst, f, true), DropReason.None);
  t.same([f.srcPort, f.dstPort, f.seq, f.ack, f.flags, f.window, f.headerLen], [80, 40000, 0x8f3c1b2a | 0, 0x1a2b3c4e, TCP_SYN | TCP_ACK, 65160, 40]);
  t.same([f.mss, f.sackPermitted, f.hasTimestamp, f.tsVal, f.tsEcr, f.wscale, f.sackCount], [1460, true, true, 0x9a8b7c6d | 0, 0x0012d687, 7, 0]);

  const g = new TcpFields();
  g.srcPort = 80;
  g.dstPort = 40000;
  g.seq = (0x8f3c1b2a | 0) as unknown as Seq;
  g.ack = (0x1a2b3c4e) as unknown as Seq;
  g.flags = TCP_SYN | TCP_ACK;
  g.window = 65160;
  g.mss = 1460;
  g.sackPermitted = true;
  g.hasTimestamp = true;
  g.tsVal = (0x9a8b7c6d | 0) as unknown as TsVal;
  g.tsEcr = (0x0012d687) as unknown as TsVal;
  g.wscale = 7;
  g.headerLen = 999; // not read by emitTcp
  g.payloadLen = 999;
  const out = new Uint8Array(61);
  t.equal(tcpHeaderLen(g), 40);
  t.equal(emitTcp(out, 21, g, B, A, 0), 40);
  t.equal(emitIpv4(out, 1, B, A, 6, 40, 0, 64), 20);
  t.same([...out.subarray(1)], [...SYNACK_IP, ...SYNACK_TCP]);
  t.equal(out[0], 0);
});

t.test('ACK with NOP NOP TS NOP NOP SACK: deconstruct, construct, round trip', async (t) => {
  const f = new TcpFields();
  const seg = Uint8Array.from(SACK_TCP);
  t.equal(parseTcp(seg, 0, seg.length, A, B, f, true), DropReason.None);
  t.same([f.headerLen, f.flags, f.window, f.payloadLen, f.tsVal, f.tsEcr], [44, TCP_ACK, 502, 0, 0x0012d6a0, 0x9a8b7c80 | 0]);
  t.same([f.sackCount, f.sackLeft[0], f.sackRight[0]], [1, 0x8f3c2000 | 0, 0x8f3c25b4 | 0]);
  t.equal(f.sackLeft[0], seqAdd(0x8f3c1b2b, 0x4d5), 'a SACK edge read back equals the int32 seqAdd gives');
  t.equal(tcpHeaderLen(f), 44);
  const out = new Uint8Array(44);
  t.equal(emitTcp(out, 0, f, A, B, 0), 44);
  t.same([...out], SACK_TCP);
});

t.test('parseTcp resets every option field, even when it drops the segment', async (t) => {
  const syn = Uint8Array.from(SYNACK_TCP);
  const sack = Uint8Array.from(SACK_TCP);
  const f = new TcpFields();
  const drops: [string, () => DropReason, DropReason][] = [
    ['too short', () => parseTcp(syn, 0, 19, B, A, f, true), DropReason.TcpTooShort],
    ['bad data offset', () => parseTcp(syn, 0, 39, B, A, f, true), DropReason.TcpBadDataOffset],
    ['bad checksum', () => parseTcp(syn, 0, 40, A, A, f, true), DropReason.TcpBadChecksum],
    ['no options', () => parseTcp(Uint8Array.from([...SYNACK_TCP.slice(0, 12), 0x50, ...SYNACK_TCP.slice(13, 20)]), 0, 20, B, A, f, false), DropReason.None],
  ];
  for (const [name, run, want] of drops) {
    t.equal(parseTcp(sack, 0, sack.length, A, B, f, true), DropReason.None);
    t.equal(parseTcp(syn, 0, syn.length, B, A, f, true), DropReason.None);
    t.ok(f.mss === 1460 && f.hasTimestamp && f.sackPermitted && f.wscale === 7, 'options set before');
    t.equal(run(), want, name);
    t.same([f.mss, f.wscale, f.sackPermitted, f.hasTimestamp, f.tsVal, f.tsEcr, f.sackCount], [-1, -1, false, false, 0, 0, 0], `${name}: reset`);
  }
  t.equal(parseTcp(sack, 0, sack.length, A, B, f, true), DropReason.None);
  t.equal(parseTcpOptions(Uint8Array.from([1, 1, 1, 0]), 0, 4, f), DropReason.None);
  t.equal(f.sackCount, 0, 'parseTcpOptions alone resets too');
});

t.test('ethDst, ethSrc, ethType read a frame in place', async (t) => {
  const b = Uint8Array.from([0, 0, 0x02, 0x00, 0xc6, 0x12, 0x00, 0x01, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x08, 0x06]);
  t.equal(ethDst(b, 2), 0x0200c6120001);
  t.equal(ethSrc(b, 2), 0xfedcba987654);
  t.equal(ethType(b, 2), 0x0806);
});

t.test('seqMax and seqMin follow modulo-2^32 order, returning int32', async (t) => {
  t.equal(seqMax(1, 2), 2);
  t.equal(seqMin(1, 2), 1);
  t.equal(seqMax(0xfffffff0, 0x10), 0x10, 'later across the wrap');
  t.equal(seqMin(0xfffffff0, 0x10), 0xfffffff0 | 0, 'earlier across the wrap, int32');
  t.equal(seqMax(0x7fffffff, 0x80000000), 0x80000000 | 0);
  t.equal(seqMin(0x7fffffff, 0x80000000 | 0), 0x7fffffff);
  t.equal(seqMax(5, 5), 5);
  t.equal(seqMin(-1, -1), -1);
  t.ok(seqInWindow(0x7fffffff, 0x7ffffff0, 0x20) && seqInWindow(0x80000001 | 0, 0x7ffffff0, 0x20), 'across the sign boundary');
  t.ok(seqInWindow(0xfffffffe, 0xfffffffe | 0, 1), 'uint32 and int32 forms mix');
});

t.test('checksumAdd: results stay small integers; large starting sums and long ranges fold', async (t) => {
  const r = rng(9);
  for (let k = 0; k < 200; k++) {
    const len = r(3000);
    const b = new Uint8Array(len + 7);
    for (let i = 0; i < b.length; i++) b[i] = r(256);
    const s = checksumAdd(b, 7, len, r(0x40000000));
    t.ok(Number.isInteger(s) && s >= 0 && s <= 0x1ffff, `running sum ${s} fits 17 bits`);
  }
  const bytes = [0x12, 0x34, 0xab, 0xcd, 0xef];
  const b = Uint8Array.from(bytes);
  // A starting sum of 0x0001_0000_0000_0001 (as a double) is 1 + 1 modulo 0xffff, i.e. the words 0x0001 0x0001.
  t.equal(checksumFold(checksumAdd(b, 0, 5, 2 ** 48 + 1)), refChecksum([0, 1, 0, 1, ...bytes]), 'sum above 2^32');
  t.equal(checksumFold(checksumAdd(b, 0, 5, 0x40000000)), refChecksum([0x40, 0, 0, 0, ...bytes]), 'sum just above 2^30');
  t.equal(checksumFold(2 ** 52 + 0xffff * 7), checksumFold(checksumAdd(new Uint8Array(0), 0, 0, 2 ** 52 + 0xffff * 7)));
  // Odd lengths across the 64 KiB chunk boundary, at an odd offset.
  for (const len of [65535, 65536, 65537, 65551, 131073]) {
    const big = new Uint8Array(len + 3);
    for (let i = 0; i < big.length; i++) big[i] = r(256);
    t.equal(checksumFold(checksumAdd(big, 3, len, 0x1234)), refChecksum([0x12, 0x34, ...big.subarray(3)]), `length ${len}`);
  }
});

t.test('checksumAdd matches the reference on random buffers, offsets and even chunkings', async (t) => {
  const r = rng(1071);
  let bad = 0;
  for (let k = 0; k < 2000; k++) {
    const len = r(1600);
    const off = r(9);
    const b = new Uint8Array(off + len + 5);
    for (let i = 0; i < b.length; i++) b[i] = r(256);
    const ref = refChecksum([...b.subarray(off, off + len)]);
    if (checksumFold(checksumAdd(b, off, len, 0)) !== ref) bad++;
    const cut = Math.min(len, r(len + 1) & ~1);
    if (checksumFold(checksumAdd(b, off + cut, len - cut, checksumAdd(b, off, cut, 0))) !== ref) bad++;
  }
  t.equal(bad, 0);
  t.equal(checksumFold(pseudoHeaderSum(A, B, 6, 40)), refChecksum(pseudo(A_BYTES, B_BYTES, 40)));
});

t.test('emitIcmpEcho copies like memmove, also between two views of one arena', async (t) => {
  const payload = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const expect = (bytes: Uint8Array, off: number): void => {
    const f = new IcmpFields();
    t.equal(parseIcmp(bytes, off, 8 + payload.length, f), DropReason.None);
    t.same([f.type, f.id, f.seq, ...bytes.subarray(f.payloadOff, f.payloadOff + f.payloadLen)], [ICMP_ECHO_REPLY, 0xbeef, 3, ...payload]);
  };
  for (const shift of [-9, -3, -1, 1, 3, 9, 20]) {
    const arena = new ArrayBuffer(64);
    const dst = new Uint8Array(arena, 8, 48);
    const src = new Uint8Array(arena, 8 + 10 + shift, 20);
    src.set(payload, 0);
    t.equal(emitIcmpEcho(dst, 2, ICMP_ECHO_REPLY, 0xbeef, 3, src, 0, payload.length), 8 + payload.length);
    expect(dst, 2);
  }
  const same = new Uint8Array(40);
  same.set(payload, 10);
  emitIcmpEcho(same, 2, ICMP_ECHO_REPLY, 0xbeef, 3, same, 10, payload.length);
  expect(same, 2);
});

t.test('10,000 random buffers: parsers return a reason and, on success, stay in bounds', async (t) => {
  const r = rng(0x5eed);
  const eth = new EthernetFields();
  const arp = new ArpFields();
  const ip = new Ipv4Fields();
  const icmp = new IcmpFields();
  const tcp = new TcpFields();
  const arena = new Uint8Array(300);
  let threw = 0;
  let outside = 0;
  let ok = 0;
  const inBounds = (off: number, len: number, pOff: number, pLen: number): void => {
    ok++;
    if (pLen < 0 || pOff < off || pOff + pLen > off + len) outside++;
  };
  for (let k = 0; k < 10_000; k++) {
    const off = r(40);
    const len = r(220);
    for (let i = 0; i < arena.length; i++) arena[i] = r(256);
    if (k & 1) arena[off] = 0x45;
    if (k % 3 === 0) arena[off + 12] = (5 + r(11)) << 4;
    try {
      if (parseEthernet(arena, off, len, eth) === DropReason.None) inBounds(off, len, eth.payloadOff, eth.payloadLen);
      if (parseArp(arena, off, len, arp) === DropReason.None) ok++;
      if (parseIpv4(arena, off, len, ip) === DropReason.None) inBounds(off, len, ip.payloadOff, ip.payloadLen);
      if (parseIcmp(arena, off, len, icmp) === DropReason.None) inBounds(off, len, icmp.payloadOff, icmp.payloadLen);
      const rt = parseTcp(arena, off, len, A, B, tcp, false);
      if (typeof rt !== 'number' || rt < 0 || rt >= DropReason.Count) threw++;
      if (rt === DropReason.None) {
        inBounds(off, len, tcp.payloadOff, tcp.payloadLen);
        if (tcp.headerLen < 20 || tcp.headerLen > 60 || tcp.sackCount > 4 || tcp.wscale > 14 || tcp.mss > 0xffff) outside++;
      }
    } catch {
      threw++;
    }
  }
  t.equal(threw, 0, 'no throw, every result a DropReason');
  t.equal(outside, 0, 'payloads within [off, off + len)');
  t.ok(ok > 10_000, `${ok} successful parses checked`);
});
