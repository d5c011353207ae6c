/**
 * Throughput of the stack's hot data structures, printed in M ops/s (`npm run build && node
 * dist/bench/data-structures.js`): the timer wheel (schedule + advance as the engine drives it,
 * nextDeadline, schedule/cancel) and the flow table (hits and misses). Figures depend on the machine;
 * nothing is asserted about them. The run stops with an error if the work was not what it claims
 * (lookups that did not find their flows), since its figure would then mean nothing; the flow table's
 * correctness itself is tested in test/stack/flow-table.test.ts.
 */
import { Prng } from '../src/io/sim.ts';
import { TimerWheel } from '../src/stack/timer-wheel.ts';
import { expectedHitSum, lookupHits, lookupMisses, randomFlowSet } from './lib/flow-set.ts';

function rate(ops: number, ms: number): string {
  return `${(ops / ms / 1000).toFixed(1)} M ops/s`;
}

/** An integer in [0, n) from `rng`. */
function below(rng: Prng, n: number): number {
  return Math.floor(rng.next() * n);
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`data-structures bench: ${what}; the figure would measure something else`);
}

/** Timer wheel: schedule + advance (engine-like: 10,000 connections, RTO re-arms, 1 ms ticks), nextDeadline, schedule/cancel. */
function timerWheel(): void {
  const n = 10_000;
  const w = new TimerWheel(n, 1, 4096);
  const rng = new Prng(1);
  const delay = new Float64Array(4096);
  for (let i = 0; i < delay.length; i++) delay[i] = 200 + below(rng, 800) + rng.next();
  let now = 1e6;
  w.advance(now, () => {});
  let fired = 0;
  const onFire = (id: number): void => {
    fired++;
    w.schedule(id, now + 1000); // a retransmission re-arms
  };
  const run = (rounds: number): number => {
    let ops = 0;
    for (let r = 0; r < rounds; r++) {
      // 100 segments per millisecond, each re-arming its connection's timer.
      for (let k = 0; k < 100; k++) {
        const id = (r * 7919 + k * 104_729) % n;
        w.schedule(id, now + delay[(r + k) & 4095]);
      }
      now += 1;
      w.advance(now, onFire);
      ops += 101;
    }
    return ops;
  };
  run(2_000); // warm-up
  const t0 = performance.now();
  const ops = run(20_000);
  const ms = performance.now() - t0;
  check(fired > 1000, `only ${fired} timers fired`);
  process.stdout.write(`timer wheel schedule+advance: ${rate(ops, ms)} (${ops} ops, ${fired} fired)\n`);

  // nextDeadline with the wheel in that state, and with only far timers armed.
  let s = 0;
  const t1 = performance.now();
  for (let i = 0; i < 1_000_000; i++) s += w.nextDeadline();
  const ms1 = performance.now() - t1;
  const far = new TimerWheel(n, 1, 4096);
  far.advance(1e6, () => {});
  for (let i = 0; i < n; i++) far.schedule(i, 1e6 + 7_200_000 + i);
  const t2 = performance.now();
  for (let i = 0; i < 1_000_000; i++) s += far.nextDeadline();
  const ms2 = performance.now() - t2;
  check(Number.isFinite(s), 'nextDeadline returned a non-finite time');
  process.stdout.write(`timer wheel nextDeadline: ${rate(1e6, ms1)} (busy wheel), ${rate(1e6, ms2)} (10,000 timers 2 h out)\n`);

  // schedule + cancel pairs.
  const t3 = performance.now();
  for (let i = 0; i < 2_000_000; i++) {
    const id = i % n;
    w.schedule(id, now + 300 + (i & 255));
    if ((i & 1) === 0) w.cancel(id);
  }
  const ms3 = performance.now() - t3;
  process.stdout.write(`timer wheel schedule/cancel: ${rate(3_000_000, ms3)}\n`);
}

/** Flow table: lookups, 10,000 flows in a table for 16,384 (bench/lib/flow-set.ts). */
function flowTable(): void {
  const set = randomFlowSet(new Prng(2));
  lookupHits(set, 200_000);
  const count = 5_000_000;
  const t0 = performance.now();
  const sum = lookupHits(set, count);
  const ms = performance.now() - t0;
  check(sum === expectedHitSum(set, count), 'a lookup did not find its flow');
  // Misses (a segment for no connection): another local port.
  const t1 = performance.now();
  const misses = lookupMisses(set, 2_000_000);
  const ms1 = performance.now() - t1;
  check(misses === 2_000_000, `${2_000_000 - misses} lookups for another port found a flow`);
  process.stdout.write(`flow table lookup: ${rate(count, ms)} hits, ${rate(2e6, ms1)} misses\n`);
}

timerWheel();
flowTable();
