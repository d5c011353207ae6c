/** SendBuffer: a ring over one pool slot; write/consume/copyOut with wraparound. */
import t from 'tap';
import { BufferPool } from '../../../src/stack/buffer-pool.ts';
import { SendBuffer } from '../../../src/stack/tcp/send-buffer.ts';
import { Prng } from '../../helpers/prng.ts';

t.test('attach/detach', async (t) => {
  const pool = new BufferPool(2, 16);
  const a = new SendBuffer();
  t.notOk(a.attached);
  t.equal(a.capacity, 0);
  t.equal(a.write(new Uint8Array([1]), 0, 1), 0, 'unattached: nothing fits');
  t.ok(a.attach(pool));
  t.ok(a.attach(pool), 'second attach is a no-op');
  t.equal(pool.inUse, 1);
  t.equal(a.capacity, 16);
  const b = new SendBuffer();
  t.ok(b.attach(pool));
  t.notOk(new SendBuffer().attach(pool), 'pool exhausted');
  a.detach();
  a.detach();
  t.equal(pool.inUse, 1);
  t.notOk(a.attached);
});

t.test('write, consume, copyOut with wraparound; neighbours untouched', async (t) => {
  const pool = new BufferPool(3, 8);
  const fill = new SendBuffer();
  fill.attach(pool); // slot 0 or whichever: fill it to detect overruns
  fill.write(new Uint8Array(8).fill(0xee), 0, 8);
  const s = new SendBuffer();
  s.attach(pool);
  const guard = new SendBuffer();
  guard.attach(pool);
  guard.write(new Uint8Array(8).fill(0xdd), 0, 8);
  t.equal(s.write(Uint8Array.from([1, 2, 3, 4, 5, 6]), 0, 6), 6);
  t.equal(s.length, 6);
  t.equal(s.free, 2);
  s.consume(5);
  t.equal(s.length, 1);
  t.equal(s.write(Uint8Array.from([0, 7, 8, 9, 10, 11, 12, 13, 14]), 1, 8), 7, 'only free bytes fit');
  t.equal(s.length, 8);
  t.equal(s.free, 0);
  t.equal(s.write(Uint8Array.from([1]), 0, 1), 0, 'full');
  const out = new Uint8Array(10);
  s.copyOut(0, out, 1, 8);
  t.same([...out], [0, 6, 7, 8, 9, 10, 11, 12, 13, 0]);
  s.copyOut(3, out, 0, 4);
  t.same([...out.subarray(0, 4)], [9, 10, 11, 12]);
  s.consume(100);
  t.equal(s.length, 0, 'consume clamps');
  s.consume(0);
  s.consume(-3);
  t.equal(s.length, 0);
  const g = new Uint8Array(8);
  fill.copyOut(0, g, 0, 8);
  t.same([...g], [0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
  guard.copyOut(0, g, 0, 8);
  t.same([...g], [0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd]);
});

t.test('randomized model vs a plain array (50,000 ops)', async (t) => {
  for (const size of [7, 64, 300]) {
    const rng = new Prng(size);
    const pool = new BufferPool(3, size);
    const neighbour = new SendBuffer();
    neighbour.attach(pool);
    neighbour.write(new Uint8Array(size).fill(0x5a), 0, size);
    const s = new SendBuffer();
    s.attach(pool);
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
        const n = s.write(src, off, len);
        const expect = Math.min(len, size - model.length);
        if (n !== expect) bad++;
        for (let k = 0; k < n; k++) model.push((next + k) & 0xff);
        next += n;
      } else if (op === 1) {
        const n = rng.int(size + 2);
        s.consume(n);
        model.splice(0, n);
      } else if (model.length > 0) {
        const offset = rng.int(model.length);
        const len = rng.int(model.length - offset + 1);
        const dOff = rng.int(100);
        dst.fill(0);
        s.copyOut(offset, dst, dOff, len);
        for (let k = 0; k < len; k++) if (dst[dOff + k] !== model[offset + k]) { bad++; break; }
      }
      if (s.length !== model.length || s.free !== size - model.length) bad++;
    }
    const g = new Uint8Array(size);
    neighbour.copyOut(0, g, 0, size);
    t.ok(g.every((b) => b === 0x5a), `size ${size}: neighbour slot untouched`);
    t.equal(bad, 0, `size ${size}: no mismatches`);
  }
});
