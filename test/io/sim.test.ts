/** The simulated wire: switching, determinism, impairments, virtual time and the slot pool. */
import t from 'tap';
import { FrameBatch } from '../../src/stack/port.ts';
import { Prng, SimWire, type SimDriver } from '../../src/io/sim.ts';
import { RssSteering } from '../../src/stack/rss.ts';
import {
  BROADCAST, MAC_A, MAC_B, MAC_C, frameIntact, readU32, recvFrames, sendBytes, sendFrames, seqsOf, tcpFrame, writeFrame,
} from './fixtures/frames.ts';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** Send seqs from `from` to `dst` in bursts (the staging area holds 256). */
function sendMany(d: SimDriver, dst: number, seqs: number[], len = 64): void {
  for (let i = 0; i < seqs.length; i += 200) sendFrames(d, dst, seqs.slice(i, i + 200), len);
}

const popcount = (x: number): number => {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
};

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('a frame goes to the port with its destination MAC; broadcast and unknown destinations flood', async (t) => {
  const wire = new SimWire({ seed: 1 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  const c = wire.attach(MAC_C);
  t.equal(a.name, 'sim');
  t.equal(a.capabilities.maxFrameBytes, 2048);
  sendFrames(a, MAC_B, [1]);
  t.same(seqsOf(recvFrames(b)), [1], 'unicast to B');
  t.same(recvFrames(c), [], 'not to C');
  t.same(recvFrames(a), [], 'not back to the sender');
  sendFrames(b, MAC_A, [2]);
  t.same(seqsOf(recvFrames(a)), [2]);
  sendFrames(a, BROADCAST, [3]);
  t.same(seqsOf(recvFrames(b)), [3], 'broadcast reaches B');
  t.same(seqsOf(recvFrames(c)), [3], 'and C');
  t.same(recvFrames(a), [], 'but not its sender');
  sendFrames(a, 0x020000000099, [4]);
  t.same([seqsOf(recvFrames(b)), seqsOf(recvFrames(c)), seqsOf(recvFrames(a))], [[4], [4], []], 'unknown unicast floods');
  sendFrames(a, 0x01005e000001, [5]);
  t.same([seqsOf(recvFrames(b)), seqsOf(recvFrames(c))], [[5], [5]], 'multicast floods');
  c.close();
  sendFrames(a, BROADCAST, [6]);
  sendFrames(a, MAC_C, [7]); // C's MAC is gone: unknown, floods to B
  t.same(seqsOf(recvFrames(b)), [6, 7], 'a closed port is off the switch');
  t.same(recvFrames(c), []);
  t.equal(wire.stats.delivered, 10);
  t.same(a.stats, { rxFrames: 1, rxBytes: 64, txFrames: 6, txBytes: 384, txDropped: 0 });
  t.equal(b.stats.rxFrames, 6);
  t.equal(wire.slotsInUse, 0, 'every slot back in the pool');
});

t.test('frames arrive intact, as views into wire slots, in delivery order', async (t) => {
  const wire = new SimWire({ seed: 1 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  sendFrames(a, MAC_B, range(0, 100), 1500);
  const rx = new FrameBatch(128);
  t.equal(b.rxBurst(0, rx, 128), 100);
  t.equal(rx.count, 100);
  for (let i = 0; i < 100; i++) t.ok(frameIntact(rx.buf[i], rx.off[i], rx.len[i], i), `frame ${i} intact`);
  t.equal(rx.buf[0], rx.buf[99], 'one arena, not an object per frame');
  t.equal(wire.slotsInUse, 100, 'held until released');
  b.rxRelease(0, rx);
  t.equal(rx.count, 0);
  t.equal(wire.slotsInUse, 0);
  // rxBurst hands out at most max, the rest stays queued
  sendFrames(a, MAC_B, range(0, 10));
  t.equal(b.rxBurst(0, rx, 4), 4);
  t.equal(b.pending(0), 6);
  b.rxRelease(0, rx);
  t.same(seqsOf(recvFrames(b)), range(4, 10));
});

/** A run of three ports with every impairment on; returns what each port received and when. */
function scenario(seed: number): { log: string[]; stats: string } {
  const wire = new SimWire({ seed });
  const ports = [wire.attach(MAC_A), wire.attach(MAC_B), wire.attach(MAC_C)];
  const macs = [MAC_A, MAC_B, MAC_C, BROADCAST];
  wire.impair({ loss: 0.1, duplicate: 0.05, reorder: 0.1, corrupt: 0.05, delayMs: 1, jitterMs: 1 });
  const choose = new Prng(99); // the inputs: the same for every seed
  const log: string[] = [];
  const collect = (): void => {
    ports.forEach((p, i) => {
      for (const f of recvFrames(p)) log.push(`${i}:${readU32(f, 14)}:${wire.clock.now().toFixed(3)}:${f.reduce((h, x) => (h * 31 + x) | 0, 0)}`);
    });
  };
  for (let seq = 0; seq < 3000; seq++) {
    const from = choose.nextU32() % 3;
    sendFrames(ports[from], macs[choose.nextU32() % 4], [seq]);
    wire.advanceBy(0.05);
    collect();
  }
  wire.advanceBy(100);
  collect();
  return { log, stats: JSON.stringify(wire.stats) };
}

t.test('determinism: the same seed gives the same deliveries and impairments, another seed does not', async (t) => {
  const a = scenario(42);
  const b = scenario(42);
  const c = scenario(43);
  t.ok(a.log.length > 3000, `${a.log.length} deliveries`);
  t.same(b.log, a.log, 'same seed, same delivery sequence, times and bytes');
  t.equal(b.stats, a.stats, 'same impairment decisions');
  t.not(c.stats, a.stats, 'another seed, other decisions');
  t.notSame(c.log, a.log, 'another seed, another delivery sequence');
});

t.test('the PRNG is deterministic and roughly uniform', async (t) => {
  const p = new Prng(5);
  const q = new Prng(5);
  const xs = range(0, 1000).map(() => p.next());
  t.same(range(0, 1000).map(() => q.next()), xs);
  t.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  t.ok(Math.abs(mean - 0.5) < 0.03, `mean ${mean}`);
  t.not(new Prng(6).nextU32(), new Prng(5).nextU32());
});

t.test('loss 0.3 over 10,000 frames', async (t) => {
  const wire = new SimWire({ seed: 7 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.impair({ loss: 0.3 });
  sendMany(a, MAC_B, range(0, 10_000));
  const got = seqsOf(recvFrames(b));
  t.ok(Math.abs(got.length - 7000) < 250, `${got.length} of 10,000 delivered`);
  t.equal(wire.stats.lost, 10_000 - got.length, 'every missing frame counted as lost');
  t.same(got, [...got].sort((x, y) => x - y), 'survivors in order');
  t.equal(a.stats.txFrames, 10_000, 'the sender counts them sent');
});

t.test('duplicate 0.25 over 10,000 frames', async (t) => {
  const wire = new SimWire({ seed: 8 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.impair({ duplicate: 0.25 });
  sendMany(a, MAC_B, range(0, 10_000));
  const got = seqsOf(recvFrames(b));
  const twice = got.length - 10_000;
  t.ok(Math.abs(twice - 2500) < 200, `${twice} duplicated`);
  t.equal(wire.stats.duplicated, twice);
  const counts = new Map<number, number>();
  for (const s of got) counts.set(s, (counts.get(s) ?? 0) + 1);
  t.equal(counts.size, 10_000, 'every frame at least once');
  t.ok([...counts.values()].every((n) => n === 1 || n === 2), 'never more than twice');
});

t.test('corruption flips exactly one bit, anywhere in the frame, at the set rate', async (t) => {
  const wire = new SimWire({ seed: 9 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.impair({ corrupt: 0.2 });
  const N = 10_000;
  sendMany(a, MAC_B, range(0, N), 100);
  const got = recvFrames(b);
  t.equal(got.length, N, 'corrupted frames are still delivered (the receiver checks checksums)');
  const expect = new Uint8Array(100);
  let corrupted = 0;
  let oneBit = 0;
  let inHeader = 0;
  got.forEach((f, i) => {
    writeFrame(expect, 0, MAC_B, MAC_A, i, 100);
    let bits = 0;
    let where = -1;
    for (let k = 0; k < 100; k++) {
      const d = popcount(f[k] ^ expect[k]);
      if (d) where = k;
      bits += d;
    }
    if (bits > 0) corrupted++;
    if (bits === 1) oneBit++;
    if (bits > 0 && where < 14) inHeader++;
  });
  t.ok(Math.abs(corrupted - 2000) < 200, `${corrupted} corrupted`);
  t.equal(wire.stats.corrupted, corrupted);
  t.equal(oneBit, corrupted, 'each by exactly one bit');
  t.ok(inHeader > 0 && inHeader < corrupted / 2, `${inHeader} of them in the Ethernet header`);
});

t.test('reordering holds frames back so later frames overtake them', async (t) => {
  const wire = new SimWire({ seed: 10 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.impair({ reorder: 0.1, delayMs: 1 });
  const N = 10_000;
  const got: number[] = [];
  for (let i = 0; i < N; i++) {
    sendFrames(a, MAC_B, [i]);
    wire.advanceBy(0.1);
    got.push(...seqsOf(recvFrames(b)));
  }
  wire.advanceBy(10);
  got.push(...seqsOf(recvFrames(b)));
  t.equal(got.length, N, 'nothing lost');
  t.same([...got].sort((x, y) => x - y), range(0, N));
  let late = 0;
  let max = -1;
  const inOrder: number[] = [];
  for (const s of got) {
    if (s < max) late++;
    else inOrder.push(s);
    if (s > max) max = s;
  }
  t.ok(Math.abs(wire.stats.reordered - 1000) < 150, `${wire.stats.reordered} reordered`);
  t.equal(late, wire.stats.reordered, 'every held frame arrives after a later one');
  t.same(inOrder, [...inOrder].sort((x, y) => x - y), 'the others keep their order');
});

t.test('delay and jitter in virtual time', async (t) => {
  const wire = new SimWire({ seed: 11 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.impair({ delayMs: 10 });
  sendFrames(a, MAC_B, [0]);
  t.equal(wire.nextEventAt(), 10);
  wire.advanceTo(9.999);
  t.same(recvFrames(b), [], 'not before the delay');
  wire.advanceTo(10);
  t.same(seqsOf(recvFrames(b)), [0], 'at the delay');
  t.equal(wire.nextEventAt(), Infinity);

  wire.impair({ jitterMs: 5 });
  // One frame every 20 ms: each gets its own delay.
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    const sent = wire.clock.now();
    sendFrames(a, MAC_B, [i]);
    wire.advanceTo(wire.nextEventAt());
    t.same(seqsOf(recvFrames(b)), [i]);
    lat.push(wire.clock.now() - sent);
    wire.advanceTo(sent + 20);
  }
  t.ok(lat.every((x) => x >= 10 && x < 15), 'every latency within [delay, delay + jitter)');
  const mean = lat.reduce((s, x) => s + x, 0) / lat.length;
  t.ok(Math.abs(mean - 12.5) < 0.5, `uniform jitter: mean latency ${mean.toFixed(2)} ms`);
  t.ok(Math.min(...lat) < 10.5 && Math.max(...lat) > 14.5, 'spread over the whole range');
  // Back to back: jitter alone never reorders a direction.
  const t0 = wire.clock.now();
  sendFrames(a, MAC_B, range(0, 100));
  const order: number[] = [];
  while (wire.nextEventAt() < Infinity) {
    wire.advanceTo(wire.nextEventAt());
    order.push(...seqsOf(recvFrames(b)));
  }
  t.same(order, range(0, 100), 'jitter alone keeps a direction in order');
  t.ok(wire.clock.now() - t0 < 15, 'within delay + jitter');
});

t.test('bandwidth serializes frames per direction', async (t) => {
  const wire = new SimWire({ seed: 12 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.impair({ bandwidthBps: 1_000_000, delayMs: 2 }); // a 1000-byte frame takes 8 ms
  sendFrames(a, MAC_B, range(0, 5), 1000);
  sendFrames(b, MAC_A, [100], 1000);
  const arrivals: string[] = [];
  while (wire.nextEventAt() < Infinity) {
    wire.advanceTo(wire.nextEventAt());
    for (const s of seqsOf(recvFrames(b))) arrivals.push(`B${s}@${wire.clock.now()}`);
    for (const s of seqsOf(recvFrames(a))) arrivals.push(`A${s}@${wire.clock.now()}`);
  }
  t.same(arrivals, ['B0@10', 'A100@10', 'B1@18', 'B2@26', 'B3@34', 'B4@42'], 'queued behind each other, each direction on its own');
  wire.advanceTo(100);
  sendFrames(a, MAC_B, [5], 1000);
  t.equal(wire.nextEventAt(), 110, 'an idle link starts at once');
  wire.impair({ bandwidthBps: 0, delayMs: 0 });
  sendFrames(a, MAC_B, [6], 1000);
  wire.advanceTo(109.9);
  t.same(recvFrames(b), [], 'unlimited again, but a frame does not overtake the one before it');
  wire.advanceTo(110);
  t.same(seqsOf(recvFrames(b)), [5, 6]);
  sendFrames(a, MAC_B, [7], 1000);
  t.same(seqsOf(recvFrames(b)), [7], 'no delay at all now');
});

t.test('per-direction impairments override the wire-wide ones', async (t) => {
  const wire = new SimWire({ seed: 13 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.impair({ delayMs: 3 });
  wire.impair({ loss: 1 }, a);
  sendFrames(a, MAC_B, range(0, 50));
  sendFrames(b, MAC_A, range(0, 50));
  wire.advanceBy(3);
  t.same(recvFrames(b), [], 'A→B loses everything');
  t.equal(recvFrames(a).length, 50, 'B→A untouched');
  t.same(wire.impairments(a), { loss: 1, duplicate: 0, reorder: 0, corrupt: 0, delayMs: 3, jitterMs: 0, bandwidthBps: 0, reorderMs: 0 });
  wire.impair({ delayMs: 7 });
  t.equal(wire.impairments(a).delayMs, 7, 'wire-wide changes still reach fields a port does not override');
  wire.clearImpairments(a);
  sendFrames(a, MAC_B, [1]);
  wire.advanceBy(7);
  t.equal(recvFrames(b).length, 1);
  t.throws(() => wire.impair({ loss: 1.5 }), RangeError);
  t.throws(() => wire.impair({ delayMs: -1 }), RangeError);
});

t.test('dropNext and the onFrame hook', async (t) => {
  const wire = new SimWire({ seed: 14 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.dropNext(3);
  sendFrames(a, MAC_B, range(0, 10));
  t.same(seqsOf(recvFrames(b)), range(3, 10), 'the next three dropped');
  wire.dropNext(2, b);
  sendFrames(a, MAC_B, [10, 11]);
  sendFrames(b, MAC_A, [20, 21, 22]);
  t.same(seqsOf(recvFrames(b)), [10, 11], 'only B\'s frames');
  t.same(seqsOf(recvFrames(a)), [22]);
  t.equal(wire.stats.lost, 5);

  const seen: string[] = [];
  wire.onFrame = (from, buf, off, len) => {
    const seq = readU32(buf, off + 14);
    seen.push(`${from === a ? 'A' : 'B'}${seq}/${len}`);
    return seq % 2 === 0;
  };
  sendFrames(a, MAC_B, range(30, 36));
  t.same(seen, ['A30/64', 'A31/64', 'A32/64', 'A33/64', 'A34/64', 'A35/64'], 'sees every frame sent');
  t.same(seqsOf(recvFrames(b)), [30, 32, 34], 'false drops');
  t.equal(wire.stats.filtered, 3);
  wire.onFrame = null;
  sendFrames(a, MAC_B, [37]);
  t.same(seqsOf(recvFrames(b)), [37]);
});

t.test('runt and oversize frames are dropped and counted', async (t) => {
  const wire = new SimWire({ seed: 15, maxFrameBytes: 256 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  const tx = new FrameBatch(4);
  t.equal(a.txAlloc(0, tx, 3), 3);
  t.equal(tx.len[0], 256, 'len holds the slot capacity');
  writeFrame(tx.buf[0], tx.off[0], MAC_B, MAC_A, 1, 64);
  tx.len[0] = 13;
  tx.len[1] = 257;
  writeFrame(tx.buf[2], tx.off[2], MAC_B, MAC_A, 2, 14);
  tx.len[2] = 14;
  a.txBurst(0, tx, 3);
  t.equal(wire.stats.dropsRunt, 1);
  t.equal(wire.stats.dropsOversize, 1);
  t.same(a.stats, { rxFrames: 0, rxBytes: 0, txFrames: 1, txBytes: 14, txDropped: 2 });
  t.equal(recvFrames(b).length, 1, 'a 14-byte frame is fine');
});

t.test('TX staging: txAlloc hands out at most what is free, batches never share slots', async (t) => {
  const wire = new SimWire({ seed: 16 });
  const a = wire.attach(MAC_A, { txSlots: 8 });
  const b = wire.attach(MAC_B);
  const x = new FrameBatch(16);
  const y = new FrameBatch(16);
  t.equal(a.txAlloc(0, x, 5), 5);
  t.equal(a.txAlloc(0, y, 16), 3, 'only three left');
  const offs = new Set([...x.off.slice(0, 5), ...y.off.slice(0, 3)]);
  t.equal(offs.size, 8, 'disjoint slots');
  t.equal(a.txAlloc(0, new FrameBatch(4), 4), 0, 'none left');
  for (let i = 0; i < 5; i++) {
    writeFrame(x.buf[i], x.off[i], MAC_B, MAC_A, i, 64);
    x.len[i] = 64;
  }
  for (let i = 0; i < 3; i++) {
    writeFrame(y.buf[i], y.off[i], MAC_B, MAC_A, 10 + i, 64);
    y.len[i] = 64;
  }
  a.txBurst(0, y, 2); // the third reserved slot goes back unsent
  a.txBurst(0, x, 5);
  t.same(seqsOf(recvFrames(b)), [10, 11, 0, 1, 2, 3, 4]);
  a.txBurst(0, x, 5); // a batch already sent: count is 0, nothing freed twice
  t.equal(a.txAlloc(0, x, 16), 8, 'every staging slot free again, once');
  a.txBurst(0, x, 0);
  // A batch the driver did not hand out is copied and sent, and frees nothing.
  const own = new FrameBatch(1);
  own.buf[0] = new Uint8Array(100);
  writeFrame(own.buf[0], 3, MAC_B, MAC_A, 77, 64);
  own.off[0] = 3;
  own.len[0] = 64;
  own.id[0] = 0;
  own.count = 1;
  a.txBurst(0, own, 1);
  t.same(seqsOf(recvFrames(b)), [77]);
  t.equal(a.txAlloc(0, x, 16), 8);
});

t.test('slot pool exhaustion drops and counts, and recovers', async (t) => {
  const wire = new SimWire({ seed: 17, slots: 16 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  sendFrames(a, MAC_B, range(0, 40));
  t.equal(wire.stats.dropsNoSlot, 24);
  t.equal(wire.slotsInUse, 16);
  const rx = new FrameBatch(64);
  t.equal(b.rxBurst(0, rx, 64), 16);
  sendFrames(a, MAC_B, [100]);
  t.equal(wire.stats.dropsNoSlot, 25, 'slots held by the receiver are still in use');
  b.rxRelease(0, rx);
  sendFrames(a, MAC_B, range(40, 50));
  t.same(seqsOf(recvFrames(b)), range(40, 50), 'released slots are reused');
  t.equal(wire.slotsInUse, 0);
  t.equal(wire.stats.delivered, 26);
});

t.test('several queues: RSS picks the queue, both directions of a flow alike; ARP on every queue; selectQueue is replaceable', async (t) => {
  const ipA = 0xc6120001;
  const ipB = 0xc6120002;
  const rss = new RssSteering();
  const wire = new SimWire({ seed: 18 });
  const a = wire.attach(MAC_A, { queues: 4 });
  const b = wire.attach(MAC_B, { queues: 4 });
  t.equal(b.queues, 4);
  const delivered: number[] = [];
  wire.onDeliver = (to, _buf, _off, _len, queue) => {
    if (to === b) delivered.push(queue);
  };
  const perQueue = [0, 0, 0, 0];
  let asRss = 0;
  for (let port = 0; port < 256; port++) {
    sendBytes(a, tcpFrame(MAC_B, MAC_A, ipA, ipB, 10000 + port, 80));
    let q = -1;
    for (let k = 0; k < 4; k++) if (recvFrames(b, k).length === 1) q = k;
    perQueue[q]++;
    if (q === rss.queueOf(ipA, ipB, 10000 + port, 80, 4)) asRss++;
    sendBytes(b, tcpFrame(MAC_A, MAC_B, ipB, ipA, 80, 10000 + port));
    t.equal(recvFrames(a, q).length, 1, `flow ${port}: the reply lands on queue ${q} too`);
  }
  t.equal(asRss, 256, 'every flow on the queue RSS predicts');
  t.same(delivered.slice(0, 3), [rss.queueOf(ipA, ipB, 10000, 80, 4), rss.queueOf(ipA, ipB, 10001, 80, 4), rss.queueOf(ipA, ipB, 10002, 80, 4)], 'onDeliver reports the queue');
  t.ok(perQueue.every((n) => n > 30), `flows spread: ${perQueue}`);
  sendFrames(a, MAC_B, [1]);
  t.equal(recvFrames(b, 0).length, 1, 'not IPv4: queue 0');
  const arp = tcpFrame(MAC_B, MAC_A, ipA, ipB, 1, 2);
  arp[13] = 0x06;
  sendBytes(a, arp);
  t.same([0, 1, 2, 3].map((q) => recvFrames(b, q).length), [1, 1, 1, 1], 'ARP: a copy on every queue');
  t.equal(wire.slotsInUse, 0);
  wire.selectQueue = () => 3;
  sendFrames(a, MAC_B, [2]);
  t.same(seqsOf(recvFrames(b, 3)), [2], 'a replaced selector');
});

t.test('manual mode: waitRx resolves on the next macrotask and does not move the clock', async (t) => {
  const wire = new SimWire({ seed: 19 });
  const a = wire.attach(MAC_A);
  wire.attach(MAC_B);
  let done = false;
  const w = a.waitRx(0, 5000).then(() => {
    done = true;
  });
  await Promise.resolve();
  t.notOk(done, 'not synchronously, nor on a microtask');
  await w;
  t.equal(wire.clock.now(), 0);
  wire.advanceBy(2.5);
  t.equal(wire.clock.now(), 2.5);
});

t.test('auto-advance: a 5,000 ms timeout takes no real time and the clock reads 5000', async (t) => {
  const wire = new SimWire({ seed: 20, autoAdvance: true });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  const t0 = performance.now();
  await Promise.all([a.waitRx(0, 5000), b.waitRx(0, 5000)]);
  t.equal(wire.clock.now(), 5000);
  t.ok(performance.now() - t0 < 500, 'instantly in real time');
  const aDone = a.waitRx(0, 100).then(() => {
    t.equal(wire.clock.now(), 5100, 'the earliest deadline first');
    a.close(); // A stays busy otherwise, and holds the clock
  });
  await Promise.all([aDone, b.waitRx(0, 300)]);
  t.equal(wire.clock.now(), 5300, 'then the next');
});

t.test('auto-advance: two async stacks ping-pong frames in virtual time', async (t) => {
  const wire = new SimWire({ seed: 21, autoAdvance: true });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.impair({ delayMs: 1 });
  const t0 = performance.now();
  const pinger = async (): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      sendFrames(a, MAC_B, [i]);
      for (;;) {
        await a.waitRx(0, 1000);
        const got = seqsOf(recvFrames(a));
        if (got.length > 0) {
          if (got[0] !== i + 1000) throw new Error(`pong ${got[0]} for ping ${i}`);
          break;
        }
      }
      times.push(wire.clock.now());
    }
    await a.waitRx(0, 5000); // nothing comes: times out
    times.push(wire.clock.now());
    a.close();
    return times;
  };
  const ponger = async (): Promise<number> => {
    for (;;) {
      await b.waitRx(0, 10_000);
      const got = seqsOf(recvFrames(b));
      if (got.length === 0) return wire.clock.now();
      sendFrames(b, MAC_A, got.map((s) => s + 1000));
    }
  };
  const [times, end] = await Promise.all([pinger(), ponger()]);
  t.same(times.slice(0, 3), [2, 4, 6], 'each round trip takes 2 virtual ms');
  t.equal(times[99], 200);
  t.equal(times[100], 5200, 'the pinger\'s 5 s timeout');
  t.equal(end, 10_199, 'the ponger times out 10 s after its last reply, alone on the wire');
  t.ok(performance.now() - t0 < 2000, `${(performance.now() - t0).toFixed(0)} ms of real time`);
});

t.test('auto-advance: a frame for a waiting port resolves it without moving the clock', async (t) => {
  const wire = new SimWire({ seed: 22, autoAdvance: true });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  const w = b.waitRx(0, 1000);
  await turn();
  sendFrames(a, MAC_B, [1]); // A is busy (not waiting): the clock is held
  await w;
  t.equal(wire.clock.now(), 0);
  t.same(seqsOf(recvFrames(b)), [1]);
});

t.test('auto-advance: a port that does not wait holds the clock; closing it releases the others', async (t) => {
  const wire = new SimWire({ seed: 23, autoAdvance: true });
  const a = wire.attach(MAC_A);
  let resolved = false;
  const w = a.waitRx(0, 1000).then(() => {
    resolved = true;
  });
  const c = wire.attach(MAC_C); // attached while A waits
  for (let i = 0; i < 20; i++) await turn();
  t.notOk(resolved, 'C is busy: A still waits');
  t.equal(wire.clock.now(), 0);
  await c.waitRx(0, 30);
  t.equal(wire.clock.now(), 30, 'once C waits too, the clock moves to the earliest deadline');
  t.notOk(resolved);
  for (let i = 0; i < 5; i++) await turn();
  t.notOk(resolved, 'C is busy again');
  c.close();
  await w;
  t.equal(wire.clock.now(), 1000, 'C closed: A\'s deadline');
  t.ok(resolved);
});

t.test('auto-advance: frames in flight move the clock to their delivery', async (t) => {
  const wire = new SimWire({ seed: 24, autoAdvance: true });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  wire.impair({ delayMs: 7 });
  sendFrames(a, MAC_B, [1]);
  let bWoke = -1;
  const bDone = b.waitRx(0, 1000).then(() => {
    bWoke = wire.clock.now();
    t.same(seqsOf(recvFrames(b)), [1]);
    b.close();
  });
  await Promise.all([a.waitRx(0, 1000), bDone]);
  t.equal(bWoke, 7, 'B woke when its frame arrived');
  t.equal(wire.clock.now(), 1000, 'then, B gone, A at its deadline');
});

t.test('auto-advance: every queue a port uses must wait; wakeRx resolves a wait at once', async (t) => {
  const wire = new SimWire({ seed: 25, autoAdvance: true });
  const a = wire.attach(MAC_A, { queues: 2 });
  a.rxBurst(1, new FrameBatch(1), 1); // queue 1 in use, not waiting
  let resolved = false;
  const w = a.waitRx(0, 50).then(() => {
    resolved = true;
  });
  for (let i = 0; i < 10; i++) await turn();
  t.notOk(resolved, 'queue 1 is busy');
  await a.waitRx(1, 20);
  t.equal(wire.clock.now(), 20);
  const w1 = a.waitRx(1, 100);
  await w;
  t.equal(wire.clock.now(), 50);
  a.wakeRx(1);
  await w1;
  t.equal(wire.clock.now(), 50, 'queue 1 woken, not timed out');

  const b = wire.attach(MAC_B);
  const wb = b.waitRx(0, 10_000);
  b.wakeRx(0);
  await wb;
  t.equal(wire.clock.now(), 50, 'woken, not timed out');
  a.close();
  b.close();
  await b.waitRx(0, 100); // closed: resolves at once
});
