/**
 * One end of the netecho and latency benchmarks over mtcp-ts/net, a worker thread on the shm wire
 * (bench/lib/netecho.ts): the echo server, reporting its core's counters and CPU time when stopped,
 * or the ping-pong client. It answers bench/lib/shm-pair.ts's requests like bench/mtcp-worker.ts.
 */
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { parseMtcpConf } from '../src/config/mtcp-conf.ts';
import type { ShmWireShared } from '../src/io/shm.ts';
import { mtcp_core_affinitize, mtcp_create_context, mtcp_destroy, mtcp_destroy_context, mtcp_init } from '../src/mtcp/api.ts';
import { measureCoreLoad } from '../src/mtcp/thread-cpu.ts';
import { connect, createServer } from '../src/net/index.ts';
import { echoConnection, echoedBytes, pingPongClient } from './lib/netecho.ts';
import { BENCH_PORT, type ServerCounters, type WorkerReply, type WorkerRequest } from './lib/shm-pair.ts';

const req = workerData as WorkerRequest;
const port = parentPort!;

async function main(): Promise<void> {
  if (mtcp_init(parseMtcpConf(req.confText, `<${req.role}>`), { shm: req.shm as { wire: ShmWireShared; port: 0 | 1 } }) < 0) {
    throw new Error('mtcp_init failed');
  }
  mtcp_core_affinitize(req.core);
  const mctx = mtcp_create_context(0);
  if (!mctx) throw new Error('mtcp_create_context failed');
  if (req.role === 'server') {
    const load = measureCoreLoad(mctx.stack.stats);
    const server = createServer({ mctx, noDelay: true }, echoConnection).listen(BENCH_PORT);
    await once(server, 'listening');
    port.postMessage({ kind: 'ready' } satisfies WorkerReply);
    await new Promise<void>((resolve) => port.on('message', (m) => m === 'stop' && resolve()));
    server.close();
    const st = mctx.stack.stats;
    const counters: ServerCounters = {
      passiveOpens: st.tcpPassiveOpens, rxFrames: st.rxFrames, txFrames: st.txFrames, drops: st.totalDrops(), retransmits: st.tcpRetransmits, load: load(),
    };
    mtcp_destroy_context(mctx);
    await mctx.closed;
    port.postMessage({ kind: 'done', received: echoedBytes(), server: counters } satisfies WorkerReply);
  } else {
    const r = await pingPongClient(() => connect({ mctx, host: req.serverIp, port: BENCH_PORT, noDelay: true }), req.spec);
    mtcp_destroy_context(mctx);
    await mctx.closed;
    port.postMessage({ kind: 'done', result: { ...r, latency: r.latency.toArray() } } satisfies WorkerReply);
  }
  mtcp_destroy();
}

main().catch((err: unknown) => {
  port.postMessage({ kind: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies WorkerReply);
});
