/**
 * BufferClasses: pools of doubling ring sizes made when first used, and the context's byte budget
 * for the grown ones. The send and receive buffers grow over them (randomized models against plain
 * arrays: every byte where it belongs across growth steps), and every ring goes back to its class.
 */
import t from 'tap';
import { BufferClasses, BufferMemory } from '../../src/stack/buffer-classes.ts';
import { Stats } from '../../src/stack/stats.ts';
import { RecvBuffers } from '../../src/stack/tcp/recv-buffer.ts';
import { SendBuffers } from '../../src/stack/tcp/send-buffer.ts';
import { SeqRangeLists } from '../../src/stack/tcp/seq-ranges.ts';
import { asSeq, seqAdd, type Seq } from '../../src/stack/wire/seqnum.ts';
import { Prng } from '../helpers/prng.ts';

t.test('classes double from the base up to the maximum (rounded down), within the budget', async (t) => {
  const stats = new Stats();
  const c = new BufferClasses(4, 8192, 4 << 20, new BufferMemory(256 << 20, stats));
  t.equal(c.maxClass, 9);
  t.equal(c.maxSize, 4 << 20);
  t.equal(c.classFor(1), 0);
  t.equal(c.classFor(8192), 0);
  t.equal(c.classFor(8193), 1);
  t.equal(c.classFor(1 << 30), 9, 'nothing larger than the maximum');
  t.equal(new BufferClasses(4, 1000, 5000, new BufferMemory(1 << 20, stats)).maxSize, 4000, '1000 x 2^2: the largest doubling within 5000');
  t.equal(new BufferClasses(4, 8192, 8192, new BufferMemory(1 << 20, stats)).maxClass, 0, 'max = base: no growth');
  t.equal(new BufferClasses(4, 8192, 4 << 20, new BufferMemory(0, stats)).maxClass, 0, 'no budget: no growth');
  t.equal(new BufferClasses(4, 8192, 4 << 20, new BufferMemory(100_000, stats)).maxSize, 65536, 'no ring larger than the budget');
});

t.test('the budget holds: a buffer may reserve a class above 0 only within it', async (t) => {
  const memory = new BufferMemory(3 * 16384, new Stats());
  const c = new BufferClasses(8, 8192, 65536, memory);
  t.ok(c.reserve(0, 2), '32 KiB reserved');
  t.equal(memory.used, 32768);
  t.notOk(c.reserve(0, 2), 'a second 32 KiB would go over 48 KiB');
  t.equal(memory.used, 32768, 'nothing changed');
  t.ok(c.reserve(0, 1), 'a 16 KiB one fits');
  t.equal(memory.used, 49152);
  t.ok(c.reserve(0, 0), 'class 0 is not charged to the budget (max_num_buffers bounds it)');
  t.notOk(c.reserve(1, 2), 'growing 16 -> 32 KiB needs 16 KiB more');
  t.ok(c.reserve(2, 1), 'shrinking gives back');
  t.equal(memory.used, 32768);
  t.ok(c.reserve(1, 0));
  t.ok(c.reserve(1, 0));
  t.equal(memory.used, 0);
  const a = c.alloc(3);
  t.ok(a >= 0, 'rings come from the pools');
  t.equal(c.inUse, 1);
  c.free(3, a);
  t.equal(c.inUse, 0);
  t.equal(c.highWater, 1);
});

t.test('a pool is made only when its class is first used', async (t) => {
  const c = new BufferClasses(1 << 20, 8192, 1 << 30, new BufferMemory(2 ** 40, new Stats()));
  const t0 = performance.now();
  const big = new BufferClasses(1 << 22, 65536, 1 << 30, new BufferMemory(2 ** 40, new Stats()));
  t.ok(performance.now() - t0 < 1000, 'no arena and no class above 0 made at start-up');
  t.equal(c.inUseOf(5), 0);
  t.equal(big.inUse, 0);
});

t.test('send buffer: grows while the writer fills it, data intact across growth (randomized model)', async (t) => {
  for (const seed of [1, 2, 3]) {
    const rng = new Prng(seed);
    const stats = new Stats();
    const memory = new BufferMemory(1 << 20, stats);
    const classes = new BufferClasses(4, 64, 4096, memory);
    const b = new SendBuffers(2, classes);
    b.reset(0);
    b.reset(1);
    b.write(0, new Uint8Array(64).fill(0x5a), 0, 64); // a neighbour that must stay untouched
    const S = 1;
    const model: number[] = [];
    let next = 0;
    let bad = 0;
    let grew = 0;
    const src = new Uint8Array(9000);
    const dst = new Uint8Array(9000);
    for (let i = 0; i < 20_000; i++) {
      const op = rng.int(4);
      if (op === 0) {
        const len = rng.int(3 * b.capacity(S));
        for (let k = 0; k < len; k++) src[k] = (next + k) & 0xff;
        const n = b.write(S, src, 0, len);
        if (n !== Math.min(len, b.capacity(S) - model.length)) bad++;
        for (let k = 0; k < n; k++) model.push((next + k) & 0xff);
        next += n;
      } else if (op === 1) {
        const n = rng.int(model.length + 2);
        b.consume(S, n);
        model.splice(0, n);
      } else if (op === 2) {
        if (b.expand(S, rng.int(8192))) grew++;
      } else if (model.length > 0) {
        const offset = rng.int(model.length);
        const len = rng.int(model.length - offset + 1);
        b.copyOut(S, offset, dst, 0, len);
        for (let k = 0; k < len; k++) if (dst[k] !== model[offset + k]) { bad++; break; }
      }
      if (b.length(S) !== model.length || b.holdsRing(S) !== model.length > 0 || b.capacity(S) > classes.maxSize) bad++;
    }
    const g = new Uint8Array(64);
    b.copyOut(0, 0, g, 0, 64);
    t.ok(g.every((x) => x === 0x5a), `seed ${seed}: neighbour untouched`);
    t.equal(bad, 0, `seed ${seed}: no mismatch`);
    t.ok(grew > 0, `seed ${seed}: grew ${grew} times`);
    b.reset(0);
    b.reset(S);
    t.equal(classes.inUse, 0, `seed ${seed}: every ring back`);
    t.equal(memory.used, 0);
  }
});

t.test('send buffer: expand needs a writer that filled it; a drained buffer steps back down', async (t) => {
  const classes = new BufferClasses(4, 1024, 1 << 16, new BufferMemory(1 << 20, new Stats()));
  const b = new SendBuffers(1, classes);
  b.reset(0);
  const d = new Uint8Array(4096);
  t.equal(b.write(0, d, 0, 100), 100);
  t.notOk(b.expand(0, 8192), 'the writer was not limited by the buffer: no growth');
  t.equal(b.write(0, d, 0, 4096), 924, 'cut short at 1 KiB');
  t.ok(b.expand(0, 8192), 'now it grows');
  t.equal(b.capacity(0), 8192);
  t.equal(b.write(0, d, 0, 4096), 4096, 'and takes more');
  t.equal(b.length(0), 5120);
  b.consume(0, 5120);
  t.notOk(b.holdsRing(0), 'drained: the ring goes back at its size');
  t.equal(b.capacity(0), 4096, 'the next one is a class smaller');
  t.equal(classes.inUse, 0);
});

/** Receive model: the ring against a map of stream offset to byte. */
t.test('receive buffer: grows for out-of-order spans and reads, data intact (randomized model)', async (t) => {
  for (const seed of [1, 2, 3]) {
    const rng = new Prng(seed);
    const memory = new BufferMemory(1 << 20, new Stats());
    const classes = new BufferClasses(4, 256, 16384, memory);
    const b = new RecvBuffers(1, classes, new SeqRangeLists(1, 1));
    b.reset(0, 0);
    const byteAt = (k: number): number => (k * 13 + (k >> 9)) & 0xff;
    const stream = Uint8Array.from({ length: 1 << 20 }, (_, k) => byteAt(k));
    let next: Seq = asSeq(0xffff0000);
    let inOrderEnd = 0; // stream offset of RCV.NXT
    let readTo = 0;
    let now = 0;
    let bad = 0;
    let peak = 0;
    const dst = new Uint8Array(1 << 15);
    for (let i = 0; i < 20_000 && inOrderEnd < (1 << 20) - 20_000; i++) {
      now += rng.int(3);
      const op = rng.int(3);
      if (op < 2) {
        // A segment within what the buffer may hold now, in order or beyond a gap.
        const room = b.free(0);
        if (room <= 0) continue;
        const rel = op === 0 ? 0 : rng.int(room);
        const len = 1 + rng.int(Math.min(1460, room - rel));
        const grew = b.insert(0, next, seqAdd(next, rel), stream, inOrderEnd + rel, len);
        if (grew > 0) {
          next = seqAdd(next, grew);
          inOrderEnd += grew;
        }
      } else {
        const n = b.read(0, dst, 0, rng.int(dst.length));
        for (let k = 0; k < n; k++) if (dst[k] !== stream[readTo + k]) { bad++; break; }
        readTo += n;
        b.measureRead(0, n, now, 5, b.free(0));
      }
      if (readTo + b.readable(0) !== inOrderEnd) bad++;
      peak = Math.max(peak, b.capacity(0));
    }
    t.equal(bad, 0, `seed ${seed}: every byte read in order and intact (${readTo} bytes)`);
    t.ok(peak > 256, `seed ${seed}: grew to ${peak}`);
    b.reset(0, now);
    t.equal(classes.inUse, 0, `seed ${seed}: the ring is back`);
    t.equal(memory.used, 0);
  }
});

t.test('receive buffer: twice what was read per round trip; an idle spell brings it back down', async (t) => {
  const memory = new BufferMemory(1 << 20, new Stats());
  const classes = new BufferClasses(4, 1024, 1 << 16, memory);
  const b = new RecvBuffers(1, classes, new SeqRangeLists(1, 1));
  b.reset(0, 0);
  const d = new Uint8Array(1024);
  const next = asSeq(1);
  t.equal(b.insert(0, next, next, d, 0, 1024), 1024);
  t.equal(b.read(0, d, 0, 1024), 1024);
  t.notOk(b.holdsRing(0), 'drained: the ring is back');
  t.notOk(b.measureRead(0, 1024, 5, 10, 1024), 'within the round trip: no decision yet');
  t.ok(b.measureRead(0, 1024, 10, 10, 1024), 'a round trip in which 2 KiB were read');
  t.equal(b.capacity(0), 4096, 'twice that');
  t.notOk(b.measureRead(0, 10, 2000, 10, 4096), 'idle for two seconds, with the 4 KiB window offered before still open');
  t.equal(b.capacity(0), 1024, 'the window offers 1 KiB from now on');
  t.equal(memory.used, 4096, 'while the buffer keeps its 4 KiB reservation');
  t.notOk(b.measureRead(0, 0, 2001, 10, 1000), 'the peer used the window offered before');
  t.equal(memory.used, 0, 'now the buffer is back at 1 KiB and reserves nothing');
});
