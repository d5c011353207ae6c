/**
 * ARP reception in the context (RFC 826 "Packet Reception"): a request is
 * learned and answered; a packet whose sender hardware address is not the
 * frame's source (damaged, as the scenario simulator's bit flips showed, or
 * forged) is dropped and counted instead of poisoning the cache.
 */
import t from 'tap';
import { FrameBatch } from '../../src/stack/port.ts';
import { DropReason } from '../../src/stack/drop-reason.ts';
import { ARP_REACHABLE_MS, ARP_RETRY_MS, ARP_UNICAST_PROBE_MS } from '../../src/stack/arp-cache.ts';
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpFields, emitArp, parseArp } from '../../src/stack/wire/arp.ts';
import { emitEthernet, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, MAC_BROADCAST, readMac } from '../../src/stack/wire/ethernet.ts';
import { Harness, STACK_IP, STACK_MAC } from '../helpers/tcp-harness.ts';

const OTHER_IP = 0xc6120009 | 0; // 198.18.0.9 (int32, as the stack keeps addresses), not in the static table
const OTHER_MAC = 0x02000000cc09;

function sendArp(h: Harness, op: number, ethSrc: number, sha: number, tpa = STACK_IP, tha = 0): void {
  const tx = new FrameBatch(1);
  h.peer.txAlloc(0, tx, 1);
  const buf = tx.buf[0];
  const off = tx.off[0];
  emitEthernet(buf, off, op === ARP_REQUEST ? MAC_BROADCAST : STACK_MAC, ethSrc, ETHERTYPE_ARP);
  emitArp(buf, off + ETH_HLEN, op, sha, OTHER_IP, tha, tpa);
  tx.len[0] = ETH_HLEN + ARP_LEN;
  h.peer.txBurst(0, tx, 1);
  h.poll();
}

const sendArpRequest = (h: Harness, ethSrc: number, sha: number): void => sendArp(h, ARP_REQUEST, ethSrc, sha);

/** What reached the wire since the last call: ARP requests as [destination MAC, target IP], and IPv4 frames as their destination MAC. */
function drain(h: Harness): { requests: [number, number][]; ipv4To: number[] } {
  h.ctx.flushOutput(h.now);
  const rx = new FrameBatch(64);
  const a = new ArpFields();
  const out = { requests: [] as [number, number][], ipv4To: [] as number[] };
  for (let n; (n = h.peer.rxBurst(0, rx, 64)) > 0;) {
    for (let i = 0; i < n; i++) {
      const buf = rx.buf[i];
      const off = rx.off[i];
      const type = (buf[off + 12] << 8) | buf[off + 13];
      if (type === ETHERTYPE_IPV4) out.ipv4To.push(readMac(buf, off));
      if (type === ETHERTYPE_ARP && parseArp(buf, off + ETH_HLEN, rx.len[i] - ETH_HLEN, a) === 0 && a.op === ARP_REQUEST) {
        out.requests.push([readMac(buf, off), a.tpa]);
      }
    }
    h.peer.rxRelease(0, rx);
  }
  return out;
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

t.test('a frame waiting for its next hop has the request repeated until the reply comes', async (t) => {
  const h = new Harness();
  h.tcp.sockets.connect(1, STACK_IP, 0, OTHER_IP, 80); // a SYN to an unresolved neighbour
  h.poll();
  t.same(drain(h).requests, [[MAC_BROADCAST, OTHER_IP]], 'one request; the SYN waits');
  h.poll(ARP_RETRY_MS - 100);
  t.same(drain(h).requests, [], 'not repeated before ARP_RETRY_MS');
  h.poll(100);
  t.same(drain(h).requests, [[MAC_BROADCAST, OTHER_IP]], 'the first was lost: asked again');
  sendArp(h, ARP_REPLY, OTHER_MAC, OTHER_MAC, STACK_IP, STACK_MAC);
  t.same(drain(h).ipv4To, [OTHER_MAC], 'the reply releases the SYN');
  h.poll(ARP_RETRY_MS);
  t.same(drain(h).requests, [], 'and the requests stop');
});

t.test('a gratuitous ARP moves a known neighbour; an unknown one is not learned from it (RFC 826 merge)', async (t) => {
  const h = new Harness();
  const MOVED = OTHER_MAC + 1;
  sendArp(h, ARP_REQUEST, OTHER_MAC, OTHER_MAC, OTHER_IP); // announces itself: not for us, unknown
  t.equal(h.ctx.arp.lookup(OTHER_IP), -1, 'not learned');
  sendArpRequest(h, OTHER_MAC, OTHER_MAC);
  sendArp(h, ARP_REQUEST, MOVED, MOVED, OTHER_IP);
  t.equal(h.ctx.arp.lookup(OTHER_IP), MOVED, 'the known entry follows the announcement');
});

t.test('a stale entry is refreshed by unicast, then by broadcast when the unicast went unanswered', async (t) => {
  const h = new Harness({ idleTimeoutMs: -1 });
  sendArpRequest(h, OTHER_MAC, OTHER_MAC);
  drain(h);
  const conn = h.tcp.sockets.connect(1, STACK_IP, 0, OTHER_IP, 80);
  t.ok(conn >= 0, 'connecting');
  h.poll();
  t.same(drain(h), { requests: [], ipv4To: [OTHER_MAC] }, 'the SYN goes to the learned address');
  h.poll(ARP_REACHABLE_MS + 1);
  t.same(drain(h), { requests: [[OTHER_MAC, OTHER_IP]], ipv4To: [OTHER_MAC] }, 'stale: a SYN retransmission, and a unicast refresh');
  h.poll(ARP_UNICAST_PROBE_MS + 1000);
  const late = drain(h);
  t.same(late.requests, [[MAC_BROADCAST, OTHER_IP]], 'no answer for longer than ARP_UNICAST_PROBE_MS: broadcast');
});
