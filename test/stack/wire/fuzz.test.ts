/** Random bytes through every parser: none throws, each returns a DropReason number. */
import t from 'tap';
import { DropReason } from '../../../src/stack/drop-reason.ts';
import { ArpFields, parseArp } from '../../../src/stack/wire/arp.ts';
import { EthernetFields, parseEthernet } from '../../../src/stack/wire/ethernet.ts';
import { IcmpFields, parseIcmp } from '../../../src/stack/wire/icmp.ts';
import { Ipv4Fields, parseIpv4 } from '../../../src/stack/wire/ipv4.ts';
import { parseTcp, TcpFields } from '../../../src/stack/wire/tcp.ts';
import { parseTcpOptions } from '../../../src/stack/wire/tcp-options.ts';
import { mulberry32, SYN_FRAME } from './fixtures/packets.ts';

const N = 20000;

t.test(`${N} random buffers of 0..200 bytes through every parser`, async (t) => {
  const rnd = mulberry32(0xc0ffee);
  const ip = new Ipv4Fields();
  const tcp = new TcpFields();
  const arp = new ArpFields();
  const icmp = new IcmpFields();
  const eth = new EthernetFields();
  let threw = 0;
  let notNumber = 0;
  let outOfRange = 0;
  const seen = new Set<number>();
  const check = (r: unknown): void => {
    if (typeof r !== 'number' || !Number.isInteger(r)) notNumber++;
    else {
      if (r < 0 || r >= DropReason.Count) outOfRange++;
      seen.add(r);
    }
  };
  for (let k = 0; k < N; k++) {
    const len = Math.floor(rnd() * 201);
    const off = Math.floor(rnd() * 4);
    const buf = new Uint8Array(off + len);
    for (let i = off; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
    // Bias some buffers towards plausible headers so deeper paths are reached.
    if (len >= 1 && k % 3 === 0) buf[off] = 0x45;
    if (len >= 13 && k % 5 === 0) buf[off + 12] = 0x50 + (Math.floor(rnd() * 11) << 4);
    try {
      check(parseEthernet(buf, off, len, eth));
      check(parseIpv4(buf, off, len, ip));
      check(parseTcp(buf, off, len, 0xc6120002 | 0, 0xc6120001 | 0, tcp, false));
      check(parseTcp(buf, off, len, 0xc6120002 | 0, 0xc6120001 | 0, tcp, true));
      check(parseArp(buf, off, len, arp));
      check(parseIcmp(buf, off, len, icmp));
      check(parseTcpOptions(buf, off, Math.min(len, 40), tcp));
      check(parseTcpOptions(buf, off, len, tcp));
      if (tcp.sackCount < 0 || tcp.sackCount > 4) outOfRange++;
      if (tcp.wscale > 14) outOfRange++;
    } catch {
      threw++;
    }
  }
  t.equal(threw, 0, 'no parser threw');
  t.equal(notNumber, 0, 'every result is an integer');
  t.equal(outOfRange, 0, 'every result is a DropReason; option fields in range');
  t.ok(seen.has(DropReason.None), 'some buffers parse');
  t.ok(seen.has(DropReason.TcpBadOption), 'malformed options reached');
  t.ok(seen.has(DropReason.IpBadChecksum), 'IPv4 checksum path reached');
});

t.test('random single-byte mutations of the SYN frame never throw', async (t) => {
  const rnd = mulberry32(7);
  const ip = new Ipv4Fields();
  const tcp = new TcpFields();
  let threw = 0;
  for (let k = 0; k < 5000; k++) {
    const b = Uint8Array.from(SYN_FRAME);
    const muts = 1 + Math.floor(rnd() * 3);
    for (let m = 0; m < muts; m++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const len = 14 + Math.floor(rnd() * (b.length - 13));
    try {
      const r = parseIpv4(b, 14, len - 14, ip);
      if (r === DropReason.None) parseTcp(b, ip.payloadOff, ip.payloadLen, ip.src, ip.dst, tcp, rnd() < 0.5);
    } catch {
      threw++;
    }
  }
  t.equal(threw, 0);
});
