/**
 * Thread pinning through libc's sched_setaffinity(0, ...) via koffi: pid 0
 * means the calling thread, so a worker pins only itself.
 */
import koffi from 'koffi';
import { availableParallelism } from 'node:os';
import { EINVAL } from '../stack/errno.ts';

type SetAffinity = (pid: number, size: number, mask: Uint8Array) => number;

/** koffi bindings are made once per thread, on first use. */
let setAffinity: SetAffinity | null = null;

/** Pin the calling thread to `core`. Returns 0 or an errno. */
export function affinitize(core: number): number {
  if (!Number.isInteger(core) || core < 0 || core >= availableParallelism()) return EINVAL;
  if (!setAffinity) {
    const libc = koffi.load('libc.so.6');
    setAffinity = libc.func('int sched_setaffinity(int pid, size_t cpusetsize, const uint8_t *mask)') as SetAffinity;
  }
  const mask = new Uint8Array(128); // cpu_set_t: 1024 bits
  mask[core >> 3] |= 1 << (core & 7);
  if (setAffinity(0, mask.length, mask) === 0) return 0;
  return koffi.errno() || EINVAL;
}
