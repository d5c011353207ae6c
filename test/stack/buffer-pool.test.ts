/** BufferPool: fixed slots from arenas made on first use; exhaustion, reuse, misuse, size guards. */
import t from 'tap';
import { BufferPool } from '../../src/stack/buffer-pool.ts';
import { Prng } from '../helpers/prng.ts';

t.test('alloc until exhausted, then -1; slots distinct and in range', async (t) => {
  const p = new BufferPool(5, 16);
  t.equal(p.arenas.length, 0, 'no arena until a slot is taken');
  const got = new Set<number>();
  for (let i = 0; i < 5; i++) {
    const s = p.alloc();
    t.ok(s >= 0 && s < 5, `slot ${s} in range`);
    got.add(s);
  }
  t.equal(got.size, 5, 'all distinct');
  t.equal(p.alloc(), -1);
  t.equal(p.alloc(), -1, 'still exhausted');
  t.equal(p.inUse, 5);
  t.same(p.arenas.map((a) => a.length), [80], 'one arena of 5 x 16 bytes');
});

t.test('free then alloc reuses the freed slot; inUse and highWater', async (t) => {
  const p = new BufferPool(4, 8);
  t.equal(p.inUse, 0);
  t.equal(p.highWater, 0);
  const a = p.alloc();
  const b = p.alloc();
  const c = p.alloc();
  t.equal(p.inUse, 3);
  t.equal(p.highWater, 3);
  p.free(b);
  t.equal(p.inUse, 2);
  t.equal(p.highWater, 3, 'highWater does not drop');
  t.equal(p.alloc(), b, 'freed slot reused');
  p.free(a);
  p.free(c);
  p.free(b);
  t.equal(p.inUse, 0);
  t.equal(p.highWater, 3);
  for (let i = 0; i < 4; i++) p.alloc();
  t.equal(p.highWater, 4);
  t.equal(p.alloc(), -1);
});

t.test('double free and bad slot indexes throw', async (t) => {
  const p = new BufferPool(3, 8);
  const s = p.alloc();
  p.free(s);
  t.throws(() => p.free(s), /twice/);
  t.throws(() => p.free(1), /twice/, 'never allocated');
  t.throws(() => p.free(-1), /bad slot/);
  t.throws(() => p.free(3), /bad slot/);
  t.throws(() => p.free(0.5), /bad slot/);
  t.throws(() => p.free(NaN), /bad slot/);
  t.equal(p.inUse, 0, 'failed frees change nothing');
  t.equal(p.alloc() >= 0, true);
});

t.test('constructor guards', async (t) => {
  t.throws(() => new BufferPool(0, 8), RangeError);
  t.throws(() => new BufferPool(4, 0), RangeError);
  t.throws(() => new BufferPool(1.5, 8), RangeError);
  t.throws(() => new BufferPool(4, 2.5), RangeError);
  t.throws(() => new BufferPool(4, 2 ** 31), /arena/, 'a slot larger than an arena');
});

t.test('a pool larger than one arena: arenas made as slots are first taken, each at most 1 GiB', async (t) => {
  const p = new BufferPool(2 ** 20, 2 ** 15); // 32 GiB in all
  t.equal(p.arenas.length, 0, 'nothing allocated up front');
  t.equal(p.slotsPerArena, 2 ** 15);
  const first = p.alloc();
  t.equal(p.arenas.length, 1);
  t.equal(p.arenas[0].length, 2 ** 30);
  t.equal(p.arenaOf(first), p.arenas[0]);
  t.equal(p.baseOf(first), 0);
  for (let i = 1; i < 2 ** 15; i++) p.alloc();
  t.equal(p.arenas.length, 1, 'a full arena');
  const next = p.alloc();
  t.equal(p.arenas.length, 2, 'the next slot opens a second arena');
  t.equal(p.arenaOf(next), p.arenas[1]);
  t.equal(p.baseOf(next), 0);
  p.free(next);
  t.equal(p.alloc(), next, 'freed slots are reused before new ones');
});

t.test('randomized model vs a set of held slots (120,000 ops, with misuse)', async (t) => {
  for (const [seed, count, size] of [[1, 1, 4], [2, 7, 16], [3, 64, 3]]) {
    const rng = new Prng(seed);
    const p = new BufferPool(count, size);
    const held = new Set<number>();
    let high = 0;
    let bad = 0;
    let exhausted = 0;
    let misuse = 0;
    const fail = (m: string): void => {
      if (bad++ < 3) t.fail(`seed ${seed}: ${m}`);
    };
    for (let i = 0; i < 40_000; i++) {
      const op = rng.int(10);
      if (op < 5) {
        const s = p.alloc();
        if (held.size === count) {
          exhausted++;
          if (s !== -1) fail(`op ${i}: alloc ${s} from an exhausted pool`);
        } else if (s < 0 || s >= count || held.has(s)) {
          fail(`op ${i}: alloc returned ${s} (held: ${[...held]})`);
        } else {
          held.add(s);
          // The slot is the caller's: write a marker over all of it.
          p.arenaOf(s).fill(s & 0xff, p.baseOf(s), p.baseOf(s) + size);
        }
      } else if (op < 9) {
        if (held.size === 0) continue;
        const s = [...held][rng.int(held.size)];
        for (let k = 0; k < size; k++) if (p.arenaOf(s)[p.baseOf(s) + k] !== (s & 0xff)) fail(`op ${i}: slot ${s} overwritten`);
        p.free(s);
        held.delete(s);
      } else {
        // Misuse throws and changes nothing.
        const s = rng.int(count + 2) - 1;
        if (held.has(s)) continue;
        misuse++;
        let threw = false;
        try {
          p.free(s);
        } catch {
          threw = true;
        }
        if (!threw) fail(`op ${i}: free(${s}) of a slot not held did not throw`);
      }
      if (held.size > high) high = held.size;
      if (p.inUse !== held.size || p.highWater !== high) fail(`op ${i}: inUse ${p.inUse}/${held.size} highWater ${p.highWater}/${high}`);
    }
    t.equal(bad, 0, `seed ${seed} count ${count}: no mismatches`);
    t.ok(exhausted > 100 && misuse > 200, `exhaustion (${exhausted}) and misuse (${misuse}) exercised`);
  }
});
