/**
 * ARP reception in the context (RFC 826 "Packet Reception"): a request is
 * learned and answered; a packet whose sender hardware address is not the
 * frame's source (damaged, as the scenario simulator's bit flips showed, or
 * forged) is dropped and counted instead of poisoning the cache.
 */
import t from 'tap';
import { FrameBatch } from '../../src/io/driver.ts';
import { DropReason } from '../../src/stack/drop-reason.ts';
import { ARP_LEN, ARP_REQUEST, emitArp } from '../../src/stack/wire/arp.ts';
import { emitEthernet, ETH_HLEN, ETHERTYPE_ARP, MAC_BROADCAST } from '../../src/stack/wire/ethernet.ts';
import { Harness, STACK_IP } from '../helpers/tcp-harness.ts';

const OTHER_IP = 0xc6120009 | 0; // 198.18.0.9 (int32, as the stack keeps addresses), not in the static table
const OTHER_MAC = 0x02000000cc09;

function sendArpRequest(h: Harness, ethSrc: number, sha: number): void {
  const tx = new FrameBatch(1);
  h.peer.txAlloc(0, tx, 1);
  const buf = tx.buf[0];
  const off = tx.off[0];
  emitEthernet(buf, off, MAC_BROADCAST, ethSrc, ETHERTYPE_ARP);
  emitArp(buf, off + ETH_HLEN, ARP_REQUEST, sha, OTHER_IP, 0, STACK_IP);
  tx.len[0] = ETH_HLEN + ARP_LEN;
  h.peer.txBurst(0, tx, 1);
  h.poll();
}

t.test('a request whose sender address matches its frame is learned and answered', async (t) => {
  const h = new Harness();
  sendArpRequest(h, OTHER_MAC, OTHER_MAC);
  t.equal(h.ctx.arp.lookup(OTHER_IP), OTHER_MAC, 'learned');
  t.equal(h.ctx.stats.arpRepliesSent, 1, 'answered');
});

t.test('a sender hardware address that is not the frame source is dropped, not learned (one flipped bit)', async (t) => {
  const h = new Harness();
  sendArpRequest(h, OTHER_MAC, OTHER_MAC ^ 0x040000000000);
  t.equal(h.ctx.arp.lookup(OTHER_IP), -1, 'nothing learned');
  t.equal(h.ctx.stats.arpRepliesSent, 0, 'no reply to the damaged address');
  t.equal(h.ctx.stats.drops[DropReason.ArpSenderMismatch], 1, 'counted under arp_sender_mismatch');
  sendArpRequest(h, OTHER_MAC, OTHER_MAC);
  t.equal(h.ctx.arp.lookup(OTHER_IP), OTHER_MAC, 'the next good request is learned');
});
