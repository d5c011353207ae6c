/** The ARP cache stays bounded however many addresses the link announces. */
import t from 'tap';
import { ArpCache } from '../../src/stack/arp-cache.ts';

t.test('learned entries are capped; the least recently learned goes first', async (t) => {
  const arp = new ArpCache(null, 4);
  for (let i = 1; i <= 4; i++) arp.learn(0x0a000000 + i, 0x020000000000 + i, 0);
  arp.learn(0x0a000001, 0x0200000000aa, 1); // refreshed: now the newest
  arp.learn(0x0a000005, 0x020000000005, 2); // full: 10.0.0.2 goes
  t.equal(arp.size, 4);
  t.equal(arp.lookup(0x0a000002), -1, 'the least recently learned entry was evicted');
  t.equal(arp.lookup(0x0a000001), 0x0200000000aa, 'the refreshed entry stayed');
  t.equal(arp.lookup(0x0a000005), 0x020000000005);
  for (let i = 0; i < 10_000; i++) arp.learn(i * 7919, 0x020000000001, 3);
  t.equal(arp.size, 4, 'a flood of announcements does not grow the table');
});

t.test('a forgotten entry is not served from the one-entry memo', async (t) => {
  const arp = new ArpCache(null, 1);
  arp.learn(0x0a000001, 0x020000000001, 0);
  t.equal(arp.lookup(0x0a000001), 0x020000000001);
  arp.learn(0x0a000002, 0x020000000002, 0);
  t.equal(arp.lookup(0x0a000001), -1);
});

t.test('request records are capped too', async (t) => {
  const arp = new ArpCache(null, 8);
  for (let i = 0; i < 1000; i++) t.equal(arp.mayRequest(i, 0), true);
  t.equal(arp.requestRecords, 8);
  t.equal(arp.mayRequest(999, 50), false, 'the rate limit still holds for a recent target');
});
