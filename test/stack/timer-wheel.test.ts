/** TimerWheel: O(1) hashed wheel with overdue list; deadlines fire at the right time, never early. */
import t from 'tap';
import { TimerWheel } from '../../src/stack/timer-wheel.ts';
import { Prng } from '../helpers/prng.ts';

function collect(w: TimerWheel, now: number): number[] {
  const out: number[] = [];
  const n = w.advance(now, (id) => out.push(id));
  if (n !== out.length) throw new Error(`advance returned ${n}, fired ${out.length}`);
  return out.sort((a, b) => a - b);
}

t.test('constructor rejects a non-power-of-two slot count', async (t) => {
  t.throws(() => new TimerWheel(4, 1, 6), RangeError);
  t.throws(() => new TimerWheel(4, 1, 0), RangeError);
  t.doesNotThrow(() => new TimerWheel(4, 1, 1));
});

t.test('schedule, cancel, isScheduled, deadlineOf, size', async (t) => {
  const w = new TimerWheel(8, 10, 16);
  t.equal(w.size, 0);
  t.equal(w.nextDeadline(), Infinity);
  t.notOk(w.isScheduled(3));
  t.equal(w.deadlineOf(3), -1);
  w.schedule(3, 125);
  t.ok(w.isScheduled(3));
  t.equal(w.deadlineOf(3), 125);
  t.equal(w.size, 1);
  w.schedule(3, 47.5); // re-schedule replaces, size unchanged
  t.equal(w.deadlineOf(3), 47.5);
  t.equal(w.size, 1);
  w.schedule(5, 300);
  t.equal(w.size, 2);
  w.cancel(3);
  t.notOk(w.isScheduled(3));
  t.equal(w.deadlineOf(3), -1);
  t.equal(w.size, 1);
  w.cancel(3); // cancelling an unarmed id is a no-op
  t.equal(w.size, 1);
  t.same(collect(w, 299), []);
  t.same(collect(w, 300), [5]);
  t.equal(w.size, 0);
  t.notOk(w.isScheduled(5));
  t.equal(w.deadlineOf(5), -1);
});

t.test('advance fires due entries only', async (t) => {
  const w = new TimerWheel(16, 1, 8);
  const base = 1e6;
  t.same(collect(w, base), []);
  w.schedule(0, base + 1);
  w.schedule(1, base + 2.5);
  w.schedule(2, base + 2.6);
  w.schedule(3, base + 5);
  t.same(collect(w, base + 0.9), []);
  t.same(collect(w, base + 1), [0], 'deadline == now fires');
  t.same(collect(w, base + 2.55), [1]);
  t.same(collect(w, base + 2.6), [2]);
  t.same(collect(w, base + 4.99), []);
  t.same(collect(w, base + 100), [3]);
  t.equal(w.size, 0);
});

t.test('deadlines beyond one turn fire at their time, not a turn early', async (t) => {
  for (const start of [0, 1e6, 1e6 + 0.37]) {
    const w = new TimerWheel(16, 10, 8); // one turn = 80 ms
    collect(w, start);
    w.schedule(0, start + 85); // same slot as start + 5 one turn later
    w.schedule(1, start + 800.5); // ten turns out
    w.schedule(2, start + 1000 * 80 + 3);
    const fired = new Map<number, number>();
    for (let now = start; now <= start + 1000 * 80 + 20; now += 1.25) {
      w.advance(now, (id) => fired.set(id, now));
    }
    t.ok(fired.get(0)! >= start + 85 && fired.get(0)! < start + 85 + 1.25, `start ${start}: id 0 at ${fired.get(0)}`);
    t.ok(fired.get(1)! >= start + 800.5 && fired.get(1)! < start + 800.5 + 1.25, `start ${start}: id 1 at ${fired.get(1)}`);
    t.ok(fired.get(2)! >= start + 80003 && fired.get(2)! < start + 80003 + 1.25, `start ${start}: id 2 at ${fired.get(2)}`);
  }
  // A single big jump fires far entries that are due and keeps the others.
  const w = new TimerWheel(16, 1, 4);
  collect(w, 1e6);
  w.schedule(0, 1e6 + 10);
  w.schedule(1, 1e6 + 14);
  w.schedule(2, 1e6 + 18);
  t.same(collect(w, 1e6 + 14), [0, 1]);
  t.same(collect(w, 1e6 + 17.9), []);
  t.same(collect(w, 1e6 + 1000), [2]);
});

t.test('overdue deadlines (scheduled in the past) fire on the next advance', async (t) => {
  const w = new TimerWheel(16, 1, 8);
  collect(w, 1e6);
  collect(w, 1e6 + 20);
  w.schedule(0, 1e6 + 3); // a tick already processed, other slot
  w.schedule(1, 1e6 + 20 - 8); // same slot as the current tick, one turn back
  w.schedule(2, 5); // far in the past
  w.schedule(3, 1e6 + 20); // now
  t.ok(w.nextDeadline() <= 5, 'nextDeadline sees the overdue entry');
  t.same(collect(w, 1e6 + 20), [0, 1, 2, 3]);
  t.equal(w.size, 0);
});

t.test('deadlines scheduled before the first advance fire when due (time starting at 1e6)', async (t) => {
  const w = new TimerWheel(16, 1, 8);
  w.schedule(0, 1e6 - 5); // already in the past when the clock first shows 1e6
  w.schedule(1, 1e6 - 0.5);
  w.schedule(2, 1e6 + 3);
  t.ok(w.nextDeadline() <= 1e6 - 5, `nextDeadline ${w.nextDeadline()} <= earliest`);
  t.same(collect(w, 1e6), [0, 1], 'overdue entries fire on the first advance');
  t.same(collect(w, 1e6 + 3), [2]);
  // A future deadline scheduled before the first advance, which then comes late.
  const v = new TimerWheel(4, 1, 4096); // the engine's geometry
  v.schedule(0, 1e6 + 3);
  t.same(collect(v, 1e6 + 10), [0], 'fires on the first advance past its deadline');
  t.equal(v.size, 0);
});

t.test('a deadline later within the current tick fires on a later advance in the same tick', async (t) => {
  const w = new TimerWheel(16, 1, 8);
  collect(w, 1000.2);
  w.schedule(0, 1000.7);
  t.same(collect(w, 1000.5), []);
  t.same(collect(w, 1000.8), [0]);
  // Also with a coarse tick.
  const c = new TimerWheel(16, 10, 8);
  collect(c, 1e6 + 1);
  c.schedule(0, 1e6 + 4);
  c.schedule(1, 1e6 + 9.5);
  t.same(collect(c, 1e6 + 3), []);
  t.same(collect(c, 1e6 + 4), [0]);
  t.same(collect(c, 1e6 + 9.4), []);
  t.same(collect(c, 1e6 + 9.5), [1]);
});

t.test('re-scheduling from inside fire: past, present tick, future', async (t) => {
  const w = new TimerWheel(16, 1, 8);
  collect(w, 1e6);
  w.schedule(0, 1e6 + 2);
  w.schedule(1, 1e6 + 2);
  w.schedule(2, 1e6 + 2);
  w.schedule(3, 1e6 + 2);
  let calls = 0;
  const n = w.advance(1e6 + 2.5, (id) => {
    calls++;
    if (calls > 100) throw new Error('runaway');
    if (id === 0) w.schedule(0, 1e6 + 1); // past
    if (id === 1) w.schedule(1, 1e6 + 2.7); // present tick, later
    if (id === 2) w.schedule(2, 1e6 + 2.5); // present tick, due now
    if (id === 3) w.schedule(3, 1e6 + 30); // future, beyond a turn
  });
  t.equal(n, 4, 'each fired once, no infinite loop');
  t.equal(w.size, 4, 'all four re-armed');
  t.same([0, 1, 2, 3].map((id) => w.deadlineOf(id)), [1e6 + 1, 1e6 + 2.7, 1e6 + 2.5, 1e6 + 30]);
  t.same(collect(w, 1e6 + 2.6), [0, 2]);
  t.same(collect(w, 1e6 + 2.7), [1]);
  t.same(collect(w, 1e6 + 29.99), []);
  t.same(collect(w, 1e6 + 30), [3]);
  t.equal(w.size, 0);

  // A timer that always re-arms itself for "now" fires once per advance.
  const r = new TimerWheel(4, 1, 8);
  collect(r, 500);
  r.schedule(0, 500);
  let count = 0;
  for (let i = 0; i < 5; i++) r.advance(500 + i * 0.1, (id) => { count++; r.schedule(id, 500 + i * 0.1); });
  t.equal(count, 5);
  t.ok(r.isScheduled(0));
});

t.test('cancel of another entry from inside fire', async (t) => {
  const w = new TimerWheel(16, 1, 8);
  collect(w, 0);
  for (let id = 0; id < 6; id++) w.schedule(id, 3);
  w.schedule(6, 3.5); // same slot, not due
  w.schedule(7, 11); // same slot next turn
  const fired: number[] = [];
  let cancelled = -1;
  w.advance(3.2, (id) => {
    fired.push(id);
    if (cancelled < 0) {
      // cancel one that has not fired yet, and the not-due one
      cancelled = [0, 1, 2, 3, 4, 5].find((x) => x !== id && !fired.includes(x))!;
      w.cancel(cancelled);
      w.cancel(6);
    }
  });
  t.equal(fired.length, 5);
  t.notOk(fired.includes(cancelled));
  t.notOk(w.isScheduled(cancelled));
  t.notOk(w.isScheduled(6));
  t.equal(w.size, 1);
  t.same(collect(w, 10.9), []);
  t.same(collect(w, 11), [7]);
});

t.test('nextDeadline is never later than the true earliest deadline', async (t) => {
  const rng = new Prng(7);
  const w = new TimerWheel(64, 4, 16);
  const dl = new Map<number, number>();
  let now = 1e6;
  collect(w, now);
  for (let i = 0; i < 20_000; i++) {
    const op = rng.int(4);
    const id = rng.int(64);
    if (op < 2) {
      const at = now + (rng.next() - 0.2) * 300;
      w.schedule(id, at);
      dl.set(id, at);
    } else if (op === 2) {
      w.cancel(id);
      dl.delete(id);
    } else {
      now += rng.next() * 20;
      w.advance(now, (x) => dl.delete(x));
    }
    let best = Infinity;
    for (const v of dl.values()) if (v < best) best = v;
    const nd = w.nextDeadline();
    if (nd > best) {
      t.fail(`op ${i}: nextDeadline ${nd} > earliest ${best}`);
      return;
    }
  }
  t.pass('nextDeadline <= earliest throughout');
});

t.test('randomized model: 100,000 ops vs a naive list', async (t) => {
  for (const [seed, tickMs, slots] of [[1, 1, 64], [2, 0.5, 8], [3, 10, 4]]) {
    const rng = new Prng(seed);
    const cap = 128;
    const w = new TimerWheel(cap, tickMs, slots);
    const ref = new Map<number, number>();
    let now = 1e6 + rng.next();
    // Some deadlines exist before the wheel's first advance: past, near and far.
    for (let k = 0; k < 40; k++) {
      const at = now + (rng.next() - 0.5) * tickMs * slots * 6;
      w.schedule(k, at);
      ref.set(k, at);
    }
    const first: number[] = [];
    for (const [k, v] of ref) if (v <= now) first.push(k);
    for (const k of first) ref.delete(k);
    t.same(collect(w, now), first.sort((a, b) => a - b), `seed ${seed}: first advance fires what is already due`);
    let bad = 0;
    let firedTotal = 0;
    for (let i = 0; i < 100_000; i++) {
      const op = rng.int(10);
      const id = rng.int(cap);
      if (op < 5) {
        // mostly near future, some past, some beyond several turns
        const r = rng.int(10);
        const span = r < 6 ? tickMs * 4 : r < 8 ? tickMs * slots * 5 : tickMs * 2;
        const at = r < 8 ? now + rng.next() * span : now - rng.next() * span;
        w.schedule(id, at);
        ref.set(id, at);
      } else if (op < 7) {
        w.cancel(id);
        ref.delete(id);
      } else {
        const step = rng.int(4) === 0 ? rng.next() * tickMs * slots * 3 : rng.next() * tickMs * 1.5;
        now += step;
        const due: number[] = [];
        for (const [k, v] of ref) if (v <= now) due.push(k);
        due.sort((a, b) => a - b);
        for (const k of due) ref.delete(k);
        const got = collect(w, now);
        firedTotal += got.length;
        if (got.join() !== due.join()) {
          if (bad++ < 3) t.fail(`seed ${seed} op ${i} now ${now}: fired [${got}] expected [${due}]`);
        }
      }
      if (w.size !== ref.size) {
        if (bad++ < 3) t.fail(`seed ${seed} op ${i}: size ${w.size} expected ${ref.size}`);
      }
    }
    t.equal(bad, 0, `seed ${seed} tick ${tickMs} slots ${slots}: no mismatches`);
    t.ok(firedTotal > 10_000, `exercised (${firedTotal} fired)`);
  }
});
