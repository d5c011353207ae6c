/** FlowTable: 4-tuple open addressing, linear probing, backward-shift deletion. */
import t from 'tap';
import { FlowTable } from '../../src/stack/flow-table.ts';
import { expectedHitSum, lookupHits, lookupMisses, randomFlowSet } from '../../bench/lib/flow-set.ts';
import { Prng } from '../helpers/prng.ts';

t.test('insert, lookup, remove; duplicate insert is false', async (t) => {
  const f = new FlowTable(8);
  t.equal(f.size, 0);
  t.equal(f.lookup(0xc6120001, 80, 0xc6120002, 40000), -1);
  t.ok(f.insert(0xc6120001, 80, 0xc6120002, 40000, 5));
  t.equal(f.size, 1);
  t.equal(f.lookup(0xc6120001, 80, 0xc6120002, 40000), 5, 'uint32 address form');
  t.equal(f.lookup(0xc6120001 | 0, 80, 0xc6120002 | 0, 40000), 5, 'int32 address form');
  t.equal(f.lookup(0xc6120001, 80, 0xc6120002, 40001), -1, 'other remote port');
  t.equal(f.lookup(0xc6120001, 81, 0xc6120002, 40000), -1, 'other local port');
  t.equal(f.lookup(0xc6120002, 80, 0xc6120001, 40000), -1, 'addresses swapped');
  t.equal(f.lookup(0xc6120001, 40000, 0xc6120002, 80), -1, 'ports swapped');
  t.notOk(f.insert(0xc6120001, 80, 0xc6120002, 40000, 6), 'duplicate');
  t.equal(f.lookup(0xc6120001, 80, 0xc6120002, 40000), 5, 'value unchanged by the duplicate');
  t.equal(f.size, 1);
  t.ok(f.insert(0, 0, 0, 0, 0), 'all-zero key and value 0');
  t.ok(f.insert(0xffffffff, 65535, 0xffffffff, 65535, 7), 'all-ones key');
  t.equal(f.lookup(0, 0, 0, 0), 0);
  t.equal(f.lookup(0xffffffff, 65535, 0xffffffff, 65535), 7);
  t.ok(f.remove(0xc6120001, 80, 0xc6120002, 40000));
  t.notOk(f.remove(0xc6120001, 80, 0xc6120002, 40000), 'already removed');
  t.equal(f.lookup(0xc6120001, 80, 0xc6120002, 40000), -1);
  t.equal(f.size, 2);
});

t.test('full table: insert false; after a removal there is room again', async (t) => {
  const f = new FlowTable(4);
  for (let i = 0; i < 4; i++) t.ok(f.insert(1, 1000 + i, 2, 80, i));
  t.notOk(f.insert(1, 2000, 2, 80, 9), 'full');
  t.equal(f.size, 4);
  t.equal(f.lookup(1, 2000, 2, 80), -1);
  t.ok(f.remove(1, 1001, 2, 80));
  t.ok(f.insert(1, 2000, 2, 80, 9));
  for (const [p, v] of [[1000, 0], [1002, 2], [1003, 3], [2000, 9]]) t.equal(f.lookup(1, p, 2, 80), v);
});

t.test('hash depends on the seed; both seeds work', async (t) => {
  for (const seed of [0, 1, 0xdeadbeef]) {
    const f = new FlowTable(16, seed);
    for (let i = 0; i < 16; i++) t.ok(f.insert(10 + i, 80, 20, 5000 + i, i));
    let ok = true;
    for (let i = 0; i < 16; i++) if (f.lookup(10 + i, 80, 20, 5000 + i) !== i) ok = false;
    t.ok(ok, `seed ${seed}: all found`);
  }
});

t.test('randomized vs a Map: 100,000 ops, small table, long runs and wraparound', async (t) => {
  for (const [seed, cap, keySpace] of [[1, 5, 12], [2, 8, 20], [3, 31, 60], [4, 64, 200]]) {
    const rng = new Prng(seed);
    const f = new FlowTable(cap, seed * 0x1234567);
    const ref = new Map<number, number>();
    // A small key space of 4-tuples so inserts, duplicates and removes all hit.
    const keys = Array.from({ length: keySpace }, () => [
      (rng.int(2) ? 0xc0a80000 : 0x0a000000) + rng.int(4), rng.int(3) === 0 ? 80 : 1024 + rng.int(64000),
      (rng.int(2) ? 0xc6120000 : 0xfe000000) + rng.int(4), rng.int(65536),
    ]);
    let bad = 0;
    let fullHits = 0;
    const fail = (msg: string): void => {
      if (bad++ < 3) t.fail(`seed ${seed}: ${msg}`);
    };
    for (let i = 0; i < 100_000; i++) {
      const k = rng.int(keySpace);
      const [a, b, c, d] = keys[k];
      const op = rng.int(3);
      if (op === 0) {
        const v = rng.int(1 << 30);
        const expect = !ref.has(k) && ref.size < cap;
        if (!ref.has(k) && ref.size >= cap) fullHits++;
        const r = f.insert(a, b, c, d, v);
        if (r !== expect) fail(`op ${i}: insert ${r} expected ${expect}`);
        if (expect) ref.set(k, v);
      } else if (op === 1) {
        const r = f.remove(a, b, c, d);
        if (r !== ref.has(k)) fail(`op ${i}: remove ${r} expected ${ref.has(k)}`);
        ref.delete(k);
        // After every removal, every other key must still be findable.
        for (let j = 0; j < keySpace; j++) {
          const [a2, b2, c2, d2] = keys[j];
          if (f.lookup(a2, b2, c2, d2) !== (ref.get(j) ?? -1)) fail(`op ${i}: key ${j} lost after removing ${k}`);
        }
      } else {
        const got = f.lookup(a, b, c, d);
        if (got !== (ref.get(k) ?? -1)) fail(`op ${i}: lookup ${got} expected ${ref.get(k) ?? -1}`);
      }
      if (f.size !== ref.size) fail(`op ${i}: size ${f.size} expected ${ref.size}`);
    }
    t.equal(bad, 0, `seed ${seed} cap ${cap}: no mismatches`);
    t.ok(fullHits > 0, `seed ${seed}: full table exercised (${fullHits})`);
  }
});

/** A copy of the table's hash, used only to pick keys that collide near the end of the bucket array. */
function homeOf(seed: number, mask: number, lip: number, lport: number, rip: number, rport: number): number {
  const ports = (lport << 16) | rport;
  let h = (seed | 0) ^ Math.imul(lip | 0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ Math.imul(rip | 0, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0x297a2d39) ^ ports;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h ^= h >>> 13;
  return h & mask;
}

t.test('clustered keys homed at the end of the array: runs wrap around (100,000 ops)', async (t) => {
  const seed = 0x5eed;
  const cap = 8;
  const mask = 15; // 16 buckets for capacity 8
  const keys: number[][] = [];
  for (let p = 1; keys.length < 14; p++) {
    const h = homeOf(seed, mask, 0x0a000001, 80, 0x0a000002, p);
    if (h >= 14 || h === 0) keys.push([0x0a000001, 80, 0x0a000002, p]);
  }
  const rng = new Prng(99);
  const f = new FlowTable(cap, seed);
  const ref = new Map<number, number>();
  let bad = 0;
  for (let i = 0; i < 100_000; i++) {
    const k = rng.int(keys.length);
    const [a, b, c, d] = keys[k];
    if (rng.int(2) === 0) {
      const expect = !ref.has(k) && ref.size < cap;
      if (f.insert(a, b, c, d, k + 100) !== expect) bad++;
      if (expect) ref.set(k, k + 100);
    } else {
      if (f.remove(a, b, c, d) !== ref.has(k)) bad++;
      ref.delete(k);
    }
    for (let j = 0; j < keys.length; j++) {
      const [a2, b2, c2, d2] = keys[j];
      if (f.lookup(a2, b2, c2, d2) !== (ref.get(j) ?? -1)) bad++;
    }
    if (f.size !== ref.size) bad++;
  }
  t.equal(bad, 0, 'every key findable after every operation');
});

// The correctness half of the former throughput test (its timing is now bench/data-structures.ts).
t.test('10,000 flows in a table for 16,384: every lookup finds its flow, another local port finds none', async (t) => {
  const set = randomFlowSet(new Prng(2));
  const count = 5_000_000;
  t.equal(lookupHits(set, count), expectedHitSum(set, count), 'every lookup found its flow');
  t.equal(lookupMisses(set, 2_000_000), 2_000_000);
});
