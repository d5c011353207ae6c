/** BufferPool: fixed slots from one arena; exhaustion, reuse, misuse, 2 GiB guard. */
import t from 'tap';
import { BufferPool } from '../../src/stack/buffer-pool.ts';

t.test('alloc until exhausted, then -1; slots distinct and in range', async (t) => {
  const p = new BufferPool(5, 16);
  t.equal(p.bytes.length, 80);
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
  t.throws(() => new BufferPool(2 ** 16, 2 ** 15), RangeError, 'exactly 2 GiB is over the limit');
  t.throws(() => new BufferPool(2 ** 20, 2 ** 20), /2 GiB/);
});
