// node:http on mtcp-ts, two stacks in one program: an http.Server in the main thread (198.18.0.1, mtcp.conf)
// and node:http's client in a worker thread (198.18.0.2, config/client.conf), over the shm wire.
// Run from the repository after `npm ci`:  node examples/http-shm.mjs
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { mtcp_init, mtcp_create_context, mtcp_destroy, mtcp_shm_peer } from 'mtcp-ts';
import { createServer, MtcpAgent } from 'mtcp-ts/net';

const repoFile = (name) => fileURLToPath(new URL(`../${name}`, import.meta.url));

if (isMainThread) {
  if (mtcp_init(repoFile('mtcp.conf')) < 0 || !mtcp_create_context(0)) process.exit(1);
  const app = http.createServer((req, res) => res.end(`hello from mtcp-ts, ${req.url}\n`));
  const server = createServer((socket) => app.emit('connection', socket)).listen(8080);

  // The client runs its own stack: hand its worker the other end of the wire.
  const client = new Worker(new URL(import.meta.url), { workerData: { shm: mtcp_shm_peer() } });
  client.once('exit', (code) => {
    server.close();
    mtcp_destroy();
    process.exitCode = code;
  });
} else {
  if (mtcp_init(repoFile('config/client.conf'), { shm: workerData.shm }) < 0 || !mtcp_create_context(0)) process.exit(1);
  const agent = new MtcpAgent({ keepAlive: true });
  for (const path of ['/', '/second']) {
    const body = await new Promise((resolve, reject) => {
      http.get({ host: '198.18.0.1', port: 8080, path, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      }).on('error', reject);
    });
    process.stdout.write(body);
  }
  agent.destroy();
  mtcp_destroy(); // the worker ends once its stack is gone
}
