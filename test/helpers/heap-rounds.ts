/**
 * How the no-allocation tests measure: steady state is what counts (the optimizing compiler works in the
 * background, and until its code is installed the baseline tiers may box numbers), so a loop already warmed
 * up runs in up to three rounds, each from a freshly collected heap, and the test keeps the best round.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

export interface HeapRound {
  /** Bytes the heap grew by during the round. */
  heapGrowth: number;
  /** Garbage collections seen during the round. */
  collections: number;
  ms: number;
}

/** Runs `round` up to three times, each measured and handed to `enough`, which says whether a good round came. */
export async function heapRounds(round: () => void, enough: (r: HeapRound, index: number) => boolean): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  let collections = 0;
  const obs = new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  try {
    for (let index = 0; index < 3; index++) {
      gc(); // start from a collected heap, so that nothing but the loop's own allocation can move it
      await new Promise((r) => setTimeout(r, 20));
      collections = 0;
      const before = process.memoryUsage().heapUsed;
      const t0 = performance.now();
      round();
      const ms = performance.now() - t0;
      const after = process.memoryUsage().heapUsed;
      await new Promise((r) => setTimeout(r, 50)); // gc entries arrive asynchronously
      if (enough({ heapGrowth: after - before, collections, ms }, index)) break;
    }
  } finally {
    obs.disconnect();
  }
}
