/** Ethernet II and IPv4 headers against literal fixtures. */
import t from 'tap';
import { DropReason } from '../../../src/stack/drop-reason.ts';
import {
  emitEthernet, emitEthernetBytes, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ethType, EthernetFields, isBroadcast,
  macBytes, macEquals, MAC_BROADCAST, parseEthernet, readMac, writeMac,
} from '../../../src/stack/wire/ethernet.ts';
import { emitIpv4, IPPROTO_TCP, IPV4_HLEN, Ipv4Fields, parseIpv4 } from '../../../src/stack/wire/ipv4.ts';
import { bytesAt, DATA_IP, IP_A_NUM, IP_B_NUM, MAC_A, MAC_B, naiveChecksum, placed, SYN_ETH, SYN_FRAME, SYN_IP } from './fixtures/packets.ts';

/** Recompute the header checksum of a header given as an array (with the naive reference). */
function fixIpChecksum(h: number[]): number[] {
  const ihl = (h[0] & 0xf) * 4;
  h[10] = 0;
  h[11] = 0;
  const c = naiveChecksum(h.slice(0, ihl));
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return h;
}

t.test('ethernet: deconstruct the SYN frame', async (t) => {
  const b = placed(SYN_FRAME, 3);
  const f = new EthernetFields();
  t.equal(parseEthernet(b, 3, SYN_FRAME.length, f), DropReason.None);
  t.equal(f.dst, MAC_B);
  t.equal(f.src, MAC_A);
  t.equal(f.type, ETHERTYPE_IPV4);
  t.equal(f.payloadOff, 3 + 14);
  t.equal(f.payloadLen, SYN_FRAME.length - 14);
  t.equal(ethType(b, 3), 0x0800);
});

t.test('ethernet: construct and round trip', async (t) => {
  const b = new Uint8Array(20).fill(0xee);
  t.equal(emitEthernet(b, 2, MAC_B, MAC_A, ETHERTYPE_IPV4), ETH_HLEN);
  t.same(bytesAt(b, 2, 14), SYN_ETH);
  t.equal(b[1], 0xee, 'byte before untouched');
  t.equal(b[16], 0xee, 'byte after untouched');
  const c = new Uint8Array(14);
  t.equal(emitEthernetBytes(c, 0, macBytes(MAC_B), macBytes(MAC_A), ETHERTYPE_IPV4), 14);
  t.same(Array.from(c), SYN_ETH);
  // parse → emit
  const f = new EthernetFields();
  parseEthernet(Uint8Array.from(SYN_ETH), 0, 14, f);
  const d = new Uint8Array(14);
  emitEthernet(d, 0, f.dst, f.src, f.type);
  t.same(Array.from(d), SYN_ETH);
  const a = new Uint8Array(14);
  emitEthernet(a, 0, MAC_BROADCAST, MAC_A, ETHERTYPE_ARP);
  t.same(Array.from(a), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0xc6, 0x12, 0x00, 0x02, 0x08, 0x06]);
  t.equal(isBroadcast(a, 0), true);
  t.equal(isBroadcast(a, 6), false);
});

t.test('ethernet: MAC helpers with high bits set', async (t) => {
  const b = new Uint8Array(6);
  writeMac(b, 0, 0xfedcba987654);
  t.same(Array.from(b), [0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54]);
  t.equal(readMac(b, 0), 0xfedcba987654);
  t.same(Array.from(macBytes(0xffffffffffff)), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  t.equal(readMac(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0), MAC_BROADCAST);
  t.equal(macEquals(Uint8Array.from(SYN_ETH), 0, macBytes(MAC_B)), true);
  t.equal(macEquals(Uint8Array.from(SYN_ETH), 0, macBytes(MAC_A)), false);
});

t.test('ethernet: truncated at every length below 14', async (t) => {
  const f = new EthernetFields();
  for (let len = 0; len < 14; len++) t.equal(parseEthernet(Uint8Array.from(SYN_FRAME.slice(0, len)), 0, len, f), DropReason.EthTooShort, `len ${len}`);
  t.equal(parseEthernet(Uint8Array.from(SYN_ETH), 0, 14, f), DropReason.None, '14 bytes, empty payload');
  t.equal(f.payloadLen, 0);
});

t.test('ipv4: deconstruct the SYN header', async (t) => {
  const b = placed([...SYN_IP, 0xaa, 0xbb], 5);
  const f = new Ipv4Fields();
  // totalLen says 60; give the full length so totalLen fits.
  const full = placed(SYN_FRAME.slice(14), 5);
  t.equal(parseIpv4(full, 5, SYN_FRAME.length - 14, f), DropReason.None);
  t.equal(f.headerLen, 20);
  t.equal(f.totalLen, 60);
  t.equal(f.id, 0x1c46);
  t.equal(f.flagsFrag, 0x4000, 'DF');
  t.equal(f.ttl, 64);
  t.equal(f.proto, IPPROTO_TCP);
  t.equal(f.src, IP_A_NUM, 'src as int32');
  t.equal(f.dst, IP_B_NUM);
  t.equal(f.payloadOff, 25);
  t.equal(f.payloadLen, 40);
  t.equal(parseIpv4(b, 5, 22, f), DropReason.IpBadTotalLen, 'header alone with totalLen 60 is short');
});

t.test('ipv4: construct gives the exact bytes; parse → emit round trip', async (t) => {
  const b = new Uint8Array(24).fill(0xee);
  t.equal(emitIpv4(b, 2, IP_A_NUM, IP_B_NUM, IPPROTO_TCP, 40, 0x1c46, 64), IPV4_HLEN);
  t.same(bytesAt(b, 2, 20), SYN_IP);
  t.equal(b[1], 0xee);
  t.equal(b[22], 0xee);
  // uint32 addresses give the same bytes
  const u = new Uint8Array(20);
  emitIpv4(u, 0, 0xc6120001, 0xc6120002, IPPROTO_TCP, 37, 1, 64);
  t.same(Array.from(u), DATA_IP);
  // id above 16 bits is truncated to 16
  const w = new Uint8Array(20);
  emitIpv4(w, 0, IP_B_NUM, IP_A_NUM, IPPROTO_TCP, 37, 0x10001, 64);
  t.same(Array.from(w), DATA_IP);

  const frame = Uint8Array.from([...DATA_IP, ...new Array<number>(37).fill(0)]);
  const f = new Ipv4Fields();
  t.equal(parseIpv4(frame, 0, frame.length, f), DropReason.None);
  const e = new Uint8Array(20);
  emitIpv4(e, 0, f.src, f.dst, f.proto, f.payloadLen, f.id, f.ttl);
  t.same(Array.from(e), DATA_IP);
});

t.test('ipv4: truncated at every length below 20 → IpTooShort, never throws', async (t) => {
  const f = new Ipv4Fields();
  for (let len = 0; len < 20; len++) {
    const b = Uint8Array.from(SYN_IP.slice(0, len));
    t.equal(parseIpv4(b, 0, len, f), DropReason.IpTooShort, `len ${len}`);
  }
});

t.test('ipv4: truncated datagram (20..59 bytes of a 60-byte datagram) → IpBadTotalLen', async (t) => {
  const f = new Ipv4Fields();
  const all = SYN_FRAME.slice(14);
  let bad = 0;
  for (let len = 20; len < 60; len++) if (parseIpv4(Uint8Array.from(all.slice(0, len)), 0, len, f) !== DropReason.IpBadTotalLen) bad++;
  t.equal(bad, 0);
});

t.test('ipv4: bad checksum rejected', async (t) => {
  const f = new Ipv4Fields();
  const all = SYN_FRAME.slice(14);
  for (const i of [0x0a, 0x0b, 0x04, 0x08, 0x0c, 0x13]) {
    const b = all.slice();
    b[i] ^= 0x01;
    t.equal(parseIpv4(Uint8Array.from(b), 0, b.length, f), DropReason.IpBadChecksum, `byte ${i} flipped`);
  }
  // The payload is not covered by the header checksum.
  const p = all.slice();
  p[30] ^= 0xff;
  t.equal(parseIpv4(Uint8Array.from(p), 0, p.length, f), DropReason.None, 'payload corruption is not an IP error');
});

t.test('ipv4: fragments are dropped', async (t) => {
  const f = new Ipv4Fields();
  const payload = new Array<number>(40).fill(0);
  const cases: [string, number, number][] = [
    ['MF set, offset 0', 0x20, 0x00],
    ['MF clear, offset 1 (8 bytes)', 0x00, 0x01],
    ['DF + offset 185', 0x40, 0xb9],
    ['MF + offset', 0x21, 0x00],
    ['max offset', 0x1f, 0xff],
  ];
  for (const [name, hi, lo] of cases) {
    const h = SYN_IP.slice();
    h[6] = hi;
    h[7] = lo;
    fixIpChecksum(h);
    t.equal(parseIpv4(Uint8Array.from([...h, ...payload]), 0, 60, f), DropReason.IpFragment, name);
  }
  const h = SYN_IP.slice();
  h[6] = 0x00;
  h[7] = 0x00;
  fixIpChecksum(h);
  t.equal(parseIpv4(Uint8Array.from([...h, ...payload]), 0, 60, f), DropReason.None, 'no DF, not a fragment');
  t.equal(f.flagsFrag, 0);
  const r = SYN_IP.slice();
  r[6] = 0x80; // reserved bit only
  fixIpChecksum(r);
  t.equal(parseIpv4(Uint8Array.from([...r, ...payload]), 0, 60, f), DropReason.None, 'reserved bit is not a fragment');
});

t.test('ipv4: Ethernet padding after totalLen is ignored', async (t) => {
  // A 20-byte header + 6-byte payload padded to the 46-byte Ethernet minimum.
  const h = SYN_IP.slice();
  h[2] = 0;
  h[3] = 26;
  fixIpChecksum(h);
  const bytes = [...h, 1, 2, 3, 4, 5, 6, ...new Array<number>(20).fill(0x55)];
  const f = new Ipv4Fields();
  t.equal(parseIpv4(Uint8Array.from(bytes), 0, bytes.length, f), DropReason.None);
  t.equal(f.totalLen, 26);
  t.equal(f.payloadLen, 6, 'padding not counted');
  t.equal(f.payloadOff, 20);
});

t.test('ipv4: bad version, IHL, totalLen', async (t) => {
  const f = new Ipv4Fields();
  const all = SYN_FRAME.slice(14);
  for (const v of [0, 1, 5, 6, 15]) {
    const b = all.slice();
    b[0] = (v << 4) | 5;
    t.equal(parseIpv4(Uint8Array.from(b), 0, 60, f), DropReason.IpBadVersion, `version ${v}`);
  }
  for (const ihl of [0, 1, 2, 3, 4]) {
    const b = all.slice();
    b[0] = 0x40 | ihl;
    t.equal(parseIpv4(Uint8Array.from(b), 0, 60, f), DropReason.IpBadHeaderLen, `IHL ${ihl}`);
  }
  // IHL 15 = 60 bytes, longer than a 24-byte buffer.
  const long = all.slice(0, 24);
  long[0] = 0x4f;
  t.equal(parseIpv4(Uint8Array.from(long), 0, 24, f), DropReason.IpBadHeaderLen, 'IHL beyond the buffer');
  const big = all.slice();
  big[2] = 0;
  big[3] = 61;
  fixIpChecksum(big);
  t.equal(parseIpv4(Uint8Array.from(big), 0, 60, f), DropReason.IpBadTotalLen, 'totalLen > len');
  const small = all.slice();
  small[2] = 0;
  small[3] = 19;
  fixIpChecksum(small);
  t.equal(parseIpv4(Uint8Array.from(small), 0, 60, f), DropReason.IpBadTotalLen, 'totalLen < header length');
  const ffff = all.slice();
  ffff[2] = 0xff;
  ffff[3] = 0xff;
  fixIpChecksum(ffff);
  t.equal(parseIpv4(Uint8Array.from(ffff), 0, 60, f), DropReason.IpBadTotalLen, 'totalLen 65535');
});

t.test('ipv4: options are skipped (IHL 6)', async (t) => {
  // IHL 6 with a 4-byte option (NOP NOP NOP EOL), total 28, 4 payload bytes.
  const h = [0x46, 0x00, 0x00, 0x1c, 0x00, 0x07, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
    0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01, 0x01, 0x01, 0x01, 0x00];
  fixIpChecksum(h);
  const b = Uint8Array.from([...h, 9, 8, 7, 6]);
  const f = new Ipv4Fields();
  t.equal(parseIpv4(b, 0, b.length, f), DropReason.None);
  t.equal(f.headerLen, 24);
  t.equal(f.payloadOff, 24);
  t.equal(f.payloadLen, 4);
  // The checksum covers the options.
  b[21] ^= 0xff;
  t.equal(parseIpv4(b, 0, b.length, f), DropReason.IpBadChecksum);
});
