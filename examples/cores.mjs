// A server on two cores (runOnCores: one pinned worker thread per core, each listening on port 80 with its own
// stack on its own queue) and a client stack in a worker thread, on one shm wire with two queues at the server's
// end and one at the client's. RSS spreads the client's connections over the server's cores.
// Run from the repository after `npm ci`:  node examples/cores.mjs
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { mtcp_init, mtcp_setconf, mtcp_create_context, mtcp_destroy, mtcp_runtime, runOnCores, ShmWire } from 'mtcp-ts';
import { MtcpAgent } from 'mtcp-ts/net';

const repoFile = (name) => fileURLToPath(new URL(`../${name}`, import.meta.url));
const CORES = 2;

if (isMainThread) {
  // The wire's queues: one per core at each end (server cores, client cores).
  const wire = ShmWire.create({ queues: [CORES, 1] }).share();
  mtcp_setconf({ num_cores: CORES });
  if (mtcp_init(repoFile('mtcp.conf'), { shm: { wire, port: 0 } }) < 0) process.exit(1);
  const run = runOnCores(mtcp_runtime(), new URL('./cores-core.mjs', import.meta.url));
  await run.ready; // every core listens

  const client = new Worker(new URL(import.meta.url), { workerData: { shm: { wire, port: 1 } } });
  const [code] = await new Promise((resolve) => client.once('exit', (...a) => resolve(a)));
  run.stop();
  const served = await run.done; // each core's entry result
  console.log(`the server's cores accepted ${served.join(' and ')} connections`);
  mtcp_destroy();
  process.exitCode = code;
} else {
  if (mtcp_init(repoFile('config/client.conf'), { shm: workerData.shm }) < 0 || !mtcp_create_context(0)) process.exit(1);
  const agent = new MtcpAgent(); // a new connection per request, so each is hashed afresh
  const byCore = {};
  for (let i = 0; i < 20; i++) {
    const body = await new Promise((resolve, reject) => {
      http.get({ host: '198.18.0.1', port: 80, path: '/', agent }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    byCore[body] = (byCore[body] ?? 0) + 1;
  }
  console.log(Object.entries(byCore).map(([core, n]) => `${core}: ${n} requests`).join(', '));
  mtcp_destroy();
}
