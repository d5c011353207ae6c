/**
 * The stack's clock before the context's first turn: a connect made right
 * after mtcp_create_context, on a clock long past zero (a process that has
 * run for minutes), must not time out at once. It did: the TCP layer still
 * read 0, so the idle deadline (0 + tcp_timeout) was already behind it.
 */
import t from 'tap';
import { once } from 'node:events';
import { SimWire } from '../../src/io/sim.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { connect, createServer } from '../../src/net/index.ts';
import { config } from '../helpers/stacks.ts';

t.test('a connect before the first turn, 100 s into the clock, connects', async (t) => {
  const wire = new SimWire({ seed: 1, autoAdvance: true, startMs: 100_000 });
  const server = new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01'), { sim: wire, secret: [1, 2] }).createContext(0);
  const client = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02'), { sim: wire, secret: [3, 4] }).createContext(0);
  const srv = createServer({ mctx: server }, (s) => s.end('hi')).listen(80, '198.18.0.1');
  const c = connect({ mctx: client, port: 80, host: '198.18.0.1' });
  const outcome = await Promise.race([once(c, 'connect').then(() => 'connect'), once(c, 'error').then(([e]) => (e as Error).message)]);
  t.equal(outcome, 'connect');
  c.destroy();
  srv.close();
  server.stop();
  client.stop();
  await Promise.all([server.closed, client.closed]);
});
