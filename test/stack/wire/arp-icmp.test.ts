/** ARP (RFC 826) and ICMP echo (RFC 792) against literal fixtures. */
import t from 'tap';
import { DropReason } from '../../../src/stack/drop-reason.ts';
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpFields, emitArp, parseArp } from '../../../src/stack/wire/arp.ts';
import { emitIcmpEcho, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_HLEN, IcmpFields, parseIcmp } from '../../../src/stack/wire/icmp.ts';
import { ARP_REP, ARP_REQ, bytesAt, ICMP_ECHO, IP_A_NUM, IP_B_NUM, MAC_A, MAC_B, naiveChecksum, placed } from './fixtures/packets.ts';

/** The echo reply to ICMP_ECHO: type 0, checksum 0xbc03 + 0x0800. */
const ICMP_REPLY = [0x00, 0x00, 0xc4, 0x03, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65];

t.test('arp: deconstruct request and reply', async (t) => {
  const f = new ArpFields();
  t.equal(parseArp(placed(ARP_REQ, 4), 4, ARP_LEN, f), DropReason.None);
  t.equal(f.op, ARP_REQUEST);
  t.equal(f.sha, MAC_A);
  t.equal(f.spa, IP_A_NUM);
  t.equal(f.tha, 0);
  t.equal(f.tpa, IP_B_NUM);
  t.equal(parseArp(Uint8Array.from(ARP_REP), 0, ARP_LEN, f), DropReason.None);
  t.equal(f.op, ARP_REPLY);
  t.equal(f.sha, MAC_B);
  t.equal(f.spa, IP_B_NUM);
  t.equal(f.tha, MAC_A);
  t.equal(f.tpa, IP_A_NUM);
});

t.test('arp: trailing Ethernet padding is ignored', async (t) => {
  const f = new ArpFields();
  const b = Uint8Array.from([...ARP_REQ, ...new Array<number>(18).fill(0)]);
  t.equal(parseArp(b, 0, b.length, f), DropReason.None);
  t.equal(f.tpa, IP_B_NUM);
});

t.test('arp: construct request and reply exactly; round trip', async (t) => {
  const b = new Uint8Array(32).fill(0xee);
  t.equal(emitArp(b, 2, ARP_REQUEST, MAC_A, IP_A_NUM, 0, IP_B_NUM), ARP_LEN);
  t.same(bytesAt(b, 2, 28), ARP_REQ);
  t.equal(b[1], 0xee);
  t.equal(b[30], 0xee);
  const r = new Uint8Array(28);
  t.equal(emitArp(r, 0, ARP_REPLY, MAC_B, 0xc6120001, MAC_A, 0xc6120002), ARP_LEN, 'uint32 addresses');
  t.same(Array.from(r), ARP_REP);
  for (const src of [ARP_REQ, ARP_REP]) {
    const f = new ArpFields();
    t.equal(parseArp(Uint8Array.from(src), 0, 28, f), DropReason.None);
    const o = new Uint8Array(28);
    emitArp(o, 0, f.op, f.sha, f.spa, f.tha, f.tpa);
    t.same(Array.from(o), src);
  }
});

t.test('arp: truncated at every length below 28 → ArpTooShort', async (t) => {
  const f = new ArpFields();
  for (let len = 0; len < ARP_LEN; len++) t.equal(parseArp(Uint8Array.from(ARP_REQ.slice(0, len)), 0, len, f), DropReason.ArpTooShort, `len ${len}`);
});

t.test('arp: unsupported hardware, protocol, lengths and operations', async (t) => {
  const f = new ArpFields();
  const cases: [string, number, number][] = [
    ['htype 6 (IEEE 802)', 1, 6],
    ['htype 0x0101', 0, 1],
    ['ptype IPv6', 2, 0x86],
    ['ptype low byte', 3, 0xdd],
    ['hlen 8', 4, 8],
    ['plen 16', 5, 16],
    ['op 0', 7, 0],
    ['op 3 (RARP request)', 7, 3],
    ['op 0x0101', 6, 1],
  ];
  for (const [name, i, v] of cases) {
    const b = ARP_REQ.slice();
    b[i] = v;
    t.equal(parseArp(Uint8Array.from(b), 0, 28, f), DropReason.ArpUnsupported, name);
  }
});

t.test('icmp: deconstruct an echo request', async (t) => {
  t.equal(naiveChecksum(ICMP_ECHO), 0, 'fixture verifies with the reference');
  const f = new IcmpFields();
  t.equal(parseIcmp(placed(ICMP_ECHO, 6, 2), 6, ICMP_ECHO.length, f), DropReason.None);
  t.equal(f.type, ICMP_ECHO_REQUEST);
  t.equal(f.code, 0);
  t.equal(f.id, 0x1234);
  t.equal(f.seq, 1);
  t.equal(f.payloadOff, 6 + 8);
  t.equal(f.payloadLen, 5);
});

t.test('icmp: truncated below 8 → IcmpTooShort; bad checksum', async (t) => {
  const f = new IcmpFields();
  for (let len = 0; len < ICMP_HLEN; len++) t.equal(parseIcmp(Uint8Array.from(ICMP_ECHO.slice(0, len)), 0, len, f), DropReason.IcmpTooShort, `len ${len}`);
  let rejected = 0;
  for (let i = 0; i < ICMP_ECHO.length; i++) {
    const b = ICMP_ECHO.slice();
    b[i] ^= 0x10;
    if (parseIcmp(Uint8Array.from(b), 0, b.length, f) === DropReason.IcmpBadChecksum) rejected++;
  }
  t.equal(rejected, ICMP_ECHO.length, 'every single-byte corruption is caught (payload included)');
  t.equal(parseIcmp(Uint8Array.from(ICMP_ECHO), 0, 12, f), DropReason.IcmpBadChecksum, 'a cut payload fails the checksum');
});

t.test('icmp: echo reply emitted in place over the request', async (t) => {
  const b = placed(ICMP_ECHO, 10, 3);
  const f = new IcmpFields();
  t.equal(parseIcmp(b, 10, ICMP_ECHO.length, f), DropReason.None);
  const n = emitIcmpEcho(b, 10, ICMP_ECHO_REPLY, f.id, f.seq, b, f.payloadOff, f.payloadLen);
  t.equal(n, ICMP_ECHO.length);
  t.same(bytesAt(b, 10, n), ICMP_REPLY);
  t.equal(b[9], 0xee);
  t.equal(b[10 + n], 0xee);
  t.equal(parseIcmp(b, 10, n, f), DropReason.None, 'the reply verifies');
  t.equal(f.type, ICMP_ECHO_REPLY);
});

t.test('icmp: echo emitted from another buffer and from an overlapping region', async (t) => {
  const payload = Uint8Array.from([0x61, 0x62, 0x63, 0x64, 0x65]);
  const b = new Uint8Array(20);
  t.equal(emitIcmpEcho(b, 0, ICMP_ECHO_REQUEST, 0x1234, 1, payload, 0, 5), 13);
  t.same(bytesAt(b, 0, 13), ICMP_ECHO);
  // Overlap: payload at 4..9, message written at 0 (payload to 8..13).
  const o = new Uint8Array(16);
  o.set(payload, 4);
  emitIcmpEcho(o, 0, ICMP_ECHO_REPLY, 0x1234, 1, o, 4, 5);
  t.same(bytesAt(o, 0, 13), ICMP_REPLY, 'memmove semantics, forward');
  const p = new Uint8Array(24);
  p.set(payload, 14);
  emitIcmpEcho(p, 0, ICMP_ECHO_REPLY, 0x1234, 1, p, 14, 5);
  t.same(bytesAt(p, 0, 13), ICMP_REPLY, 'memmove semantics, backward');
  // Empty payload.
  const e = new Uint8Array(8);
  t.equal(emitIcmpEcho(e, 0, ICMP_ECHO_REQUEST, 0xffff, 0xffff, e, 8, 0), 8);
  t.same(Array.from(e), [8, 0, 0xf7, 0xff, 0xff, 0xff, 0xff, 0xff]);
  t.equal(naiveChecksum(Array.from(e)), 0);
});
