/** Child process for the HTTP benchmark: the same node:http app over node:net, on an ephemeral loopback port. */
import http from 'node:http';
import { httpApp } from './lib/http-workload.ts';

const server = http.createServer(httpApp).listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send!({ port: typeof addr === 'object' && addr ? addr.port : 0 });
});
server.on('connection', (s) => s.setNoDelay(true));
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
