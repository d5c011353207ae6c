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
  const signal = stopSignal();
  const mctx = startStack(str(values.f), 0);
  let run: EchoRun;
  let silence = '';
  try {
    run = new EchoRun(conns, size, performance.now() + seconds * 1000, signal, () => connect({ mctx, port, host, noDelay: true }));
    await run.finished;
    if (run.connected === 0) silence = silentPeer(mctx, host);
  } finally {
    await stopStack(mctx);
  }
  const rtts = run.roundTrips();
  const pct = (p: number): number => (rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor((p / 100) * rtts.length))] : 0);
  const summary = {
    connections: conns, size, requests: rtts.length, seconds: run.seconds, requestsPerSecond: rtts.length / run.seconds,
    p50Us: pct(50) * 1000, p99Us: pct(99) * 1000, p999Us: pct(99.9) * 1000, errors: run.errors, errorCauses: Object.fromEntries(run.causes),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(`[ TOTAL ] ${summary.requests} round trips of ${size} B on ${conns} connections: ${summary.requestsPerSecond.toFixed(0)}/s, ` +
      `p50 ${summary.p50Us.toFixed(0)} us, p99 ${summary.p99Us.toFixed(0)} us, p999 ${summary.p999Us.toFixed(0)} us, errors ${run.errors}` +
      `${run.causes.size ? ` (${[...run.causes].map(([cause, n]) => `${cause}: ${n}`).join(', ')})` : ''}\n`);
  }
  if (silence) process.stderr.write(`echo: ${silence}\n`);
  return run.errors === 0 ? 0 : 1;
}

/**
 * The client's connections until the deadline or the stop signal; then every connection ends, connected
 * or not. Each connection's handlers are bound once; a round trip allocates no promise, closure or buffer
 * (the message is shared and the round trips go to a growing Float64Array).
 */
class EchoRun {
  readonly message: Buffer;
  /** Resolves once every connection has ended. */
  readonly finished: Promise<void>;
  errors = 0;
  /** Failed connections by cause (`connect ECONNREFUSED 198.18.0.1:7`, `no connection before the run ended`, ...). */
  readonly causes = new Map<string, number>();
  /** Connections that were established. */
  connected = 0;
  seconds = 0;
  readonly #connections: EchoConnection[] = [];
  readonly #deadline: NodeJS.Timeout;
  #rtts = new Float64Array(1 << 16);
  #count = 0;
  #open: number;
  #resolve!: () => void;
  readonly #t0 = performance.now();

  constructor(connections: number, size: number, readonly until: number, readonly signal: AbortSignal, readonly connect: () => Socket) {
    this.message = Buffer.alloc(size, 0x61);
    this.finished = new Promise((resolve) => (this.#resolve = resolve));
    this.#open = connections;
    for (let i = 0; i < connections; i++) this.#connections.push(new EchoConnection(this));
    // A connection still connecting when the run ends (its peer never answered) ends then too.
    const stop = (): void => {
      for (const c of this.#connections) c.stop();
    };
    this.#deadline = setTimeout(stop, until - performance.now());
    signal.addEventListener('abort', stop, { once: true });
  }

  /** Round trip in ms. */
  record(ms: number): void {
    if (this.#count === this.#rtts.length) {
      const grown = new Float64Array(this.#rtts.length * 2);
      grown.set(this.#rtts);
      this.#rtts = grown;
    }
    this.#rtts[this.#count++] = ms;
  }

  /** A connection ended: on an error or before the deadline when `cause` says why, else at the run's end. */
  ended(cause: string): void {
    if (cause) {
      this.errors++;
      this.causes.set(cause, (this.causes.get(cause) ?? 0) + 1);
    }
    if (--this.#open > 0) return;
    clearTimeout(this.#deadline);
    this.seconds = (performance.now() - this.#t0) / 1000;
    this.#resolve();
  }

  /** The round trips in ms, sorted. */
  roundTrips(): Float64Array {
    return this.#rtts.subarray(0, this.#count).sort();
  }
}

/** Send the message, wait for all of it back, record the round trip; again until the run ends. */
class EchoConnection {
  readonly #run: EchoRun;
  readonly #sock: Socket;
  #started = 0;
  #awaited = 0;
  #connected = false;
  #done = false;

  constructor(run: EchoRun) {
    this.#run = run;
    this.#sock = run.connect();
    this.#sock.on('connect', this.#onConnect);
    this.#sock.on('data', this.#onData);
    this.#sock.on('error', this.#onError);
    this.#sock.on('close', this.#onClose);
  }

  /** The run is over: end now, a failure only if it never connected. */
  stop(): void {
    this.#end(this.#connected ? '' : 'no connection before the run ended');
  }

  readonly #onConnect = (): void => {
    this.#connected = true;
    this.#run.connected++;
    this.#send();
  };

  readonly #send = (): void => {
    this.#awaited = this.#run.message.length;
    this.#started = performance.now();
    this.#sock.write(this.#run.message);
  };

  readonly #onData = (chunk: Buffer): void => {
    this.#awaited -= chunk.length;
    if (this.#awaited > 0) return;
    const now = performance.now();
    const run = this.#run;
    run.record(now - this.#started);
    if (now < run.until && !run.signal.aborted) this.#send();
    else this.#end('');
  };

  readonly #onError = (err: Error): void => this.#end(err.message);

  /** Closed by the server before the run ended. */
  readonly #onClose = (): void => this.#end('closed by the server');

  #end(cause: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#sock.destroy();
    this.#run.ended(cause);
  }
}
