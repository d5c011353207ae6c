/**
 * Two server cores listening on one port (mTCP's implicit SO_REUSEPORT), each
 * in its pinned worker, take 10,000 connections from a one-core client over
 * shm: every connection is served, each core reports its count, and the
 * counts add up.
 */
import t from 'tap';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ShmWire } from '../../src/io/shm.ts';
import { runOnCores } from '../../src/mtcp/cores.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { mtcp_destroy_context } from '../../src/mtcp/api.ts';
import { mtcpClient } from '../../bench/lib/mtcp-workload.ts';
import { bundle } from '../helpers/bundle.ts';
import { config, SERVER_IP } from '../helpers/stacks.ts';

const CONNECTIONS = 10_000;
const PORT = 8080;

t.test(`two cores on one port serve ${CONNECTIONS.toLocaleString('en-US')} connections over shm, each its share`, async (t) => {
  const dir = await bundle('reuseport', ['src/mtcp/core-worker.ts', 'test/mtcp/fixtures/core-app.ts']);
  const wire = ShmWire.create({ queues: [2, 1], slots: 1024 }).share();
  const opts = { io: 'shm' as const, maxConcurrency: 4096, rcvbuf: 2048, sndbuf: 2048 };
  const server = new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', { ...opts, cores: 2 }), { shm: { wire, port: 0 } });
  const run = runOnCores(server, pathToFileURL(join(dir, 'test/mtcp/fixtures/core-app.js')), {
    entry: 'echo', data: { port: PORT }, workerUrl: pathToFileURL(join(dir, 'src/mtcp/core-worker.js')),
  });
  t.teardown(() => run.stop());
  await run.ready;

  const client = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', opts), { shm: { wire, port: 1 } });
  const mctx = client.createContext(0);
  const t0 = performance.now();
  const r = await mtcpClient(mctx, SERVER_IP, PORT, {
    kind: 'short', concurrency: 256, messageSize: 64, durationMs: 120_000, requestsPerConnection: 1, totalConnections: CONNECTIONS,
  });
  const seconds = (performance.now() - t0) / 1000;
  mtcp_destroy_context(mctx);
  await mctx.closed;
  run.stop();
  const cores = (await run.done) as { core: number; accepted: number; received: number; noSocketDrops: number; retransmits: number }[];

  t.equal(r.errors, 0, 'no connection failed');
  t.equal(r.connections, CONNECTIONS, 'every connection got its echo and closed');
  t.equal(r.requests, CONNECTIONS);
  for (const c of cores) {
    t.comment(`core ${c.core}: ${c.accepted} connections accepted, ${c.received} bytes echoed, ${c.retransmits} retransmissions`);
    t.ok(c.accepted > CONNECTIONS / 4, `core ${c.core} took a share (${c.accepted})`);
    t.equal(c.received, c.accepted * 64, `core ${c.core}: one 64-byte request per connection it accepted`);
    t.equal(c.noSocketDrops, 0, `core ${c.core}: no segment for the other core's connections`);
  }
  t.equal(cores[0].accepted + cores[1].accepted, CONNECTIONS, 'the cores\' counts add up to the client\'s');
  const st = run.stats();
  t.same(st.cores.map((c) => c?.accepted), cores.map((c) => c.accepted), 'the stats API reports the same per core');
  t.equal(st.total.accepted, CONNECTIONS, 'and in total');
  t.equal(st.total.closed, CONNECTIONS, 'every control block released');
  t.comment(`${CONNECTIONS} connections in ${seconds.toFixed(2)} s (${Math.round(CONNECTIONS / seconds)}/s)`);
});
