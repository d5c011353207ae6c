/**
 * The mTCP API's runtime-wide calls: mtcp_getconf and mtcp_setconf (limits, num_cores and the core_mask
 * it implies), and mtcp_core_affinitize.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { EINVAL, EPERM, mtcp_core_affinitize, mtcp_errno, mtcp_getconf, mtcp_setconf } from '../../src/index.ts';

t.test('mtcp_getconf / mtcp_setconf', async (t) => {
  const conf = { num_cores: 0, max_concurrency: 0, max_num_buffers: 0, rcvbuf_size: 0, sndbuf_size: 0, tcp_timewait: 0, tcp_timeout: 0 };
  t.equal(mtcp_getconf(conf), 0);
  t.same(conf, { num_cores: 1, max_concurrency: 10000, max_num_buffers: 10000, rcvbuf_size: 8192, sndbuf_size: 8192, tcp_timewait: 0, tcp_timeout: 30 });
  t.equal(mtcp_setconf({ max_concurrency: 0 }), -1, 'out of range');
  t.equal(mtcp_errno(), EINVAL);
  t.equal(mtcp_setconf({ max_concurrency: 500 }), 0);
  mtcp_getconf(conf);
  t.equal(conf.max_concurrency, 500);
  t.equal(EPERM, 1);
});

t.test('mtcp_setconf num_cores: core_mask grows to the new count unless it already has enough CPUs', async (t) => {
  const { config } = await import('../helpers/stacks.ts');
  const { mtcp_destroy, mtcp_init, mtcp_runtime } = await import('../../src/index.ts');
  const { maskCpus } = await import('../../src/config/mtcp-conf.ts');
  t.same([maskCpus(0b1010), maskCpus(0), maskCpus(2 ** 51)], [[1, 3], [], [51]], 'the CPUs of a mask, lowest first');
  mtcp_destroy(); // forget the settings of the test above
  const base = config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' });
  t.equal(mtcp_setconf({ num_cores: 2 }), 0);
  t.equal(mtcp_init(base), 0);
  t.same([mtcp_runtime()!.config.numCores, mtcp_runtime()!.config.coreMask], [2, 0b11], 'the default mask of 2 cores');
  mtcp_destroy();
  t.equal(mtcp_setconf({ num_cores: 2 }), 0);
  t.equal(mtcp_init({ ...base, coreMask: 0b1010 }), 0);
  t.equal(mtcp_runtime()!.config.coreMask, 0b1010, 'a mask with 2 CPUs stays');
  mtcp_destroy();
});

t.test('mtcp_core_affinitize pins the calling thread', async (t) => {
  t.equal(mtcp_core_affinitize(0), 0);
  const status = readFileSync('/proc/thread-self/status', 'utf8');
  t.match(status, /Cpus_allowed_list:\s*0\n/);
  t.equal(mtcp_core_affinitize(4096), -1, 'no such core');
  t.equal(mtcp_errno(), EINVAL);
});
