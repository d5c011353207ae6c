/**
 * The fuzzer (sim/fuzz.ts) at test scale: 500,000 random and mutated frames
 * into two stacks with four established connections; and the checker fails
 * when a stream is corrupted.
 */
import t from 'tap';
import { fuzz } from '../../sim/fuzz.ts';

t.test('500,000 fuzzed frames: no escape, every drop counted, every stream intact and closed', async (t) => {
  for (const seed of [1, 2]) {
    const r = fuzz({ seed, frames: 250_000 });
    t.same(r.failures, [], `seed ${seed}: no failure`);
    t.equal(r.framesFed, 250_000);
    const drops = Object.values(r.drops).reduce((a, b) => a + b, 0);
    t.equal(drops + r.processed, r.framesFed, `seed ${seed}: every frame was dropped under one reason or processed`);
    t.ok(r.drops.tcp_bad_checksum > 0 && r.drops.tcp_out_of_window > 0 && r.drops.tcp_bad_ack > 0 && r.drops.tcp_bad_option > 0,
      'the families reach the TCP checks');
    t.ok(r.drops.ip_bad_checksum > 0 && r.drops.ip_fragment > 0 && r.drops.arp_too_short > 0 && r.drops.icmp_too_short > 0,
      'and the IPv4, ARP and ICMP checks');
    t.ok(r.bytesVerified > 100e6, `seed ${seed}: the connections kept transferring (${(r.bytesVerified / 1e6).toFixed(0)} MB verified)`);
    t.ok(r.maxHalfOpen <= 16, 'half-open connections within the backlog');
  }
});

t.test('the checker fails on a corrupted stream byte', async (t) => {
  const r = fuzz({ seed: 3, frames: 2_000, corruptReadAt: 1000 });
  t.equal(r.failures.length, 8, 'one failure per stream (4 connections, 2 directions)');
  t.match(r.failures[0], /byte 1000 is \d+, expected \d+/);
});

t.test('TS.Recent is not taken from a segment dropped for its ACK', async (t) => {
  const r = fuzz({ seed: 1, frames: 20_000 });
  t.same(r.failures, []);
});
