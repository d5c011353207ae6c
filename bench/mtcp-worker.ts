/**
 * One pinned core running an mTCP server or client for bench/lib/shm-pair.ts: a worker thread on the
 * shm wire (its request in workerData), or a child process on memif (its request in argv[2]).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseMtcpConf } from '../src/config/mtcp-conf.ts';
import { parseIpv4 } from '../src/config/addr.ts';
import type { ShmWireShared } from '../src/io/shm.ts';
import {
  mtcp_core_affinitize, mtcp_create_context, mtcp_destroy, mtcp_destroy_context, mtcp_init,
} from '../src/mtcp/api.ts';
import { measureCoreLoad } from '../src/mtcp/thread-cpu.ts';
import { mtcpClient, mtcpServer } from './lib/mtcp-workload.ts';
import type { ServerCounters, WorkerReply, WorkerRequest } from './lib/shm-pair.ts';
import type { WorkloadResult } from './lib/workload.ts';

const req = (parentPort ? workerData : JSON.parse(process.argv[2])) as WorkerRequest;
const port = parentPort ?? {
  postMessage: (m: WorkerReply) => process.send!(m),
  on: (_: 'message', fn: (m: unknown) => void) => process.on('message', fn),
};

function plain(r: WorkloadResult, withLatency: boolean): WorkerReply['result'] {
  return { ...r, latency: withLatency ? r.latency.toArray() : new Float64Array(0) };
}

async function main(): Promise<void> {
  const config = parseMtcpConf(req.confText, `<${req.role}>`);
  if (mtcp_init(config, req.shm ? { shm: { wire: req.shm.wire as ShmWireShared, port: req.shm.port } } : {}) < 0) {
    throw new Error('mtcp_init failed');
  }
  mtcp_core_affinitize(req.core);
  const mctx = mtcp_create_context(0);
  if (!mctx) throw new Error('mtcp_create_context failed');
  if (req.role === 'server') {
    let stop = false;
    port.on('message', (m) => {
      if (m === 'stop') stop = true;
    });
    const load = measureCoreLoad(mctx.stack.stats);
    const received = await mtcpServer(mctx, 8000, req.mode, () => stop, () => port.postMessage({ kind: 'ready' } satisfies WorkerReply));
    const st = mctx.stack.stats;
    const server: ServerCounters = {
      passiveOpens: st.tcpPassiveOpens, rxFrames: st.rxFrames, txFrames: st.txFrames, drops: st.totalDrops(), retransmits: st.tcpRetransmits, load: load(),
    };
    mtcp_destroy_context(mctx);
    await mctx.closed;
    port.postMessage({ kind: 'done', received, server } satisfies WorkerReply);
  } else {
    const ip = parseIpv4(req.serverIp);
    const r = await mtcpClient(mctx, ip, 8000, req.spec, (t) => port.postMessage({ kind: 'tick', result: plain(t, false) } satisfies WorkerReply));
    mtcp_destroy_context(mctx);
    await mctx.closed;
    port.postMessage({ kind: 'done', result: plain(r, true) } satisfies WorkerReply);
  }
  mtcp_destroy();
}

main().catch((err: unknown) => {
  port.postMessage({ kind: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies WorkerReply);
});
