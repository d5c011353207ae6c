import t from 'tap';
import { echoClient } from '../helpers/echo-client.ts';
import { SERVER_IP, simPair } from '../helpers/stacks.ts';
import { mtcpServer } from '../../bench/lib/mtcp-workload.ts';

t.test('one connection echoes 64 KiB over sim', async (t) => {
  const p = simPair();
  let stop = false;
  const server = mtcpServer(p.server, 7, 'echo', () => stop);
  const out = await echoClient(p.client, SERVER_IP, 7, 1, 65536, 60_000);
  stop = true;
  await server;
  t.same(out.errors, []);
  t.equal(out.completed, 1);
  t.equal(out.mismatches, 0);
  await p.close();
});

t.test('1,000 concurrent connections each echo 1 MiB over sim, sha256 checked', async (t) => {
  const p = simPair({ maxConcurrency: 2048, rcvbuf: 65536, sndbuf: 65536 });
  let stop = false;
  const server = mtcpServer(p.server, 7, 'echo', () => stop);
  const out = await echoClient(p.client, SERVER_IP, 7, 1000, 1 << 20, 600_000);
  stop = true;
  await server;
  t.same(out.errors.slice(0, 5), []);
  t.equal(out.completed, 1000);
  t.equal(out.mismatches, 0);
  // The close handshakes finish in the background; give them a moment.
  for (let i = 0; i < 200 && p.server.stack.tcp.activeCount + p.client.stack.tcp.activeCount > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(p.server.stack.tcp.activeCount, 0, 'server: every control block released');
  t.equal(p.client.stack.tcp.activeCount, 0, 'client: every control block released');
  t.equal(p.server.stack.tcp.sndPool.inUse + p.server.stack.tcp.rcvPool.inUse, 0, 'server: buffers back in the pools');
  t.equal(p.client.stack.tcp.sndPool.inUse + p.client.stack.tcp.rcvPool.inUse, 0, 'client: buffers back in the pools');
  t.equal(p.server.stack.tcp.wheel.size + p.client.stack.tcp.wheel.size, 0, 'no timer left');
  await p.close();
});
