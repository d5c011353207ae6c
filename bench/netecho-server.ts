/** Child process for the netecho and latency benchmarks: the node:net side's echo server (bench/lib/netecho.ts) on an ephemeral loopback port. */
import net from 'node:net';
import { echoConnection } from './lib/netecho.ts';

const server = net.createServer({ noDelay: true }, echoConnection).listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send!({ port: typeof addr === 'object' && addr ? addr.port : 0 });
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
