/**
 * RecvBuffers: one connection's in-order ring plus out-of-order ranges over a pool slot, taken when the
 * first byte arrives and given back once everything was read. The tests drive connection 0 through an
 * adapter that speaks in offsets relative to the end of the in-order data, as the receiver's sequence
 * numbers do relative to RCV.NXT.
 */
import t from 'tap';
import { BufferClasses, BufferMemory } from '../../../src/stack/buffer-classes.ts';
import { Stats } from '../../../src/stack/stats.ts';
import { RecvBuffers } from '../../../src/stack/tcp/recv-buffer.ts';
import { RANGES as RECV_MAX_OOO_RANGES, SeqRangeLists } from '../../../src/stack/tcp/seq-ranges.ts';
import { asSeq, seqAdd, seqDiff, type Seq } from '../../../src/stack/wire/seqnum.ts';
import { Prng } from '../../helpers/prng.ts';

/** `count` rings of `size` bytes that never grow. */
function fixedPool(count: number, size: number): BufferClasses {
  return new BufferClasses(count, size, size, new BufferMemory(0, new Stats()));
}

/** Stream byte at absolute offset k. */
const sb = (k: number): number => (k * 7 + (k >> 8) + 3) & 0xff;
const STREAM = Uint8Array.from({ length: 1 << 16 }, (_, k) => sb(k));

/** Connection 0's receive buffer, addressed relative to the end of its in-order data. */
class Ring {
  /** RCV.NXT: the sequence number after the in-order data (a start near the wrap). */
  next: Seq = asSeq(0xfffffff0);
  constructor(readonly b: RecvBuffers) {}
  insert(rel: number, src: Uint8Array, off: number, len: number): number {
    const grew = this.b.insert(0, this.next, seqAdd(this.next, rel), src, off, len);
    if (grew > 0) this.next = seqAdd(this.next, grew);
    return grew;
  }
  read(d: Uint8Array, off: number, len: number): number {
    return this.b.read(0, d, off, len);
  }
  peek(d: Uint8Array, off: number, len: number): number {
    return this.b.peek(0, d, off, len);
  }
  get readable(): number {
    return this.b.readable(0);
  }
  get free(): number {
    return this.b.free(0);
  }
  get capacity(): number {
    return this.b.capacity(0);
  }
  get oooCount(): number {
    return this.b.oooCount(0);
  }
  oooStart(i: number): number {
    return seqDiff(this.b.ooo.start(0, i), this.next);
  }
  oooEnd(i: number): number {
    return seqDiff(this.b.ooo.end(0, i), this.next);
  }
  get oooBytes(): number {
    let n = 0;
    for (let i = 0; i < this.oooCount; i++) n += this.oooEnd(i) - this.oooStart(i);
    return n;
  }
}

function buffers(pool: BufferClasses, connections = 1): RecvBuffers {
  return new RecvBuffers(connections, pool, new SeqRangeLists(connections, connections));
}

function make(size: number): Ring {
  return new Ring(buffers(fixedPool(2, size)));
}

function ranges(r: Ring): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < r.oooCount; i++) out.push([r.oooStart(i), r.oooEnd(i)]);
  return out;
}

/** Insert stream bytes [abs, abs+len) given the absolute in-order end `end`. */
function put(r: Ring, end: number, abs: number, len: number): number {
  return r.insert(abs - end, STREAM, abs, len);
}

function readAll(r: Ring): number[] {
  const d = new Uint8Array(r.readable);
  const n = r.read(d, 0, d.length);
  return [...d.subarray(0, n)];
}

t.test('a ring is taken from the pool when the first byte arrives and given back once everything is read', async (t) => {
  const pool = fixedPool(1, 16);
  const b = buffers(pool, 2);
  const r = new Ring(b);
  t.notOk(b.holdsRing(0), 'an idle connection holds no ring');
  t.equal(pool.inUse, 0);
  t.equal(r.capacity, 16);
  t.equal(r.free, 16, 'the whole ring is room to offer before it is taken');
  put(r, 0, 0, 4);
  t.ok(b.holdsRing(0));
  t.equal(pool.inUse, 1);
  t.equal(b.insert(1, asSeq(0), asSeq(0), STREAM, 0, 4), -1, 'another connection finds the pool empty');
  put(r, 4, 8, 2);
  const d = new Uint8Array(16);
  t.equal(r.read(d, 0, 16), 4);
  t.ok(b.holdsRing(0), 'kept while out-of-order data waits');
  put(r, 4, 4, 4);
  t.equal(r.read(d, 0, 16), 6);
  t.notOk(b.holdsRing(0), 'drained: given back');
  t.equal(pool.inUse, 0);
  t.equal(b.insert(1, asSeq(0), asSeq(0), STREAM, 0, 4), 4, 'the other connection takes it now');
  b.release(1);
  t.equal(pool.inUse, 0, 'release gives it back');
  t.equal(b.readable(1), 0);
});

t.test('in-order insert at rel 0, read and peek', async (t) => {
  const r = make(16);
  t.equal(put(r, 0, 0, 5), 5);
  t.equal(r.readable, 5);
  t.equal(r.free, 11);
  const d = new Uint8Array(8);
  t.equal(r.peek(d, 1, 3), 3);
  t.same([...d.subarray(1, 4)], [sb(0), sb(1), sb(2)]);
  t.equal(r.readable, 5, 'peek consumes nothing');
  t.equal(r.read(d, 0, 2), 2);
  t.same([...d.subarray(0, 2)], [sb(0), sb(1)]);
  t.equal(r.read(d, 0, 100), 3, 'read clamps to readable');
  t.same([...d.subarray(0, 3)], [sb(2), sb(3), sb(4)]);
  t.equal(r.read(d, 0, 4), 0);
  t.equal(r.peek(d, 0, 4), 0);
  t.equal(r.insert(-1, STREAM, 0, 3), 0, 'negative rel rejected');
  t.equal(r.insert(0, STREAM, 5, 0), 0, 'empty insert');
  // Wraparound of the ring.
  t.equal(put(r, 5, 5, 14), 14);
  t.same(readAll(r), [...STREAM.subarray(5, 19)]);
});

t.test('out-of-order ranges: duplicates, overlaps, containment, adjacency, holes', async (t) => {
  const r = make(64);
  t.equal(put(r, 0, 0, 2), 2);
  const E = 2; // in-order end
  t.equal(put(r, E, E + 5, 3), 0, 'ooo returns 0');
  t.same(ranges(r), [[5, 8]]);
  t.equal(r.readable, 2, 'ooo bytes are not readable');
  t.equal(put(r, E, E + 5, 3), 0);
  t.same(ranges(r), [[5, 8]], 'duplicate');
  put(r, E, E + 3, 3);
  t.same(ranges(r), [[3, 8]], 'overlap on the left');
  put(r, E, E + 7, 3);
  t.same(ranges(r), [[3, 10]], 'overlap on the right');
  put(r, E, E + 4, 2);
  t.same(ranges(r), [[3, 10]], 'contained');
  put(r, E, E + 2, 10);
  t.same(ranges(r), [[2, 12]], 'containing (both sides)');
  put(r, E, E + 12, 2);
  t.same(ranges(r), [[2, 14]], 'adjacent on the right merges');
  put(r, E, E + 1, 1);
  t.same(ranges(r), [[1, 14]], 'adjacent on the left merges');
  put(r, E, E + 20, 2);
  put(r, E, E + 30, 3);
  t.same(ranges(r), [[1, 14], [20, 22], [30, 33]], 'sorted, separate');
  t.equal(r.oooBytes, 13 + 2 + 3);
  put(r, E, E + 25, 2);
  t.same(ranges(r), [[1, 14], [20, 22], [25, 27], [30, 33]], 'inserted in the middle');
  put(r, E, E + 14, 6);
  t.same(ranges(r), [[1, 22], [25, 27], [30, 33]], 'filling a hole merges three into one');
  put(r, E, E + 21, 10);
  t.same(ranges(r), [[1, 33]], 'overlap spanning several ranges');
  t.equal(put(r, E, E + 0, 1), 1 + 32, 'filling the front hole: readable grows by the whole run');
  t.equal(r.readable, 2 + 33);
  t.equal(r.oooCount, 0);
  t.same(readAll(r), [...STREAM.subarray(0, 35)]);
});

t.test('in-order insert overlapping and passing ooo ranges', async (t) => {
  const r = make(64);
  put(r, 0, 4, 4); // [4,8)
  put(r, 0, 10, 2); // [10,12)
  put(r, 0, 20, 5); // [20,25)
  t.equal(put(r, 0, 0, 11), 12, 'covers [0,11): reaches [10,12), growth 12');
  t.same(ranges(r), [[8, 13]], 'the remaining range is relative to the new end');
  const d = new Uint8Array(5);
  r.read(d, 0, 5);
  t.same(ranges(r), [[8, 13]], 'reading does not move relative offsets');
  t.equal(put(r, 12, 12, 3), 3, 'in-order short of the range');
  t.same(ranges(r), [[5, 10]]);
  t.equal(put(r, 15, 15, 5), 10, 'exactly adjacent: merges');
  t.equal(r.oooCount, 0);
  t.same(readAll(r), [...STREAM.subarray(5, 25)]);
});

t.test('clipping at capacity', async (t) => {
  const r = make(32);
  t.equal(put(r, 0, 0, 40), 32, 'in-order clipped to capacity');
  t.equal(r.free, 0);
  t.equal(put(r, 32, 32, 4), 0);
  const d = new Uint8Array(32);
  r.read(d, 0, 10);
  t.equal(put(r, 32, 32 + 8, 5), 0);
  t.same(ranges(r), [[8, 10]], 'ooo clipped at the end of the window');
  t.equal(put(r, 32, 32 + 10, 2), 0, 'beyond the window: nothing');
  t.equal(put(r, 32, 32 + 12, 2), 0);
  t.same(ranges(r), [[8, 10]]);
  t.equal(put(r, 32, 32, 20), 10, 'fills up to capacity including the ooo bytes');
  t.equal(r.readable, 32);
  t.equal(r.read(d, 0, 32), 32);
  t.same([...d], [...STREAM.subarray(10, 42)]);
});

t.test('range table full returns -1; merging inserts still succeed', async (t) => {
  const r = make(256);
  for (let i = 0; i < RECV_MAX_OOO_RANGES; i++) t.equal(put(r, 0, 2 + 4 * i, 1), 0);
  t.equal(r.oooCount, RECV_MAX_OOO_RANGES);
  t.equal(put(r, 0, 200, 1), -1, 'a new separate range does not fit');
  t.equal(put(r, 0, 2 + 4 * 5 + 2, 1), -1, 'a gap not touching any range');
  t.equal(r.oooCount, RECV_MAX_OOO_RANGES);
  t.equal(put(r, 0, 3, 1), 0, 'adjacent to an existing range');
  t.equal(r.oooCount, RECV_MAX_OOO_RANGES);
  t.equal(put(r, 0, 4, 2), 0, 'bridging two ranges');
  t.equal(r.oooCount, RECV_MAX_OOO_RANGES - 1);
  t.same(ranges(r).slice(0, 2), [[2, 7], [10, 11]]);
  t.equal(put(r, 0, 200, 1), 0, 'room again');
  t.equal(r.oooCount, RECV_MAX_OOO_RANGES);
  t.equal(put(r, 0, 0, 2), 2 + 5, 'in-order fill merges the first range');
  t.same(ranges(r)[0], [3, 4]);
  t.same(readAll(r), [...STREAM.subarray(0, 7)]);
  r.b.release(0);
  t.equal(r.oooCount, 0, 'release forgets the ranges');
  t.equal(r.oooBytes, 0);
  t.equal(r.b.ooo.listsInUse, 0, 'and gives the range list back');
});

/**
 * How a segment [rel, rel+len) meets the held out-of-order runs (relative to
 * the in-order end): the case names of the overlap taxonomy.
 */
function classify(runs: [number, number][], rel: number, len: number): string {
  if (len <= 0) return 'beyond the window';
  const a = rel;
  const b = rel + len;
  const touching = runs.filter(([s, e]) => s <= b && e >= a);
  if (rel === 0) return touching.length > 0 ? 'in order, reaching held data' : 'in order';
  if (touching.length === 0) return runs.length === RECV_MAX_OOO_RANGES ? 'new range, table full' : 'new range';
  if (touching.length > 1) return 'bridging several ranges';
  const [s, e] = touching[0];
  if (s === a && e === b) return 'exact duplicate';
  if (s <= a && b <= e) return 'contained (partial duplicate)';
  if (a < s && b > e) return 'containing (overlap both sides)';
  if (e === a || s === b) return 'adjacent';
  return a < s ? 'overlap on the left' : 'overlap on the right';
}

const allCases = new Map<string, number>();
let totalOps = 0;

t.test('randomized model: random segments, random order, duplicates, random reads', async (t) => {
  for (const [seed, cap, maxSeg] of [[1, 97, 20], [2, 512, 60], [3, 200, 3], [4, 4096, 1500]]) {
    const rng = new Prng(seed);
    const r = make(cap);
    const total = 60_000;
    const held = new Uint8Array(total + cap + 10);
    let consumed = 0; // bytes read by the application
    let end = 0; // model's in-order end (absolute)
    const got = new Uint8Array(total);
    let bad = 0;
    let fulls = 0;
    let ops = 0;
    const cases = new Map<string, number>();
    const fail = (msg: string): void => {
      if (bad++ < 3) t.fail(`seed ${seed}: ${msg}`);
    };
    const modelRuns = (): [number, number][] => {
      const out: [number, number][] = [];
      for (let k = end; k < end + cap && k < held.length; k++) {
        if (!held[k]) continue;
        const s = k;
        while (k < held.length && held[k]) k++;
        out.push([s - end, k - end]);
      }
      return out;
    };
    for (let iter = 0; consumed < total && iter < 2_000_000; iter++) {
      ops++;
      if (rng.int(4) === 0) {
        const want = rng.int(cap + 1);
        const peek = rng.int(5) === 0;
        const n = peek ? r.peek(got, consumed, want) : r.read(got, consumed, want);
        const exp = Math.min(want, end - consumed, total - consumed);
        if (n !== Math.min(want, end - consumed)) fail(`read ${n} expected ${exp}`);
        if (!peek) consumed += n;
        continue;
      }
      const free = cap - (end - consumed);
      let abs = end - 5 + rng.int(Math.max(1, free + 10));
      let len = 1 + rng.int(maxSeg);
      if (abs + len > total) len = total - abs;
      if (abs < end) { len -= end - abs; abs = end; } // the TCP layer trims already-received bytes
      if (len <= 0) continue;
      const rel = abs - end;
      const clipped = Math.min(len, free - rel);
      // Would it need a new range while the table is full?
      let touches = false;
      for (let k = Math.max(end, abs - 1); k <= abs + clipped && k < held.length; k++) if (held[k]) touches = true;
      const runs = modelRuns();
      const kind = classify(runs, rel, clipped);
      cases.set(kind, (cases.get(kind) ?? 0) + 1);
      const expectFull = rel > 0 && clipped > 0 && !touches && runs.length === RECV_MAX_OOO_RANGES;
      const ret = r.insert(rel, STREAM, abs, len);
      if (expectFull) {
        fulls++;
        if (ret !== -1) fail(`expected -1, got ${ret}`);
        continue;
      }
      for (let k = abs; k < abs + clipped; k++) held[k] = 1;
      const before = end;
      while (held[end]) end++;
      const growth = end - before;
      if (ret !== (rel === 0 ? growth : 0)) fail(`insert(${rel}, ${len}) returned ${ret}, expected ${rel === 0 ? growth : 0}`);
      if (rel > 0 && growth !== 0) fail('ooo insert grew in-order data');
      if (r.readable !== end - consumed) fail(`readable ${r.readable} expected ${end - consumed}`);
      const mr = modelRuns();
      const rr = ranges(r);
      if (JSON.stringify(mr) !== JSON.stringify(rr)) fail(`ranges ${JSON.stringify(rr)} expected ${JSON.stringify(mr)}`);
    }
    t.equal(consumed, total, `seed ${seed}: whole stream read`);
    t.equal(bad, 0, `seed ${seed}: no mismatches`);
    t.ok(Buffer.compare(got, STREAM.subarray(0, total)) === 0, `seed ${seed}: read bytes equal the stream`);
    if (cap === 200) t.ok(fulls > 0, `seed ${seed}: table-full path exercised (${fulls})`);
    t.ok(ops > 10_000 && total > 10 * cap, `seed ${seed}: ${ops} operations, ${Math.floor(total / cap)} trips around the ring`);
    for (const [k, v] of cases) allCases.set(k, (allCases.get(k) ?? 0) + v);
    totalOps += ops;
  }
});

t.test('the randomized model met every overlap case, over 100,000 operations', async (t) => {
  t.ok(totalOps > 100_000, `${totalOps} operations`);
  for (const k of [
    'in order', 'in order, reaching held data', 'new range', 'new range, table full', 'bridging several ranges',
    'exact duplicate', 'contained (partial duplicate)', 'containing (overlap both sides)', 'adjacent',
    'overlap on the left', 'overlap on the right',
  ]) {
    t.ok((allCases.get(k) ?? 0) >= 50, `${k}: ${allCases.get(k) ?? 0}`);
  }
});
