/**
 * Transmit limits: a reply that finds no TX slot is one drop, counted once (it was counted twice:
 * by #reserve and again by poll), and an MTU the driver's frames cannot carry is refused up front.
 */
import t from 'tap';
import { FrameBatch } from '../../src/stack/port.ts';
import { emitArp, ARP_LEN, ARP_REQUEST } from '../../src/stack/wire/arp.ts';
import { emitEthernet, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../../src/stack/wire/ethernet.ts';
import { emitIcmpEcho, ICMP_ECHO_REQUEST } from '../../src/stack/wire/icmp.ts';
import { emitIpv4, IPPROTO_ICMP, IPV4_HLEN } from '../../src/stack/wire/ipv4.ts';
import { Harness, PEER_IP, PEER_MAC, STACK_IP, STACK_MAC } from '../helpers/tcp-harness.ts';

t.test('an echo request and an ARP request whose replies find no TX slot: one TxNoSlot drop each', async (t) => {
  const h = new Harness();
  const tx = new FrameBatch(2);
  h.peer.txAlloc(0, tx, 2);
  let b = tx.buf[0];
  let o = tx.off[0];
  const icmpLen = emitIcmpEcho(b, o + ETH_HLEN + IPV4_HLEN, ICMP_ECHO_REQUEST, 1, 1, new Uint8Array(8), 0, 8);
  emitIpv4(b, o + ETH_HLEN, PEER_IP, STACK_IP, IPPROTO_ICMP, icmpLen, 1, 64);
  emitEthernet(b, o, STACK_MAC, PEER_MAC, ETHERTYPE_IPV4);
  tx.len[0] = ETH_HLEN + IPV4_HLEN + icmpLen;
  b = tx.buf[1];
  o = tx.off[1];
  emitArp(b, o + ETH_HLEN, ARP_REQUEST, PEER_MAC, PEER_IP, 0, STACK_IP);
  emitEthernet(b, o, STACK_MAC, PEER_MAC, ETHERTYPE_ARP);
  tx.len[1] = ETH_HLEN + ARP_LEN;
  h.peer.txBurst(0, tx, 2);
  h.stackPort.txAlloc = () => 0; // the driver has no TX slot to give
  const before = h.ctx.stats.totalDrops();
  h.poll();
  t.equal(h.ctx.stats.rxFrames, 2);
  t.equal(h.ctx.stats.totalDrops() - before, 2, 'two frames, two drops');
  t.equal(h.ctx.stats.dropsByName().tx_no_slot, 2);
});

t.test('an MTU larger than the driver\'s frames is refused when the context is made, not lost segment by segment', async (t) => {
  t.throws(() => new Harness({ mtu: 9000 }), { name: 'RangeError', message: /mtu 9000 does not fit the driver's 2048-byte frames \(at most 2034\)/ });
  t.doesNotThrow(() => new Harness({ mtu: 2034 }), 'the largest that fits');
});
