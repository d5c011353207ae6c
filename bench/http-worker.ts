/**
 * Worker thread for the http and https rows: node:http over mtcp-ts or, given certificates, node:https
 * (an https.Server fed by an mtcp-ts Server, MtcpHttpsAgent clients), as a server or a client, on one
 * end of the shm wire.
 */
import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { parseMtcpConf } from '../src/config/mtcp-conf.ts';
import type { ShmWireShared } from '../src/io/shm.ts';
import { mtcp_core_affinitize, mtcp_create_context, mtcp_destroy, mtcp_destroy_context, mtcp_init } from '../src/mtcp/api.ts';
import { measureCoreLoad } from '../src/mtcp/thread-cpu.ts';
import { createServer, MtcpAgent, MtcpHttpsAgent } from '../src/net/index.ts';
import { httpApp, httpClient, type BenchCerts } from './lib/http-workload.ts';

interface HttpWorkerRequest {
  role: 'server' | 'client';
  confText: string;
  shm: { wire: ShmWireShared; port: 0 | 1 };
  core: number;
  host: string;
  port: number;
  concurrency: number;
  durationMs: number;
  /** Present for https. */
  certs?: BenchCerts;
}

const req = workerData as HttpWorkerRequest;
const port = parentPort!;

async function main(): Promise<void> {
  if (mtcp_init(parseMtcpConf(req.confText, `<${req.role}>`), { shm: req.shm }) < 0) throw new Error('mtcp_init failed');
  mtcp_core_affinitize(req.core);
  const mctx = mtcp_create_context(0)!;
  const certs = req.certs;
  if (req.role === 'server') {
    const load = measureCoreLoad(mctx.stack.stats);
    const app = certs ? https.createServer({ key: certs.key, cert: certs.cert }, httpApp) : http.createServer(httpApp);
    const server = createServer({ mctx, noDelay: true }, (s) => app.emit('connection', s)).listen(req.port);
    await once(server, 'listening');
    port.postMessage({ kind: 'listening' });
    await new Promise<void>((r) => port.once('message', () => r()));
    app.closeAllConnections();
    server.close();
    port.postMessage({ kind: 'done', load: load() });
  } else {
    const options = { mctx, keepAlive: true, maxSockets: req.concurrency };
    const agent = certs ? new MtcpHttpsAgent({ ...options, ca: certs.ca }) : new MtcpAgent(options);
    const r = await httpClient(agent, req.host, req.port, req.concurrency, req.durationMs);
    agent.destroy();
    port.postMessage({ kind: 'done', result: { ...r, latency: r.latency.toArray() } });
  }
  mtcp_destroy_context(mctx);
  await mctx.closed;
  mtcp_destroy();
}

main().catch((err: unknown) => port.postMessage({ kind: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) }));
