/**
 * io = dpdk with runOnCores: EAL and a port start once per process, so the
 * main thread starts the port (MtcpRuntime.share) and each core's worker
 * attaches to it with its own bindings. net_ring0, DPDK's in-memory port,
 * needs no NIC, no namespace and no hugepages. (Several queues need a port
 * with RSS, which no virtual device here has: see docs/scaling.md.)
 */
import t from 'tap';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { dpdkUnavailable } from '../../src/io/dpdk.ts';
import { runOnCores } from '../../src/mtcp/cores.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { bundle } from '../helpers/bundle.ts';
import { testNeeding } from '../helpers/prerequisites.ts';

testNeeding(t, 'a core\'s worker attaches to the DPDK port the main thread started', dpdkUnavailable(), async (t) => {
  const dir = await bundle('cores-dpdk', ['src/mtcp/core-worker.ts', 'test/mtcp/fixtures/core-app.ts']);
  const cfg = parseMtcpConf(['io = dpdk', 'port = r0', 'r0.addr = 198.18.0.1/24', 'r0.device = net_ring0', 'max_concurrency = 64',
    'max_num_buffers = 64'].join('\n'), '<dpdk>');
  const rt = new MtcpRuntime(cfg);
  const shared = rt.share().dpdk!;
  t.equal(shared.queues, 1);
  t.ok(shared.length > 0, 'the pool\'s memory, for the workers to map');
  const run = runOnCores(rt, pathToFileURL(join(dir, 'test/mtcp/fixtures/core-app.js')), {
    entry: 'pinned', workerUrl: pathToFileURL(join(dir, 'src/mtcp/core-worker.js')),
  });
  const [r] = (await run.done) as { core: number; cpus: string; queue: number }[];
  t.same([r.core, r.cpus, r.queue], [0, '0', 0], 'core 0 pinned to CPU 0, on queue 0 of the port');
  t.same(rt.share().dpdk, shared, 'the same port for the next run');
  rt.destroy();
});
