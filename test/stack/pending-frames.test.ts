/** Frames waiting for ARP, with next hops in the 198.18.0.0/15 range, which are negative as int32. */
import t from 'tap';
import { ARP_PENDING_TIMEOUT_MS, PendingFrames } from '../../src/stack/arp-cache.ts';

const HOP_A = 0xc6120005 | 0; // 198.18.0.5
const HOP_B = 0xc6120006 | 0;

t.test('frames wait per next hop, are released once, expire, and the count stays true', async (t) => {
  const p = new PendingFrames(4, 64);
  const frame = new Uint8Array(64).fill(9);
  t.equal(p.add(HOP_A, frame, 0, 60, 0), false);
  t.equal(p.add(HOP_A, frame, 0, 61, 0), false);
  t.equal(p.add(HOP_B, frame, 0, 62, 10), false);
  t.equal(p.count, 3, 'three waiting: a slot holding a negative next hop is not mistaken for a free one');
  const sent: number[] = [];
  p.release(HOP_A >>> 0, (_off, len) => sent.push(len)); // uint32 form of the same address
  t.same(sent, [60, 61], 'both frames for the hop, each once');
  p.release(HOP_A, (_off, len) => sent.push(len));
  t.same(sent, [60, 61], 'and never again');
  t.equal(p.count, 1);
  t.equal(p.expire(10 + ARP_PENDING_TIMEOUT_MS), 0, 'not yet expired');
  t.equal(p.expire(11 + ARP_PENDING_TIMEOUT_MS), 1);
  t.equal(p.count, 0);
});

t.test('when full, the oldest frame makes room', async (t) => {
  const p = new PendingFrames(2, 64);
  const frame = new Uint8Array(64);
  p.add(HOP_A, frame, 0, 60, 5);
  p.add(HOP_B, frame, 0, 61, 1);
  t.equal(p.add(HOP_A, frame, 0, 62, 7), true, 'an older frame was dropped');
  t.equal(p.count, 2);
  const sent: number[] = [];
  p.release(HOP_B, (_off, len) => sent.push(len));
  t.same(sent, [], 'the oldest (for B, queued at 1) was the one dropped');
  p.release(HOP_A, (_off, len) => sent.push(len));
  t.same(sent.sort(), [60, 62]);
  t.equal(p.count, 0);
});
