/** TCP headers and options (RFC 9293 §3.1, RFC 7323, RFC 2018) against literal fixtures. */
import { seqValue, type Seq, type TsVal } from '../../../src/stack/wire/seqnum.ts';
import t, { type Test } from 'tap';
import { DropReason } from '../../../src/stack/drop-reason.ts';
import {
  emitTcp, parseTcp, TcpFields, tcpChecksumOk, tcpHeaderLen, TCP_ACK, TCP_HLEN, TCP_PSH, TCP_SYN,
} from '../../../src/stack/wire/tcp.ts';
import { emitTcpOptions, parseTcpOptions, resetTcpOptions, tcpOptionsLen } from '../../../src/stack/wire/tcp-options.ts';
import {
  bytesAt, DATA_TCP, IP_A, IP_A_NUM, IP_B, IP_B_NUM, naiveChecksum, placed, pseudoHeader, SYN_TCP,
} from './fixtures/packets.ts';

const SYN_OPTS = SYN_TCP.slice(20);

/** Parse option bytes alone (at offset 3 of a guarded buffer). */
function opts(bytes: readonly number[]): { r: DropReason; f: TcpFields } {
  const f = new TcpFields();
  const r = parseTcpOptions(placed(bytes, 3, 4), 3, bytes.length, f);
  return { r, f };
}

/** A TCP header (20 bytes + options + payload) from A to B with a correct checksum (naive reference). */
function segment(options: readonly number[], payload: readonly number[] = [], flags = TCP_ACK): number[] {
  const hlen = 20 + options.length;
  const s = [0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 2, (hlen / 4) << 4, flags, 0x10, 0x00, 0, 0, 0, 0, ...options, ...payload];
  const c = naiveChecksum([...pseudoHeader(IP_A, IP_B, 6, s.length), ...s]);
  s[16] = c >>> 8;
  s[17] = c & 0xff;
  return s;
}

function parseSeg(s: readonly number[], verify = true): { r: DropReason; f: TcpFields } {
  const f = new TcpFields();
  const r = parseTcp(placed(s, 7, 3), 7, s.length, IP_A_NUM, IP_B_NUM, f, verify);
  return { r, f };
}

t.test('options: deconstruct the Linux SYN options', async (t) => {
  const { r, f } = opts(SYN_OPTS);
  t.equal(r, DropReason.None);
  t.equal(f.mss, 1460);
  t.equal(f.sackPermitted, true);
  t.equal(f.hasTimestamp, true);
  t.equal(f.tsVal, 0x0012d687);
  t.equal(f.tsEcr, 0);
  t.equal(f.wscale, 7);
  t.equal(f.sackCount, 0);
});

t.test('options: empty and absent', async (t) => {
  const { r, f } = opts([]);
  t.equal(r, DropReason.None);
  t.equal(f.mss, -1);
  t.equal(f.wscale, -1);
  t.equal(f.sackPermitted, false);
  t.equal(f.hasTimestamp, false);
  t.equal(f.sackCount, 0);
  t.equal(opts([1, 1, 1, 1]).r, DropReason.None, 'NOPs only');
});

t.test('options: a parse resets what an earlier parse found', async (t) => {
  const f = new TcpFields();
  t.equal(parseTcpOptions(Uint8Array.from(SYN_OPTS), 0, SYN_OPTS.length, f), DropReason.None);
  t.equal(parseTcpOptions(Uint8Array.from([1, 1, 1, 1]), 0, 4, f), DropReason.None);
  t.equal(f.mss, -1);
  t.equal(f.wscale, -1);
  t.equal(f.sackPermitted, false);
  t.equal(f.hasTimestamp, false);
  t.equal(f.tsVal, 0);
  f.sackCount = 3;
  resetTcpOptions(f);
  t.equal(f.sackCount, 0);
});

t.test('options: timestamps with the high bit set are int32', async (t) => {
  const { r, f } = opts([1, 1, 8, 10, 0xff, 0xff, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00]);
  t.equal(r, DropReason.None);
  t.equal(f.tsVal, -2);
  t.equal(f.tsEcr, 0x80000000 | 0);
});

t.test('options: malformed lists → TcpBadOption', async (t) => {
  const cases: [string, number[]][] = [
    ['MSS length byte 0', [2, 0, 5, 0xb4]],
    ['MSS length byte 1', [2, 1, 5, 0xb4]],
    ['unknown kind, length byte 0', [0x1e, 0, 1, 1]],
    ['unknown kind, length byte 1', [0x1e, 1, 1, 1]],
    ['kind with no length byte at the end', [1, 1, 1, 2]],
    ['lone kind byte', [8]],
    ['MSS running past the header', [1, 2, 4, 5]],
    ['TS running past the header', [8, 10, 0, 0, 0, 1, 0, 0]],
    ['unknown option running past the header', [0xfe, 6, 1, 2]],
    ['MSS len 3', [2, 3, 5, 1]],
    ['MSS len 5', [2, 5, 5, 0xb4, 0, 1, 1, 1]],
    ['WS len 2', [3, 2, 1, 1]],
    ['WS len 4', [3, 4, 7, 0]],
    ['SACK_PERM len 3', [4, 3, 0, 1]],
    ['TS len 9', [8, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1]],
    ['TS len 11', [8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1]],
    ['SACK len 2 (no block)', [1, 1, 5, 2]],
    ['SACK len 9', [5, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1]],
    ['SACK len 11', [5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1]],
    ['SACK len 17', [5, 17, ...new Array<number>(15).fill(0), 1, 1, 1]],
    ['SACK with 5 blocks (len 42)', [5, 42, ...new Array<number>(40).fill(0)]],
  ];
  for (const [name, bytes] of cases) t.equal(opts(bytes).r, DropReason.TcpBadOption, name);
});

t.test('options: SACK blocks parsed (1 to 4)', async (t) => {
  for (let n = 1; n <= 4; n++) {
    const b: number[] = [1, 1, 5, 2 + 8 * n];
    for (let k = 0; k < n; k++) b.push(0xff, 0xff, 0xff, 0xf0 + k, 0x00, 0x00, 0x00, 0x10 + k);
    const { r, f } = opts(b);
    t.equal(r, DropReason.None, `${n} blocks`);
    t.equal(f.sackCount, n);
    for (let k = 0; k < n; k++) {
      t.equal(f.sackLeft[k], (0xfffffff0 + k) | 0);
      t.equal(f.sackRight[k], 0x10 + k);
    }
  }
});

t.test('options: window scale > 14 is clamped to 14 (RFC 7323 §2.3)', async (t) => {
  for (const [shift, want] of [[0, 0], [14, 14], [15, 14], [30, 14], [255, 14]]) {
    const { r, f } = opts([1, 3, 3, shift]);
    t.equal(r, DropReason.None);
    t.equal(f.wscale, want, `shift ${shift}`);
  }
});

t.test('options: unknown options are skipped by their length', async (t) => {
  const { r, f } = opts([0xfe, 4, 0xaa, 0xbb, 2, 4, 5, 0xb4, 0x1e, 2, 1, 3, 3, 2]);
  t.equal(r, DropReason.None);
  t.equal(f.mss, 1460);
  t.equal(f.wscale, 2);
  // An unknown option whose body looks like options is not parsed as options.
  const hidden = opts([0x22, 6, 2, 4, 0x12, 0x34]);
  t.equal(hidden.r, DropReason.None);
  t.equal(hidden.f.mss, -1);
});

t.test('options: EOL ends parsing', async (t) => {
  const a = opts([0, 2, 4, 5, 0xb4, 1, 1, 1]);
  t.equal(a.r, DropReason.None);
  t.equal(a.f.mss, -1, 'nothing after EOL is read');
  const b = opts([2, 4, 5, 0xb4, 0, 2, 0, 0xff]);
  t.equal(b.r, DropReason.None, 'garbage after EOL is ignored');
  t.equal(b.f.mss, 1460);
});

t.test('options: the caller-given length bounds parsing', async (t) => {
  // MSS lies beyond len: not seen.
  const f = new TcpFields();
  const buf = Uint8Array.from([1, 1, 1, 1, 2, 4, 5, 0xb4]);
  t.equal(parseTcpOptions(buf, 0, 4, f), DropReason.None);
  t.equal(f.mss, -1);
  t.equal(parseTcpOptions(buf, 0, 7, f), DropReason.TcpBadOption, 'MSS cut by len');
  t.equal(parseTcpOptions(buf, 4, 4, f), DropReason.None);
  t.equal(f.mss, 1460);
});

/** Options fields for emitting. */
function optFields(o: Partial<{ mss: number; wscale: number; sackPermitted: boolean; hasTimestamp: boolean; tsVal: number; tsEcr: number; sack: [number, number][] }>): TcpFields {
  const f = new TcpFields();
  f.mss = o.mss ?? -1;
  f.wscale = o.wscale ?? -1;
  f.sackPermitted = o.sackPermitted ?? false;
  f.hasTimestamp = o.hasTimestamp ?? false;
  f.tsVal = (o.tsVal ?? 0) as unknown as TsVal;
  f.tsEcr = (o.tsEcr ?? 0) as unknown as TsVal;
  const s = o.sack ?? [];
  f.sackCount = s.length;
  s.forEach(([l, r], k) => {
    f.sackLeft[k] = (l) as unknown as Seq;
    f.sackRight[k] = (r) as unknown as Seq;
  });
  return f;
}

function emitOpts(t: Test, f: TcpFields): number[] {
  const b = new Uint8Array(48).fill(0xee);
  const n = emitTcpOptions(b, 2, f);
  t.equal(b[1], 0xee, 'no write before off');
  t.equal(b[2 + n], 0xee, 'no write after the options');
  t.equal(tcpOptionsLen(f), n, 'tcpOptionsLen agrees with emit');
  return bytesAt(b, 2, n);
}

t.test('options emit: SYN layout MSS, SACK_PERM+TS packed, NOP WS → 20 bytes (Linux)', async (t) => {
  const f = optFields({ mss: 1460, sackPermitted: true, hasTimestamp: true, tsVal: 0x0012d687, tsEcr: 0, wscale: 7 });
  const b = emitOpts(t, f);
  t.equal(b.length, 20);
  t.same(b, SYN_OPTS);
});

t.test('options emit: other SYN combinations', async (t) => {
  t.same(emitOpts(t, optFields({ mss: 1460, sackPermitted: true, wscale: 7 })),
    [2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7], 'no TS: NOP NOP SACK_PERM');
  t.same(emitOpts(t, optFields({ mss: 536, hasTimestamp: true, tsVal: 1, tsEcr: 2 })),
    [2, 4, 2, 0x18, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], 'MSS + NOP NOP TS');
  t.same(emitOpts(t, optFields({ mss: 1460 })), [2, 4, 5, 0xb4], 'MSS only');
  t.same(emitOpts(t, optFields({ wscale: 0 })), [1, 3, 3, 0], 'WS 0 is present');
  t.same(emitOpts(t, optFields({})), [], 'nothing');
});

t.test('options emit: data segment with TS is NOP NOP TS = 12 bytes', async (t) => {
  const b = emitOpts(t, optFields({ hasTimestamp: true, tsVal: 1000, tsEcr: 0x0012d687 }));
  t.same(b, DATA_TCP.slice(20, 32));
  t.same(emitOpts(t, optFields({ hasTimestamp: true, tsVal: -1, tsEcr: 0x80000000 | 0 })),
    [1, 1, 8, 10, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0], 'int32 timestamps written as uint32 bytes');
});

t.test('options emit: SACK blocks — TS + 3 blocks at most, 4 without TS', async (t) => {
  const four: [number, number][] = [[0x100, 0x200], [0x300, 0x400], [-16, 16], [0x7ffffff0, 0x80000000 | 0]];
  const blk = (l: number, r: number): number[] => [l >>> 24, (l >>> 16) & 0xff, (l >>> 8) & 0xff, l & 0xff, r >>> 24, (r >>> 16) & 0xff, (r >>> 8) & 0xff, r & 0xff];
  const ts = [1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6];
  const withTs = emitOpts(t, optFields({ hasTimestamp: true, tsVal: 5, tsEcr: 6, sack: four }));
  t.equal(withTs.length, 40);
  t.same(withTs, [...ts, 1, 1, 5, 26, ...blk(0x100, 0x200), ...blk(0x300, 0x400), ...blk(-16, 16)]);
  const noTs = emitOpts(t, optFields({ sack: four }));
  t.equal(noTs.length, 36);
  t.same(noTs, [1, 1, 5, 34, ...four.flatMap(([l, r]) => blk(l, r))]);
  const one = emitOpts(t, optFields({ hasTimestamp: true, tsVal: 5, tsEcr: 6, sack: [[7, 9]] }));
  t.same(one, [...ts, 1, 1, 5, 10, ...blk(7, 9)]);
  // Parsed back, the blocks are the first ones.
  const p = opts(withTs);
  t.equal(p.r, DropReason.None);
  t.equal(p.f.sackCount, 3);
  t.same([0, 1, 2].map((i) => seqValue(p.f.sackLeft[i])), [0x100, 0x300, -16]);
  t.same([0, 1, 2].map((i) => seqValue(p.f.sackRight[i])), [0x200, 0x400, 16]);
  t.equal(p.f.tsVal, 5);
  // All options at once (a SYN never carries SACK blocks, but emit must still fit 40 bytes).
  const all = emitOpts(t, optFields({ mss: 1460, sackPermitted: true, hasTimestamp: true, wscale: 7, sack: four }));
  t.ok(all.length <= 40, `all options fit in 40 bytes (${all.length})`);
  t.equal(all.length % 4, 0);
});

t.test('options: emit → parse round trips', async (t) => {
  const f = optFields({ mss: 9000, sackPermitted: true, hasTimestamp: true, tsVal: -5, tsEcr: 77, wscale: 14 });
  const bytes = emitOpts(t, f);
  const { r, f: g } = opts(bytes);
  t.equal(r, DropReason.None);
  t.equal(g.mss, 9000);
  t.equal(g.sackPermitted, true);
  t.equal(g.hasTimestamp, true);
  t.equal(g.tsVal, -5);
  t.equal(g.tsEcr, 77);
  t.equal(g.wscale, 14);
});

t.test('tcp: deconstruct the SYN', async (t) => {
  const { r, f } = parseSeg(SYN_TCP);
  t.equal(r, DropReason.None);
  t.equal(f.srcPort, 40000);
  t.equal(f.dstPort, 80);
  t.equal(f.seq, 0x1a2b3c4d);
  t.equal(f.ack, 0);
  t.equal(f.headerLen, 40);
  t.equal(f.flags, TCP_SYN);
  t.equal(f.window, 64240);
  t.equal(f.urgent, 0);
  t.equal(f.payloadOff, 7 + 40);
  t.equal(f.payloadLen, 0);
  t.equal(f.mss, 1460);
  t.equal(f.wscale, 7);
  t.equal(f.sackPermitted, true);
  t.equal(f.hasTimestamp, true);
  t.equal(f.tsVal, 0x0012d687);
});

t.test('tcp: deconstruct a data segment with an odd-length payload', async (t) => {
  const f = new TcpFields();
  const b = placed(DATA_TCP, 7, 3);
  t.equal(parseTcp(b, 7, DATA_TCP.length, IP_B_NUM, IP_A_NUM, f, true), DropReason.None);
  t.equal(f.srcPort, 80);
  t.equal(f.dstPort, 40000);
  t.equal(f.seq, 0xdeadbeef | 0, 'seq is int32');
  t.equal(f.ack, 0x1a2b3c4e);
  t.equal(f.flags, TCP_PSH | TCP_ACK);
  t.equal(f.window, 502);
  t.equal(f.headerLen, 32);
  t.equal(f.hasTimestamp, true);
  t.equal(f.tsVal, 1000);
  t.equal(f.tsEcr, 0x0012d687);
  t.equal(f.mss, -1);
  t.equal(f.payloadOff, 7 + 32);
  t.equal(f.payloadLen, 5);
  t.equal(Buffer.from(b.subarray(f.payloadOff, f.payloadOff + f.payloadLen)).toString(), 'hello');
  t.equal(tcpChecksumOk(b, 7, DATA_TCP.length, IP_B_NUM, IP_A_NUM), true);
  t.equal(tcpChecksumOk(b, 7, DATA_TCP.length, IP_A_NUM, IP_B_NUM), true, 'swapping src/dst keeps the sum');
  t.equal(tcpChecksumOk(b, 7, DATA_TCP.length, IP_B_NUM, IP_B_NUM), false, 'another address breaks it');
});

t.test('tcp: construct the SYN exactly', async (t) => {
  const f = optFields({ mss: 1460, sackPermitted: true, hasTimestamp: true, tsVal: 0x0012d687, tsEcr: 0, wscale: 7 });
  f.srcPort = 40000;
  f.dstPort = 80;
  f.seq = (0x1a2b3c4d) as unknown as Seq;
  f.ack = (0) as unknown as Seq;
  f.flags = TCP_SYN;
  f.window = 64240;
  f.urgent = 0;
  t.equal(tcpHeaderLen(f), 40);
  const b = new Uint8Array(50).fill(0xee);
  t.equal(emitTcp(b, 5, f, IP_A_NUM, IP_B_NUM, 0), 40);
  t.same(bytesAt(b, 5, 40), SYN_TCP);
  t.equal(b[4], 0xee);
  t.equal(b[45], 0xee);
  // uint32 addresses give the same checksum.
  const u = new Uint8Array(40);
  emitTcp(u, 0, f, 0xc6120002, 0xc6120001, 0);
  t.same(Array.from(u), SYN_TCP);
});

t.test('tcp: construct a data segment (payload already in place)', async (t) => {
  const f = optFields({ hasTimestamp: true, tsVal: 1000, tsEcr: 0x0012d687 });
  f.srcPort = 80;
  f.dstPort = 40000;
  f.seq = (0xdeadbeef | 0) as unknown as Seq;
  f.ack = (0x1a2b3c4e) as unknown as Seq;
  f.flags = TCP_PSH | TCP_ACK;
  f.window = 502;
  t.equal(tcpHeaderLen(f), 32);
  const b = new Uint8Array(40).fill(0xee);
  b.set([0x68, 0x65, 0x6c, 0x6c, 0x6f], 1 + 32);
  t.equal(emitTcp(b, 1, f, IP_B_NUM, IP_A_NUM, 5), 32);
  t.same(bytesAt(b, 1, 37), DATA_TCP);
  t.equal(b[38], 0xee);
});

t.test('tcp: parse → emit round trips', async (t) => {
  for (const [name, seg, src, dst] of [['SYN', SYN_TCP, IP_A_NUM, IP_B_NUM], ['data', DATA_TCP, IP_B_NUM, IP_A_NUM]] as const) {
    const f = new TcpFields();
    t.equal(parseTcp(Uint8Array.from(seg), 0, seg.length, src, dst, f, true), DropReason.None);
    const out = new Uint8Array(seg.length);
    out.set(seg.slice(f.headerLen), f.headerLen);
    t.equal(emitTcp(out, 0, f, src, dst, f.payloadLen), f.headerLen);
    t.same(Array.from(out), seg, name);
  }
});

t.test('tcp: truncated at every length below 20 → TcpTooShort', async (t) => {
  const f = new TcpFields();
  for (let len = 0; len < TCP_HLEN; len++) {
    t.equal(parseTcp(Uint8Array.from(SYN_TCP.slice(0, len)), 0, len, IP_A_NUM, IP_B_NUM, f, true), DropReason.TcpTooShort, `len ${len}`);
    t.equal(parseTcp(Uint8Array.from(SYN_TCP.slice(0, len)), 0, len, IP_A_NUM, IP_B_NUM, f, false), DropReason.TcpTooShort, `len ${len}, no checksum`);
  }
  for (let len = TCP_HLEN; len < 40; len++) {
    t.equal(parseTcp(Uint8Array.from(SYN_TCP.slice(0, len)), 0, len, IP_A_NUM, IP_B_NUM, f, false), DropReason.TcpBadDataOffset, `options cut at ${len}`);
  }
});

t.test('tcp: data offset below 5', async (t) => {
  for (let doff = 0; doff < 5; doff++) {
    const s = segment([]);
    s[12] = doff << 4;
    t.equal(parseSeg(s, false).r, DropReason.TcpBadDataOffset, `doff ${doff}`);
  }
  const s = segment([]);
  s[12] = 0xf0;
  t.equal(parseSeg(s, false).r, DropReason.TcpBadDataOffset, 'doff 15 beyond a 20-byte segment');
});

t.test('tcp: bad checksum rejected, unless verification is off', async (t) => {
  let rejected = 0;
  for (let i = 0; i < DATA_TCP.length; i++) {
    const s = DATA_TCP.slice();
    s[i] ^= 0x04;
    const f = new TcpFields();
    if (parseTcp(Uint8Array.from(s), 0, s.length, IP_B_NUM, IP_A_NUM, f, true) === DropReason.TcpBadChecksum) rejected++;
  }
  t.equal(rejected, DATA_TCP.length, 'every single-byte corruption is caught');
  const s = SYN_TCP.slice();
  s[16] ^= 0xff;
  t.equal(parseSeg(s, true).r, DropReason.TcpBadChecksum);
  t.equal(parseSeg(s, false).r, DropReason.None, 'verifyChecksum false skips it');
  const f = new TcpFields();
  t.equal(parseTcp(Uint8Array.from(SYN_TCP), 0, 40, IP_A_NUM, (IP_B_NUM + 1) | 0, f, true), DropReason.TcpBadChecksum, 'pseudo-header dst differs');
  t.equal(parseTcp(Uint8Array.from(DATA_TCP), 0, 36, IP_B_NUM, IP_A_NUM, f, true), DropReason.TcpBadChecksum, 'length differs');
});

t.test('tcp: malformed options inside a checksummed header → TcpBadOption', async (t) => {
  const cases: [string, number[]][] = [
    ['length byte 1', [2, 1, 1, 1]],
    ['MSS len 3', [2, 3, 5, 1]],
    ['WS len 2', [3, 2, 1, 1]],
    ['TS len 9', [8, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1]],
    ['option running past the header', [1, 1, 8, 10, 0, 0, 0, 1]],
    ['SACK len 12', [5, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0]],
    ['SACK with 5 blocks in a 60-byte header', [5, 42, ...new Array<number>(38).fill(0)]],
  ];
  for (const [name, o] of cases) {
    t.equal(o.length % 4, 0, `${name}: fixture is whole words`);
    t.equal(parseSeg(segment(o)).r, DropReason.TcpBadOption, name);
  }
  const good = parseSeg(segment([1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2], [1, 2, 3]));
  t.equal(good.r, DropReason.None);
  t.equal(good.f.sackCount, 1);
  t.equal(good.f.payloadLen, 3);
});
