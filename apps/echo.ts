/**
 * echo: latency and ping-pong rate.
 *   mtcp-ts echo server PORT -f mtcp.conf
 *   mtcp-ts echo client IP PORT -f mtcp.conf [-c connections] [-s size] [-t seconds] [--json]
 * Each client connection sends `size` bytes, waits for them to come back,
 * and repeats for `seconds`; the client prints requests/s and the p50, p99
 * and p999 round trips.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from '../src/net/index.ts';
import { integer, parse, silentPeer, startStack, stopSignal, stopStack, str, UsageError } from './lib/app.ts';

export const USAGE = 'mtcp-ts echo server PORT -f mtcp.conf | mtcp-ts echo client IP PORT -f mtcp.conf [-c connections] [-s size] [-t seconds] [--json]';

export async function echo(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    f: { type: 'string' }, c: { type: 'string' }, s: { type: 'string' }, t: { type: 'string' }, json: { type: 'boolean' },
  }, true);
  const role = positionals[0];
  if (role === 'server' && positionals.length === 2) {
    const port = integer(positionals[1], 'PORT', 1, 65535, 0);
    const signal = stopSignal();
    const mctx = startStack(str(values.f), 0);
    try {
      const server = createServer({ mctx }, (s) => {
        s.on('error', () => {});
        s.pipe(s);
      }).listen(port);
      await once(server, 'listening');
      process.stderr.write(`echo: serving on port ${port}\n`);
      await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
      server.close();
    } finally {
      await stopStack(mctx);
    }
    process.stderr.write('echo: stopped\n');
    return 0;
  }
  if (role !== 'client' || positionals.length !== 3) throw new UsageError('expected server PORT, or client IP PORT');
  const host = positionals[1];
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) throw new UsageError(`${host}: expected an IPv4 address`);
  const port = integer(positionals[2], 'PORT', 1, 65535, 0);
  const conns = integer(str(values.c), '-c', 1, 100_000, 1);
  const size = integer(str(values.s), '-s', 1, 1 << 20, 64);
  const seconds = integer(str(values.t), '-t', 1, 86400, 5);
  // The run ends at -t seconds (or on SIGINT, or when a pair stops it), connected or not.
  const run = new AbortController();
  const signal = run.signal;
  stopSignal().addEventListener('abort', () => run.abort(), { once: true });
  const timer = setTimeout(() => run.abort(), seconds * 1000);
  const mctx = startStack(str(values.f), 0);
  const rtts: number[] = [];
  /** Why connections failed, by cause (`connect ECONNREFUSED 198.18.0.1:7`, ...). */
  const causes = new Map<string, number>();
  let errors = 0;
  let connected = 0;
  let elapsed = 0;
  let silence = '';
  try {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: conns }, async () => {
      const s = connect({ mctx, port, host, noDelay: true });
      let up = false;
      try {
        await once(s, 'connect', { signal });
        up = true;
        connected++;
        await pingPong(s, size, signal, rtts);
      } catch (err) {
        errors++;
        const cause = !up && signal.aborted ? 'no connection before the run ended' : (err as Error).message;
        causes.set(cause, (causes.get(cause) ?? 0) + 1);
      } finally {
        s.destroy();
      }
    }));
    elapsed = (performance.now() - t0) / 1000;
    if (connected === 0) silence = silentPeer(mctx, host);
  } finally {
    clearTimeout(timer);
    await stopStack(mctx);
  }
  rtts.sort((a, b) => a - b);
  const pct = (p: number): number => (rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor((p / 100) * rtts.length))] : 0);
  const summary = {
    connections: conns, size, requests: rtts.length, seconds: elapsed, requestsPerSecond: rtts.length / elapsed,
    p50Us: pct(50) * 1000, p99Us: pct(99) * 1000, p999Us: pct(99.9) * 1000, errors, errorCauses: Object.fromEntries(causes),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(`[ TOTAL ] ${summary.requests} round trips of ${size} B on ${conns} connections: ${summary.requestsPerSecond.toFixed(0)}/s, ` +
      `p50 ${summary.p50Us.toFixed(0)} us, p99 ${summary.p99Us.toFixed(0)} us, p999 ${summary.p999Us.toFixed(0)} us, errors ${errors}` +
      `${causes.size ? ` (${[...causes].map(([cause, n]) => `${cause}: ${n}`).join(', ')})` : ''}\n`);
  }
  if (silence) process.stderr.write(`echo: ${silence}\n`);
  return errors === 0 ? 0 : 1;
}

/** Send `size` bytes, wait for all of them back, record the round trip (ms); until `signal` aborts (the run's end). */
async function pingPong(s: Socket, size: number, signal: AbortSignal, rtts: number[]): Promise<void> {
  const msg = Buffer.alloc(size, 0x61);
  let waiting = 0;
  let done: (() => void) | null = null;
  s.on('data', (d: Buffer) => {
    waiting -= d.length;
    if (waiting <= 0 && done) done();
  });
  const closed = once(s, 'close').then(() => Promise.reject(new Error('connection closed')));
  closed.catch(() => {}); // awaited in the race below; a close after the last round trip is no failure
  const ended = new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
  while (!signal.aborted) {
    const t = performance.now();
    waiting = size;
    const back = new Promise<boolean>((r) => (done = () => r(true)));
    s.write(msg);
    if (await Promise.race([back, closed, ended.then(() => false)])) rtts.push(performance.now() - t);
  }
}
