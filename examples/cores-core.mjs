// The per-core entry of examples/cores.mjs: runOnCores calls main() in core k's pinned worker thread with the
// context of core k. It serves until `signal` aborts (run.stop() or SIGINT) and returns what it accepted.
import http from 'node:http';
import { createServer } from 'mtcp-ts/net';

export async function main(mctx, core, { signal }) {
  let accepted = 0;
  const app = http.createServer({ keepAliveTimeout: 0 }, (req, res) => res.end(`core ${core}`));
  const server = createServer({ mctx }, (socket) => {
    accepted++;
    app.emit('connection', socket);
  }).listen(80);
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  server.close();
  return accepted;
}
