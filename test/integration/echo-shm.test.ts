/**
 * The shm wire between threads, and the two ways to run: mtcp_init in the
 * main thread with the server's context in a worker, the client's runtime in
 * the main thread. 1,000 connections each echo 1 MiB, sha256 checked.
 */
import { ConnView } from '../../sim/conn-view.ts';
import t from 'tap';
import { build } from 'esbuild';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { mtcp_destroy, mtcp_destroy_context, mtcp_init, mtcp_runtime, mtcp_share } from '../../src/index.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { config, SERVER_IP } from '../helpers/stacks.ts';
import { echoClient } from '../helpers/echo-client.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Worker files must be JavaScript on Node 20: bundle the fixture next to node_modules so koffi resolves. */
async function buildWorker(): Promise<string> {
  const dir = `${root}node_modules/.cache/mtcp-ts-test`;
  mkdirSync(dir, { recursive: true });
  const outfile = `${dir}/echo-worker.mjs`;
  await build({
    entryPoints: [`${root}test/integration/fixtures/echo-worker.ts`], outfile, bundle: true, platform: 'node',
    format: 'esm', external: ['koffi'], logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}

t.test('1,000 connections x 1 MiB over shm, server context in a worker thread', async (t) => {
  const opts = { io: 'shm' as const, maxConcurrency: 2048, rcvbuf: 65536, sndbuf: 65536 };
  t.equal(mtcp_init(config('198.18.0.1', '02:00:c6:12:00:01', opts)), 0, 'mtcp_init in the main thread');
  t.teardown(() => mtcp_destroy());
  const shared = mtcp_share()!;
  const worker = new Worker(await buildWorker(), { workerData: { mtcp: shared } });
  t.teardown(() => worker.terminate());
  const messages: unknown[] = [];
  const next = (): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  t.same(await next(), { ready: true });

  const client = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', opts), { shm: mtcp_runtime()!.shmPeer() });
  const mctx = client.createContext(0);
  const t0 = performance.now();
  const out = await echoClient(mctx, SERVER_IP, 7, 1000, 1 << 20, 120_000);
  const seconds = (performance.now() - t0) / 1000;
  t.comment(`2 x 1000 MiB echoed in ${seconds.toFixed(1)} s (${(2000 / seconds).toFixed(0)} MiB/s)`);
  t.same(out.errors.slice(0, 5), []);
  t.equal(out.completed, 1000);
  t.equal(out.mismatches, 0);
  for (let i = 0; i < 200 && mctx.stack.tcp.activeCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
  const tcp = mctx.stack.tcp;
  const stuck: string[] = [];
  for (let id = 0; id < tcp.tcb.capacity && stuck.length < 3; id++) {
    if (tcp.tcb.inUse(id) === 0) continue;
    const x = new ConnView(tcp, id);
    stuck.push(`${x.state} sock=${x.sockid} una=${x.sndUna} max=${x.sndMax} finSent=${x.finSent} rto=${x.rtoAt} now=${mctx.now()}`);
  }
  t.equal(mctx.stack.tcp.activeCount, 0, `client: control blocks released ${stuck.join('; ')}`);
  t.equal(mctx.stack.tcp.sndPool.inUse + mctx.stack.tcp.rcvPool.inUse, 0, 'client: buffers back');
  worker.postMessage('stop');
  const done = await next();
  messages.push(done);
  t.same(done.leftover, { tcbs: 0, snd: 0, rcv: 0, timers: 0, sockets: 0 }, 'server: nothing left behind');
  mtcp_destroy_context(mctx);
  await mctx.closed;
});
