/**
 * The TAP driver's offloads (src/io/tap.ts): what one core's TAP declares, what a wrapper's stop leaves, the
 * virtio-net header it writes ahead of a large segment, and that the kernel takes that segment. The TAP is
 * made in a namespace the test creates (names carry "to"); both go at the end. Needs root and /dev/net/tun.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { closeTap, openTap, TapDriver, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VNET_HDR_BYTES } from '../../src/io/tap.ts';
import { FrameBatch } from '../../src/stack/port.ts';
import { emitEthernet, ETHERTYPE_IPV4 } from '../../src/stack/wire/ethernet.ts';
import { emitIpv4, IPPROTO_TCP } from '../../src/stack/wire/ipv4.ts';
import { inNamespace, ip, namespace } from '../helpers/netns.ts';
import { testNeeding } from '../helpers/prerequisites.ts';

const missing = process.getuid?.() !== 0 ? 'not root' : existsSync('/dev/net/tun') ? null : 'no /dev/net/tun';
const MAC = 0x0200c6120702;

/** A TAP for `queues` cores, made inside a fresh namespace and brought up there. */
function tapIn(t: Parameters<Parameters<typeof testNeeding>[3]>[0], queues: number): { driver: TapDriver; ns: string } {
  const { ns } = namespace(t, `mtcpts-to-io-${process.pid}-${queues}`);
  const port = inNamespace(ns, () => openTap('mto-io', queues, 1514));
  ip('-n', ns, 'link', 'set', 'mto-io', 'up');
  const driver = new TapDriver(port, MAC, {}, () => closeTap(port));
  t.teardown(() => driver.close());
  return { driver, ns };
}

testNeeding(t, 'one core: checksum offload both ways and 64 KiB segments, until a wrapper stops them', missing, async (t) => {
  const { driver } = tapIn(t, 1);
  t.match(driver.capabilities, { queues: 1, maxFrameBytes: 1514, txChecksumOffload: true, rxChecksumOffload: true, tsoMaxBytes: 14 + 0xffff, trustedLink: false });

  // A 20,000-byte TCP segment for the kernel to cut into 1460-byte ones; the TCP checksum field left zero, as the stack does.
  const batch = new FrameBatch(4);
  t.equal(driver.txAlloc(0, batch, 1), 1);
  t.ok(batch.len[0] >= 14 + 0xffff, 'a TX slot holds a 64 KiB segment');
  const buf = batch.buf[0];
  const o = batch.off[0];
  const payload = 20_000;
  emitEthernet(buf, o, 0x0200c6120701, MAC, ETHERTYPE_IPV4);
  emitIpv4(buf, o + 14, 0xc6120702 | 0, 0xc6120701 | 0, IPPROTO_TCP, 20 + payload, 1, 64);
  const tcp = o + 34;
  buf.fill(0, tcp, tcp + 20);
  buf[tcp] = 0x30; // ports 12345 -> 80
  buf[tcp + 1] = 0x39;
  buf[tcp + 3] = 80;
  buf[tcp + 12] = 0x50; // data offset 5 words
  buf[tcp + 13] = 0x18; // PSH ACK
  buf[tcp + 14] = 0xff;
  buf.fill(0x61, tcp + 20, tcp + 20 + payload);
  batch.len[0] = 34 + 20 + payload;
  batch.segmentBytes[0] = 1460;
  driver.txBurst(0, batch, 1);
  t.equal(driver.stats.txDropped, 0, 'the kernel took the segment');
  t.equal(driver.stats.txFrames, 1);

  const h = new DataView(buf.buffer, buf.byteOffset + o - VNET_HDR_BYTES, VNET_HDR_BYTES);
  t.equal(h.getUint8(0), VIRTIO_NET_HDR_F_NEEDS_CSUM, 'flags: the kernel completes the checksum');
  t.equal(h.getUint8(1), VIRTIO_NET_HDR_GSO_TCPV4, 'gso_type: TCPv4');
  t.equal(h.getUint16(2, true), 54, 'hdr_len: Ethernet, IPv4 and TCP headers');
  t.equal(h.getUint16(4, true), 1460, 'gso_size: the MSS');
  t.equal(h.getUint16(6, true), 34, 'csum_start: the TCP header');
  t.equal(h.getUint16(8, true), 16, 'csum_offset: the checksum field');
  // The pseudo-header sum, folded and not complemented: 0xc612 + 0x0702 + 0xc612 + 0x0701 + 6 + 20,020.
  let sum = 0xc612 + 0x0702 + 0xc612 + 0x0701 + 6 + 20 + payload;
  sum = (sum & 0xffff) + (sum >>> 16);
  t.equal((buf[tcp + 16] << 8) | buf[tcp + 17], sum, 'the checksum field holds the pseudo-header sum');

  // A frame that is not IPv4 TCP (ARP) goes with an empty header: nothing to offload.
  driver.txAlloc(0, batch, 1);
  emitEthernet(buf, batch.off[0], 0xffffffffffff, MAC, 0x0806);
  buf.fill(0, batch.off[0] + 14, batch.off[0] + 42);
  batch.len[0] = 42;
  batch.segmentBytes[0] = 0;
  driver.txBurst(0, batch, 1);
  t.same([...buf.subarray(batch.off[0] - VNET_HDR_BYTES, batch.off[0])], new Array(VNET_HDR_BYTES).fill(0), 'ARP: an empty header');
  t.equal(driver.stats.txFrames, 2);

  driver.stopTxChecksumOffload();
  t.match(driver.capabilities, { txChecksumOffload: false, tsoMaxBytes: 0, rxChecksumOffload: true }, 'stopped: final frames each way');
  driver.txAlloc(0, batch, 1);
  t.equal(batch.len[0], 1514, 'a TX slot then holds one MTU-sized frame');
});

testNeeding(t, 'several cores share plain frames: no offload', missing, async (t) => {
  const { driver } = tapIn(t, 2);
  t.match(driver.capabilities, { queues: 2, txChecksumOffload: false, rxChecksumOffload: false, tsoMaxBytes: 0 });
});
