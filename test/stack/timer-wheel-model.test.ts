/**
 * TimerWheel against a model, checked at every fire: nothing early, nothing
 * late, earliest ticks first, callbacks that re-arm and cancel (themselves and
 * others), deadlines many turns out, big jumps, clocks beyond 2^31 ms, and
 * nextDeadline never later than the true earliest deadline.
 */
import t from 'tap';
import { TimerWheel } from '../../src/stack/timer-wheel.ts';
import { Prng } from '../helpers/prng.ts';

interface Geometry {
  seed: number;
  tickMs: number;
  slots: number;
  start: number;
  ops: number;
}

/** Run the random workload; returns a list of problems (empty when all is well) and what was exercised. */
function run(g: Geometry): { problems: string[]; fired: number; inCallback: number; far: number; jumps: number } {
  const { tickMs, slots } = g;
  const rng = new Prng(g.seed);
  const cap = 96;
  const w = new TimerWheel(cap, tickMs, slots);
  const span = tickMs * slots;
  const tk = (ms: number): number => Math.floor(ms / tickMs);
  /** Model: deadline of each armed id (absent when not armed). */
  const dl = new Map<number, number>();
  /** Ids re-armed during the current advance for a tick it had already reached: they wait for the next call. */
  const deferred = new Set<number>();
  const problems: string[] = [];
  const problem = (m: string): void => {
    if (problems.length < 5) problems.push(m);
  };
  let now = g.start + rng.next() * span;
  let started = false;
  /** The wheel's current tick after the last advance. */
  let cur = 0;
  let fired = 0;
  let inCallback = 0;
  let far = 0;
  let jumps = 0;

  const randomDeadline = (base: number): number => {
    const r = rng.int(20);
    if (r < 9) return base + rng.next() * tickMs * 6; // this tick or the next few
    if (r < 13) return base + rng.next() * span; // within a turn
    if (r < 16) {
      far++;
      return base + span + rng.next() * span * 12; // several turns out
    }
    if (r < 17) {
      far++;
      return base + span * (100 + rng.next() * 1e4); // very far
    }
    if (r < 18) return base - rng.next() * tickMs * 3; // just past
    if (r < 19) return base - rng.next() * span * 3; // well past
    return Math.floor(base / tickMs) * tickMs; // exactly a tick boundary
  };

  // State of the advance in progress, for the per-fire checks.
  let callNow = 0;
  let phaseB = false;
  let lastTick = -Infinity;
  let calls = 0;

  const fire = (id: number): void => {
    calls++;
    fired++;
    const d = dl.get(id);
    if (d === undefined) {
      problem(`fired ${id}, which is not armed`);
      return;
    }
    if (d > callNow) problem(`fired ${id} early: deadline ${d} > now ${callNow}`);
    if (deferred.has(id)) problem(`fired ${id} again in the call that re-armed it for a tick already reached`);
    if (w.isScheduled(id) || w.deadlineOf(id) !== -1) problem(`${id} still armed inside its own fire()`);
    dl.delete(id);
    const tick = tk(d);
    // Order: overdue entries (ticks before the current one) first, then ticks in order.
    const overdue = started && tick < cur;
    if (overdue && phaseB) problem(`overdue ${id} (tick ${tick}) fired after tick ${lastTick}`);
    if (!overdue) {
      if (tick < lastTick) problem(`tick ${tick} (id ${id}) fired after tick ${lastTick}`);
      phaseB = true;
      lastTick = tick;
    }
    // The lowest tick a re-arm may take and still fire in this call: one not reached yet.
    const low = overdue ? cur : tick + 1;
    const acts = rng.int(4);
    for (let a = 0; a < acts; a++) {
      const other = rng.int(3) === 0 ? id : rng.int(cap);
      if (rng.int(3) === 0) {
        w.cancel(other);
        dl.delete(other);
        deferred.delete(other);
      } else {
        inCallback++;
        const at = randomDeadline(callNow);
        w.schedule(other, at);
        dl.set(other, at);
        if (tk(at) < low) deferred.add(other);
        else deferred.delete(other);
      }
    }
  };

  const checkNext = (where: string): void => {
    let best = Infinity;
    for (const v of dl.values()) if (v < best) best = v;
    const nd = w.nextDeadline();
    if (nd > best) problem(`${where}: nextDeadline ${nd} later than the earliest deadline ${best}`);
    // A stale lower bound is fine, but not one in the past while nothing is due (the loop would spin).
    if (started && best >= cur * tickMs && nd < cur * tickMs) problem(`${where}: nextDeadline ${nd} before the current tick ${cur}`);
    if (dl.size === 0 && nd !== Infinity) problem(`${where}: nextDeadline ${nd} with nothing armed`);
  };

  for (let i = 0; i < g.ops && problems.length === 0; i++) {
    const op = rng.int(10);
    const id = rng.int(cap);
    if (op < 4) {
      const at = randomDeadline(now);
      w.schedule(id, at);
      dl.set(id, at);
    } else if (op < 5) {
      w.cancel(id);
      dl.delete(id);
    } else if (op < 6) {
      const d = dl.get(id) ?? -1;
      if (w.deadlineOf(id) !== d || w.isScheduled(id) !== dl.has(id)) problem(`op ${i}: deadlineOf(${id}) ${w.deadlineOf(id)} expected ${d}`);
    } else {
      const r = rng.int(10);
      if (r < 6) now += rng.next() * tickMs * 2;
      else if (r < 8) now += rng.next() * span;
      else if (r < 9) now += 0; // same time again
      else {
        jumps++;
        now += span * (1 + rng.next() * 20); // a big jump over several turns
      }
      callNow = now;
      const callTick = tk(now);
      phaseB = false;
      lastTick = -Infinity;
      calls = 0;
      deferred.clear();
      if (!started) {
        // The first advance starts at the earliest tick: everything is in order.
        let first = callTick;
        for (const v of dl.values()) if (tk(v) < first) first = tk(v);
        cur = first;
      }
      const n = w.advance(now, fire);
      started = true;
      cur = callTick;
      if (n !== calls) problem(`op ${i}: advance returned ${n}, fire called ${calls} times`);
      for (const [k, v] of dl) {
        if (v <= now && !deferred.has(k)) problem(`op ${i} now ${now}: ${k} (deadline ${v}) due but not fired`);
      }
    }
    if (w.size !== dl.size) problem(`op ${i}: size ${w.size} expected ${dl.size}`);
    checkNext(`op ${i}`);
  }
  return { problems, fired, inCallback, far, jumps };
}

t.test('randomized model, checked at every fire (4 geometries x 120,000 ops)', async (t) => {
  const geometries: Geometry[] = [
    { seed: 11, tickMs: 1, slots: 64, start: 1e6, ops: 120_000 }, // performance.now()-like clock
    { seed: 12, tickMs: 0.5, slots: 8, start: 0, ops: 120_000 },
    { seed: 13, tickMs: 10, slots: 4, start: -5000, ops: 120_000 }, // a clock that starts negative
    { seed: 14, tickMs: 1, slots: 4096, start: 1.7e12, ops: 120_000 }, // Date.now()-like: ticks beyond 2^31
  ];
  for (const g of geometries) {
    const r = run(g);
    t.same(r.problems, [], `seed ${g.seed} tick ${g.tickMs} slots ${g.slots} start ${g.start}: no problems`);
    t.ok(r.fired > 20_000, `fired ${r.fired}`);
    t.ok(r.inCallback > 10_000, `re-armed from inside fire ${r.inCallback} times`);
    t.ok(r.far > 5_000 && r.jumps > 1_000, `${r.far} deadlines beyond one turn, ${r.jumps} big jumps`);
  }
});

t.test('big jumps fire in tick order, across turns and from the overflow list', async (t) => {
  const w = new TimerWheel(16, 1, 8);
  w.advance(1000, () => {});
  const at = [1009, 1015, 1003, 1100, 1001, 1016, 1050, 1008, 1007.5];
  at.forEach((d, id) => w.schedule(id, d));
  const order: number[] = [];
  t.equal(w.advance(2000, (id) => order.push(at[id])), at.length);
  t.same(order, [...at].sort((a, b) => a - b));
});

t.test('a re-arm from fire() into a tick the same advance already passed fires on the next advance', async (t) => {
  const w = new TimerWheel(4, 1, 8);
  w.advance(1000, () => {});
  w.schedule(0, 1002);
  const got: number[] = [];
  w.advance(1005, (id) => {
    got.push(id);
    w.schedule(id, 1002.5); // in the past, in a tick this call has already fired
  });
  t.same(got, [0]);
  t.ok(w.nextDeadline() <= 1002.5, 'nextDeadline reports it');
  t.equal(w.advance(1005, () => got.push(9)), 1, 'fires on the very next advance, not a turn later');
});

t.test('the clock going back: nothing fires early, nothing is lost', async (t) => {
  const w = new TimerWheel(8, 1, 8);
  w.advance(1000, () => {});
  w.schedule(0, 1000.5);
  w.schedule(1, 1003);
  w.schedule(2, 990); // overdue
  t.same(collect(w, 995), [2], 'overdue entry due at 995 fires');
  t.same(collect(w, 995), []);
  t.same(collect(w, 1000.5), [0]);
  t.same(collect(w, 1003), [1]);
});

t.test('deadlines far beyond the span with a Date.now()-sized clock', async (t) => {
  const base = 1.7e12;
  const w = new TimerWheel(4, 1, 4096);
  w.advance(base, () => {});
  w.schedule(0, base + 7_200_000); // a 2 h keepalive
  w.schedule(1, base + 60_000); // TIME_WAIT
  w.schedule(2, base + 200); // an RTO
  t.equal(w.nextDeadline(), base + 200);
  t.same(collect(w, base + 199), []);
  t.same(collect(w, base + 200), [2]);
  t.ok(w.nextDeadline() <= base + 60_000 && w.nextDeadline() > base + 200, `nextDeadline ${w.nextDeadline() - base}`);
  t.same(collect(w, base + 59_999.9), []);
  t.equal(w.nextDeadline(), base + 60_000, 'exact once in the current turn');
  t.same(collect(w, base + 60_000), [1]);
  t.same(collect(w, base + 7_199_999), []);
  t.same(collect(w, base + 7_200_000), [0]);
  t.equal(w.nextDeadline(), Infinity);
});

t.test('nextDeadline is cheap with many far timers (no scan of all entries)', async (t) => {
  // Only checks the answer; the cost shows up in the throughput test's output.
  const w = new TimerWheel(10_000, 1, 4096);
  w.advance(1e6, () => {});
  for (let i = 0; i < 10_000; i++) w.schedule(i, 1e6 + 7_200_000 + i);
  w.schedule(5, 1e6 + 3_000_000);
  t.equal(w.nextDeadline(), 1e6 + 3_000_000, 'exact right after the turn scan');
  w.cancel(5);
  const nd = w.nextDeadline();
  t.ok(nd <= 1e6 + 7_200_000 && nd >= 1e6 + 4096, `a lower bound after a cancel (${nd}), not in the current turn`);
  t.equal(w.advance(1e6 + 7_200_000 + 9_999, () => {}), 9_999);
  t.equal(w.size, 0);
});

function collect(w: TimerWheel, now: number): number[] {
  const out: number[] = [];
  const n = w.advance(now, (id) => out.push(id));
  if (n !== out.length) throw new Error(`advance returned ${n}, fired ${out.length}`);
  return out.sort((a, b) => a - b);
}
