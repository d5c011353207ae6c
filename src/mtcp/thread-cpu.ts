/**
 * CPU time of the calling thread, for a core's cost figures (frames per
 * CPU-second): the first field of /proc/thread-self/schedstat, the
 * nanoseconds this thread (a worker's own tid, not the process) has run on a
 * CPU. Time asleep waiting for frames is not counted; busy-polling is.
 */
import { readFileSync } from 'node:fs';
import type { Stats } from '../stack/stats.ts';

/** Nanoseconds the calling thread has run on a CPU; NaN where /proc does not say (not Linux). */
export function threadCpuNs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** What one core did between two points: frames it received and sent, and the CPU time its thread used. */
export interface CoreLoad {
  frames: number;
  cpuSeconds: number;
  framesPerCpuSecond: number;
}

/** Start measuring the core whose context counts in `stats`, from this thread (the core's own); the function returned ends the measurement. */
export function measureCoreLoad(stats: Stats): () => CoreLoad {
  const frames0 = stats.rxFrames + stats.txFrames;
  const cpu0 = threadCpuNs();
  return () => {
    const f = stats.rxFrames + stats.txFrames - frames0;
    const cpuSeconds = (threadCpuNs() - cpu0) / 1e9;
    return { frames: f, cpuSeconds, framesPerCpuSecond: f / cpuSeconds };
  };
}
