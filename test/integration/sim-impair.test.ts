/** The simulated wire's impairments, its determinism, and TCP delivering intact data through them. */
import t from 'tap';
import { echoClient } from '../helpers/echo-client.ts';
import { SERVER_IP, simPair } from '../helpers/stacks.ts';
import { mtcpServer } from '../../bench/lib/mtcp-workload.ts';

async function run(seed: number, imp: Parameters<ReturnType<typeof simPair>['wire']['impair']>[0], conns: number, size: number, cc: 'reno' | 'cubic' = 'reno') {
  const p = simPair({ seed, maxConcurrency: 256, rcvbuf: 32768, sndbuf: 32768, cc });
  p.wire.impair(imp);
  let stop = false;
  const server = mtcpServer(p.server, 7, 'echo', () => stop);
  const out = await echoClient(p.client, SERVER_IP, 7, conns, size, 600_000);
  stop = true;
  await server;
  const summary = {
    wire: { ...p.wire.stats },
    virtualMs: Math.round(p.wire.clock.now()),
    server: { rx: p.server.stack.stats.rxFrames, tx: p.server.stack.stats.txFrames, retx: p.server.stack.stats.tcpRetransmits },
    client: { rx: p.client.stack.stats.rxFrames, tx: p.client.stack.stats.txFrames, retx: p.client.stack.stats.tcpRetransmits },
    drops: { ...p.server.stack.stats.dropsByName(), ...p.client.stack.stats.dropsByName() },
  };
  await p.close();
  return { out, summary };
}

for (const cc of ['reno', 'cubic'] as const) t.test(`${cc}: loss, duplication, reordering, corruption and delay: every byte arrives intact`, async (t) => {
  const { out, summary } = await run(3, { loss: 0.03, duplicate: 0.02, reorder: 0.03, corrupt: 0.01, delayMs: 1, jitterMs: 0.5 }, 20, 128 * 1024, cc);
  t.same(out.errors, []);
  t.equal(out.completed, 20);
  t.equal(out.mismatches, 0, 'sha256 of every stream matches');
  t.ok(summary.wire.lost > 0 && summary.wire.duplicated > 0 && summary.wire.reordered > 0 && summary.wire.corrupted > 0, JSON.stringify(summary.wire));
  t.ok(summary.server.retx + summary.client.retx > 0, 'losses were repaired by retransmission');
  t.ok((summary.drops as Record<string, number>).tcp_bad_checksum > 0 || (summary.drops as Record<string, number>).ip_bad_checksum > 0, 'corrupted frames dropped by checksum');
});

t.test('the same seed gives the same run, frame for frame', async (t) => {
  const imp = { loss: 0.02, reorder: 0.02, delayMs: 0.5 };
  const a = await run(11, imp, 8, 32 * 1024);
  const b = await run(11, imp, 8, 32 * 1024);
  t.equal(a.out.completed, 8);
  t.same(b.summary, a.summary);
  const c = await run(12, imp, 8, 32 * 1024);
  t.not(JSON.stringify(c.summary.wire), JSON.stringify(a.summary.wire), 'another seed, another run');
});
