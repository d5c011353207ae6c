/** Child process for bench/run.ts: a node:net echo or sink server on an ephemeral loopback port. It answers 'stats' with the bytes received. */
import { netServer } from './lib/net-workload.ts';

const mode = process.argv[2] === 'sink' ? 'sink' : 'echo';
const { server, received } = await netServer(0, mode);
const addr = server.address();
process.send!({ port: typeof addr === 'object' && addr ? addr.port : 0 });
process.on('message', (m) => {
  if (m === 'stats') process.send!({ received: received() });
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
