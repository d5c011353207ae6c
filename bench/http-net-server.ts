/**
 * Child process for the http and https rows: the same node:http app over node:net (node:https with the
 * certificate in argv[2], as JSON { key, cert }), on an ephemeral loopback port.
 */
import http from 'node:http';
import https from 'node:https';
import { httpApp } from './lib/http-workload.ts';

const tls = process.argv[2] ? (JSON.parse(process.argv[2]) as { key: string; cert: string }) : null;
const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, httpApp) : http.createServer(httpApp);
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send!({ port: typeof addr === 'object' && addr ? addr.port : 0 });
});
server.on('connection', (s: { setNoDelay(on: boolean): void }) => s.setNoDelay(true));
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
