/** Child process for the https row: the same node:https app over node:net, on an ephemeral loopback port (certificate in argv[2]). */
import https from 'node:https';
import { httpApp } from './lib/http-workload.ts';

const { key, cert } = JSON.parse(process.argv[2]) as { key: string; cert: string };
const server = https.createServer({ key, cert }, httpApp).listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send!({ port: typeof addr === 'object' && addr ? addr.port : 0 });
});
server.on('connection', (s: { setNoDelay(on: boolean): void }) => s.setNoDelay(true));
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
