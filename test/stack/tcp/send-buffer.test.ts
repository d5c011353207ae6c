/**
 * SendBuffers: a ring per connection over a pool slot, taken on the first write and given back once
 * everything is acknowledged; write/consume/copyOut with wraparound.
 */
import t from 'tap';
import { BufferClasses, BufferMemory } from '../../../src/stack/buffer-classes.ts';
import { Stats } from '../../../src/stack/stats.ts';
import { SendBuffers } from '../../../src/stack/tcp/send-buffer.ts';
import { Prng } from '../../helpers/prng.ts';

/** `count` rings of `size` bytes that never grow. */
function fixedPool(count: number, size: number): BufferClasses {
  return new BufferClasses(count, size, size, new BufferMemory(0, new Stats()));
}

t.test('a ring is taken on the first write and given back once everything is acknowledged', async (t) => {
  const pool = fixedPool(2, 16);
  const b = new SendBuffers(3, pool);
  t.notOk(b.holdsRing(0), 'an idle connection holds no ring');
  t.equal(b.capacity(0), 16);
  t.equal(b.free(0), 16);
  t.ok(b.canTakeRing(0));
  t.equal(b.write(0, new Uint8Array([1]), 0, 0), 0, 'an empty write takes nothing');
  t.equal(pool.inUse, 0);
  t.equal(b.write(0, new Uint8Array([1, 2]), 0, 2), 2);
  t.equal(pool.inUse, 1);
  t.equal(b.write(1, new Uint8Array([3]), 0, 1), 1);
  t.equal(pool.inUse, 2);
  t.notOk(b.canTakeRing(2), 'pool exhausted');
  t.equal(b.write(2, new Uint8Array([4]), 0, 1), -1, 'no ring for a third connection');
  t.ok(b.canTakeRing(0), 'one that holds a ring can still write');
  b.consume(0, 1);
  t.ok(b.holdsRing(0), 'kept while bytes are unacknowledged');
  b.consume(0, 1);
  t.notOk(b.holdsRing(0), 'drained: given back');
  t.equal(pool.inUse, 1);
  t.equal(b.write(2, new Uint8Array([4]), 0, 1), 1, 'the third connection gets it now');
  b.release(1);
  b.release(1);
  t.equal(pool.inUse, 1, 'release is idempotent');
  t.equal(b.length(1), 0);
});

t.test('write, consume, copyOut with wraparound; neighbours untouched', async (t) => {
  const pool = fixedPool(3, 8);
  const b = new SendBuffers(3, pool);
  const FILL = 0;
  const S = 1;
  const GUARD = 2;
  b.write(FILL, new Uint8Array(8).fill(0xee), 0, 8); // fill a neighbouring slot to detect overruns
  b.write(GUARD, new Uint8Array(8).fill(0xdd), 0, 8);
  t.equal(b.write(S, Uint8Array.from([1, 2, 3, 4, 5, 6]), 0, 6), 6);
  t.equal(b.length(S), 6);
  t.equal(b.free(S), 2);
  b.consume(S, 5);
  t.equal(b.length(S), 1);
  t.equal(b.write(S, Uint8Array.from([0, 7, 8, 9, 10, 11, 12, 13, 14]), 1, 8), 7, 'only free bytes fit');
  t.equal(b.length(S), 8);
  t.equal(b.free(S), 0);
  t.equal(b.write(S, Uint8Array.from([1]), 0, 1), 0, 'full');
  const out = new Uint8Array(10);
  b.copyOut(S, 0, out, 1, 8);
  t.same([...out], [0, 6, 7, 8, 9, 10, 11, 12, 13, 0]);
  b.copyOut(S, 3, out, 0, 4);
  t.same([...out.subarray(0, 4)], [9, 10, 11, 12]);
  b.consume(S, 100);
  t.equal(b.length(S), 0, 'consume clamps');
  b.consume(S, 0);
  b.consume(S, -3);
  t.equal(b.length(S), 0);
  const g = new Uint8Array(8);
  b.copyOut(FILL, 0, g, 0, 8);
  t.same([...g], [0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
  b.copyOut(GUARD, 0, g, 0, 8);
  t.same([...g], [0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd]);
});

t.test('randomized model vs a plain array (50,000 ops)', async (t) => {
  for (const size of [7, 64, 300]) {
    const rng = new Prng(size);
    const pool = fixedPool(3, size);
    const b = new SendBuffers(2, pool);
    const NEIGHBOUR = 0;
    const S = 1;
    b.write(NEIGHBOUR, new Uint8Array(size).fill(0x5a), 0, size);
    const model: number[] = [];
    let next = 0;
    let bad = 0;
    const src = new Uint8Array(2 * size + 300);
    const dst = new Uint8Array(2 * size + 300);
    for (let i = 0; i < 50_000; i++) {
      const op = rng.int(3);
      if (op === 0) {
        const len = rng.int(size + 2);
        const off = rng.int(50);
        for (let k = 0; k < len; k++) src[off + k] = (next + k) & 0xff;
        const n = b.write(S, src, off, len);
        const expect = Math.min(len, size - model.length);
        if (n !== expect) bad++;
        for (let k = 0; k < n; k++) model.push((next + k) & 0xff);
        next += n;
      } else if (op === 1) {
        const n = rng.int(size + 2);
        b.consume(S, n);
        model.splice(0, n);
      } else if (model.length > 0) {
        const offset = rng.int(model.length);
        const len = rng.int(model.length - offset + 1);
        const dOff = rng.int(100);
        dst.fill(0);
        b.copyOut(S, offset, dst, dOff, len);
        for (let k = 0; k < len; k++) if (dst[dOff + k] !== model[offset + k]) { bad++; break; }
      }
      if (b.length(S) !== model.length || b.free(S) !== size - model.length) bad++;
      if (b.holdsRing(S) !== model.length > 0) bad++;
    }
    const g = new Uint8Array(size);
    b.copyOut(NEIGHBOUR, 0, g, 0, size);
    t.ok(g.every((x) => x === 0x5a), `size ${size}: neighbour slot untouched`);
    t.equal(bad, 0, `size ${size}: no mismatches`);
  }
});
