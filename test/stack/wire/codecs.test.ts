/** Packet codecs against literal byte fixtures: parse, emit, round trip, truncation, bad input. */
import type { Seq, TsVal } from '../../../src/stack/wire/seqnum.ts';
import t from 'tap';
import { DropReason } from '../../../src/stack/drop-reason.ts';
import { checksumAdd, checksumFold, pseudoHeaderSum } from '../../../src/stack/wire/checksum.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqInWindow, seqLe, seqLt } from '../../../sim/raw-seqnum.ts';
import { EthernetFields, emitEthernet, parseEthernet, readMac, writeMac } from '../../../src/stack/wire/ethernet.ts';
import { ArpFields, ARP_REPLY, ARP_REQUEST, emitArp, parseArp } from '../../../src/stack/wire/arp.ts';
import { emitIpv4, Ipv4Fields, parseIpv4 } from '../../../src/stack/wire/ipv4.ts';
import { emitIcmpEcho, IcmpFields, ICMP_ECHO_REPLY, parseIcmp } from '../../../src/stack/wire/icmp.ts';
import { emitTcp, parseTcp, TcpFields, tcpHeaderLen, TCP_ACK, TCP_SYN } from '../../../src/stack/wire/tcp.ts';
import { parseTcpOptions } from '../../../src/stack/wire/tcp-options.ts';
import { mulberry32, naiveChecksum } from './fixtures/packets.ts';

// A SYN from 198.18.0.2:40000 to 198.18.0.1:80 as Linux sends it:
// options MSS 1460, SACK_PERM, TS (val 0x01020304, ecr 0), NOP, WS 7.
const SYN_IP_HDR = [
  0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01,
];
const SYN_TCP = [
  0x9c, 0x40, 0x00, 0x50, // ports 40000 -> 80
  0x00, 0x00, 0x13, 0x88, // seq 5000
  0x00, 0x00, 0x00, 0x00, // ack 0
  0xa0, 0x02, 0xfa, 0xf0, // data offset 10 (40 bytes), SYN, window 64240
  0x00, 0x00, 0x00, 0x00, // checksum (filled below), urgent 0
  0x02, 0x04, 0x05, 0xb4, // MSS 1460
  0x04, 0x02, 0x08, 0x0a, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, // SACK_PERM, TS
  0x01, 0x03, 0x03, 0x07, // NOP, WS 7
];
const SRC = 0xc6120002;
const DST = 0xc6120001;

function synPacket(): number[] {
  const ip = [...SYN_IP_HDR];
  const ipc = naiveChecksum(ip);
  ip[10] = ipc >> 8;
  ip[11] = ipc & 0xff;
  const tcp = [...SYN_TCP];
  const pseudo = [0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01, 0x00, 0x06, 0x00, tcp.length];
  const c = naiveChecksum([...pseudo, ...tcp]);
  tcp[16] = c >> 8;
  tcp[17] = c & 0xff;
  return [...ip, ...tcp];
}

t.test('checksum: matches the naive reference, odd lengths, chunked sums', async (t) => {
  const r = mulberry32(1);
  for (let n = 0; n < 300; n++) {
    const len = Math.floor(r() * 1500);
    const bytes = Array.from({ length: len }, () => Math.floor(r() * 256));
    const buf = Uint8Array.from(bytes);
    t.equal(checksumFold(checksumAdd(buf, 0, len, 0)), naiveChecksum(bytes), `len ${len}`);
    const cut = Math.floor((r() * len) / 2) * 2;
    const chunked = checksumAdd(buf, cut, len - cut, checksumAdd(buf, 0, cut, 0));
    t.equal(checksumFold(chunked), naiveChecksum(bytes), `chunked at ${cut}`);
  }
  t.equal(pseudoHeaderSum(0xffffffff, 0xffffffff, 6, 20), 0xffff * 4 + 26);
});

t.test('seqnum: comparisons across the 2^32 wrap (RFC 9293 §3.4)', async (t) => {
  t.ok(seqLt(0xffffffff, 0));
  t.ok(seqGt(0, 0xffffffff));
  t.ok(seqLe(5, 5) && seqGe(5, 5));
  t.equal(seqAdd(0xffffffff, 2), 1);
  t.equal(seqAdd(1, -2) >>> 0, 0xffffffff, 'int32 inside, the same 32 bits');
  t.equal(seqDiff(1, 0xffffffff), 2);
  t.equal(seqDiff(0xffffffff, 1), -2);
  t.ok(seqInWindow(0, 0xfffffff0, 32));
  t.notOk(seqInWindow(16, 0xfffffff0, 32));
  t.notOk(seqInWindow(5, 5, 0));
});

t.test('ethernet: MACs and headers', async (t) => {
  const b = new Uint8Array(20);
  writeMac(b, 0, 0x0200c6120001);
  t.same([...b.subarray(0, 6)], [0x02, 0x00, 0xc6, 0x12, 0x00, 0x01]);
  t.equal(readMac(b, 0), 0x0200c6120001);
  t.equal(emitEthernet(b, 0, 0xffffffffffff, 0x0200c6120001, 0x0800), 14);
  const f = new EthernetFields();
  t.equal(parseEthernet(b, 0, 14, f), DropReason.None);
  t.same([f.dst, f.src, f.type, f.payloadOff, f.payloadLen], [0xffffffffffff, 0x0200c6120001, 0x0800, 14, 0]);
  t.equal(parseEthernet(b, 0, 13, f), DropReason.EthTooShort);
});

t.test('arp: request fixture, reply emit, unsupported and truncated', async (t) => {
  const req = Uint8Array.from([
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x01,
  ]);
  const a = new ArpFields();
  t.equal(parseArp(req, 0, 28, a), DropReason.None);
  t.same([a.op, a.sha, a.spa >>> 0, a.tha, a.tpa >>> 0], [ARP_REQUEST, 0x0200c6120002, SRC, 0, DST]);
  const out = new Uint8Array(28);
  t.equal(emitArp(out, 0, ARP_REQUEST, 0x0200c6120002, SRC, 0, DST), 28);
  t.same([...out], [...req], 'emit reproduces the fixture');
  emitArp(out, 0, ARP_REPLY, 0x0200c6120001, DST, 0x0200c6120002, SRC);
  t.equal(parseArp(out, 0, 28, a), DropReason.None);
  t.equal(a.op, ARP_REPLY);
  for (let len = 0; len < 28; len++) t.equal(parseArp(req, 0, len, a), DropReason.ArpTooShort);
  const bad = req.slice();
  bad[1] = 6; // not Ethernet
  t.equal(parseArp(bad, 0, 28, a), DropReason.ArpUnsupported);
  const badOp = req.slice();
  badOp[7] = 9;
  t.equal(parseArp(badOp, 0, 28, a), DropReason.ArpUnsupported);
});

t.test('ipv4 + tcp: a Linux SYN fixture parses, and emit reproduces it byte for byte', async (t) => {
  const pkt = Uint8Array.from(synPacket());
  const ip = new Ipv4Fields();
  t.equal(parseIpv4(pkt, 0, pkt.length, ip), DropReason.None);
  t.same([ip.headerLen, ip.totalLen, ip.id, ip.ttl, ip.proto, ip.src >>> 0, ip.dst >>> 0, ip.payloadOff, ip.payloadLen],
    [20, 60, 0x1234, 64, 6, SRC, DST, 20, 40]);
  const f = new TcpFields();
  t.equal(parseTcp(pkt, 20, 40, SRC, DST, f, true), DropReason.None);
  t.same([f.srcPort, f.dstPort, f.seq, f.ack, f.headerLen, f.flags, f.window, f.payloadLen], [40000, 80, 5000, 0, 40, TCP_SYN, 64240, 0]);
  t.same([f.mss, f.wscale, f.sackPermitted, f.hasTimestamp, f.tsVal, f.tsEcr], [1460, 7, true, true, 0x01020304, 0]);
  t.equal(tcpHeaderLen(f), 40);
  const out = new Uint8Array(60);
  t.equal(emitTcp(out, 20, f, SRC, DST, 0), 40);
  t.equal(emitIpv4(out, 0, SRC, DST, 6, 40, 0x1234, 64), 20);
  t.same([...out], [...pkt], 'emit reproduces the fixture, checksums included');
});

t.test('ipv4: every malformed header is dropped with its reason', async (t) => {
  const pkt = Uint8Array.from(synPacket());
  const ip = new Ipv4Fields();
  for (let len = 0; len < 20; len++) t.equal(parseIpv4(pkt, 0, len, ip), DropReason.IpTooShort, `len ${len}`);
  const v6 = pkt.slice();
  v6[0] = 0x65;
  t.equal(parseIpv4(v6, 0, 60, ip), DropReason.IpBadVersion);
  const ihl = pkt.slice();
  ihl[0] = 0x44;
  t.equal(parseIpv4(ihl, 0, 60, ip), DropReason.IpBadHeaderLen);
  t.equal(parseIpv4(pkt, 0, 59, ip), DropReason.IpBadTotalLen, 'total length beyond the frame');
  const sum = pkt.slice();
  sum[8] = 63; // TTL changed, checksum not
  t.equal(parseIpv4(sum, 0, 60, ip), DropReason.IpBadChecksum);
  const mf = new Uint8Array(60);
  emitIpv4(mf, 0, SRC, DST, 6, 40, 1, 64);
  mf[6] = 0x20; // MF
  mf[10] = mf[11] = 0;
  let c = checksumFold(checksumAdd(mf, 0, 20, 0));
  mf[10] = c >> 8;
  mf[11] = c & 0xff;
  t.equal(parseIpv4(mf, 0, 60, ip), DropReason.IpFragment, 'more fragments');
  mf[6] = 0x00;
  mf[7] = 0x10; // offset 16
  mf[10] = mf[11] = 0;
  c = checksumFold(checksumAdd(mf, 0, 20, 0));
  mf[10] = c >> 8;
  mf[11] = c & 0xff;
  t.equal(parseIpv4(mf, 0, 60, ip), DropReason.IpFragment, 'non-zero offset');
  const padded = new Uint8Array(80);
  padded.set(pkt);
  t.equal(parseIpv4(padded, 0, 80, ip), DropReason.None, 'Ethernet padding is ignored');
  t.equal(ip.payloadLen, 40);
});

t.test('tcp: truncation, bad checksum, bad data offset, malformed options', async (t) => {
  const pkt = Uint8Array.from(synPacket());
  const f = new TcpFields();
  for (let len = 0; len < 20; len++) t.equal(parseTcp(pkt, 20, len, SRC, DST, f, false), DropReason.TcpTooShort);
  for (let len = 20; len < 40; len++) t.equal(parseTcp(pkt, 20, len, SRC, DST, f, false), DropReason.TcpBadDataOffset);
  const bad = pkt.slice();
  bad[40 + 3] ^= 1;
  t.equal(parseTcp(bad, 20, 40, SRC, DST, f, true), DropReason.TcpBadChecksum);
  t.equal(parseTcp(pkt, 20, 40, SRC, DST + 1, f, true), DropReason.TcpBadChecksum, 'pseudo-header covers the addresses');
  const off4 = pkt.slice();
  off4[32] = 0x40;
  t.equal(parseTcp(off4, 20, 40, SRC, DST, f, false), DropReason.TcpBadDataOffset);

  const opts = (bytes: number[]): DropReason => parseTcpOptions(Uint8Array.from(bytes), 0, bytes.length, f);
  t.equal(opts([2, 4, 5, 0xb4]), DropReason.None);
  t.equal(opts([2, 3, 5]), DropReason.TcpBadOption, 'MSS of length 3');
  t.equal(opts([3, 2]), DropReason.TcpBadOption, 'WS of length 2');
  t.equal(opts([8, 9, 0, 0, 0, 0, 0, 0, 0]), DropReason.TcpBadOption, 'TS of length 9');
  t.equal(opts([5, 9, 0, 0, 0, 0, 0, 0, 0]), DropReason.TcpBadOption, 'SACK not 2+8n');
  t.equal(opts([5, 42, ...new Array(40).fill(0)]), DropReason.TcpBadOption, 'SACK with 5 blocks');
  t.equal(opts([30, 1]), DropReason.TcpBadOption, 'length below 2');
  t.equal(opts([30, 8, 0, 0]), DropReason.TcpBadOption, 'runs past the header');
  t.equal(opts([2]), DropReason.TcpBadOption, 'kind without length');
  t.equal(opts([30, 4, 9, 9, 2, 4, 1, 0]), DropReason.None, 'unknown option skipped');
  t.equal(f.mss, 256);
  t.equal(opts([0, 2, 3]), DropReason.None, 'EOL ends the list');
  t.equal(f.mss, -1);
  t.equal(opts([3, 3, 20, 1]), DropReason.None);
  t.equal(f.wscale, 14, 'shift above 14 is clamped (RFC 7323 §2.3)');
  t.equal(opts([1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]), DropReason.None);
  t.same([f.sackCount, f.sackLeft[0], f.sackRight[0], f.sackLeft[1], f.sackRight[1]], [2, 1, 2, 3, 4]);
});

t.test('tcp: option layouts on emit', async (t) => {
  const f = new TcpFields();
  f.mss = -1;
  f.wscale = -1;
  f.sackPermitted = false;
  f.hasTimestamp = true;
  f.tsVal = (7) as unknown as TsVal;
  f.tsEcr = (9) as unknown as TsVal;
  t.equal(tcpHeaderLen(f), 32, 'data segment: NOP NOP TS');
  const out = new Uint8Array(80);
  f.flags = TCP_ACK;
  emitTcp(out, 0, f, SRC, DST, 0);
  t.same([...out.subarray(20, 24)], [1, 1, 8, 10]);
  f.sackCount = 4;
  for (let i = 0; i < 4; i++) {
    f.sackLeft[i] = (i * 10) as unknown as Seq;
    f.sackRight[i] = (i * 10 + 5) as unknown as Seq;
  }
  t.equal(tcpHeaderLen(f), 20 + 12 + 4 + 3 * 8, 'with TS only three SACK blocks fit in 40 bytes');
  f.hasTimestamp = false;
  t.equal(tcpHeaderLen(f), 20 + 4 + 4 * 8, 'four blocks without TS');
  const n = emitTcp(out, 0, f, SRC, DST, 0);
  const back = new TcpFields();
  t.equal(parseTcp(out, 0, n, SRC, DST, back, true), DropReason.None);
  t.equal(back.sackCount, 4);
  t.equal(back.sackRight[3], 35);
});

t.test('icmp: echo reply built in place from the request', async (t) => {
  const buf = new Uint8Array(64);
  const payload = Uint8Array.from([1, 2, 3, 4, 5]);
  const n = emitIcmpEcho(buf, 0, 8, 0x1234, 7, payload, 0, 5);
  t.equal(n, 13);
  const f = new IcmpFields();
  t.equal(parseIcmp(buf, 0, n, f), DropReason.None);
  t.same([f.type, f.id, f.seq, f.payloadLen], [8, 0x1234, 7, 5]);
  t.equal(emitIcmpEcho(buf, 0, ICMP_ECHO_REPLY, f.id, f.seq, buf, f.payloadOff, f.payloadLen), 13, 'in place');
  t.equal(parseIcmp(buf, 0, n, f), DropReason.None);
  t.same([f.type, ...buf.subarray(8, 13)], [0, 1, 2, 3, 4, 5]);
  buf[9] ^= 0xff;
  t.equal(parseIcmp(buf, 0, n, f), DropReason.IcmpBadChecksum);
  for (let len = 0; len < 8; len++) t.equal(parseIcmp(buf, 0, len, f), DropReason.IcmpTooShort);
});

t.test('fuzz: random bytes never make a parser throw', async (t) => {
  const r = mulberry32(42);
  const buf = new Uint8Array(256);
  const ip = new Ipv4Fields();
  const tcp = new TcpFields();
  const arp = new ArpFields();
  const icmp = new IcmpFields();
  let parsed = 0;
  for (let i = 0; i < 20_000; i++) {
    const len = Math.floor(r() * 200);
    for (let k = 0; k < len; k++) buf[k] = Math.floor(r() * 256);
    if (i % 2 === 0 && len >= 1) buf[0] = 0x45; // make some reach deeper
    const results = [
      parseIpv4(buf, 0, len, ip), parseTcp(buf, 0, len, SRC, DST, tcp, i % 3 === 0), parseArp(buf, 0, len, arp),
      parseIcmp(buf, 0, len, icmp), parseTcpOptions(buf, 0, Math.min(len, 40), tcp),
    ];
    for (const x of results) if (typeof x !== 'number') t.fail('not a number');
    parsed += results.filter((x) => x === 0).length;
  }
  t.ok(parsed > 0, `${parsed} random inputs parsed cleanly, the rest were dropped with a reason`);
});

t.test('every drop reason has a name', async (t) => {
  const { DROP_REASON_NAMES } = await import('../../../src/stack/drop-reason.ts');
  t.equal(DROP_REASON_NAMES.length, DropReason.Count);
  t.equal(new Set(DROP_REASON_NAMES).size, DROP_REASON_NAMES.length, 'names are distinct');
  t.equal(DROP_REASON_NAMES[DropReason.TcpBadChecksum], 'tcp_bad_checksum');
});
