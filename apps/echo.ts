/**
 * echo: latency and ping-pong rate.
 *   mtcp-ts echo server PORT -f mtcp.conf [-N cores]
 *   mtcp-ts echo client IP PORT -f mtcp.conf [-N cores] [-c connections] [-s size] [-t seconds] [--json]
 * Each client connection sends `size` bytes, waits for them to come back,
 * and repeats for `seconds`; the client prints requests/s and the p50, p99
 * and p999 round trips. Both run -N cores, or the config's num_cores without
 * -N (as mTCP's apps): with more than one, a pinned worker per core, each
 * server core echoing what RSS brings to its queue, each client core opening
 * an equal share of the connections.
 */
import { once } from 'node:events';
import type { MtcpContext } from '../src/mtcp/context.ts';
import type { CoreEntryOptions } from '../src/mtcp/cores.ts';
import { connect, createServer, type Socket } from '../src/net/index.ts';
import {
  announceListening, coreCount, integer, parse, runAppOnCores, share, silentPeer, startStack, stopSignal, stopStack, str, UsageError,
} from './lib/app.ts';

export const USAGE = 'mtcp-ts echo server PORT -f mtcp.conf [-N cores] | ' +
  'mtcp-ts echo client IP PORT -f mtcp.conf [-N cores] [-c connections] [-s size] [-t seconds] [--json]';

export async function echo(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    f: { type: 'string' }, N: { type: 'string' }, c: { type: 'string' }, s: { type: 'string' }, t: { type: 'string' }, json: { type: 'boolean' },
  }, true);
  const role = positionals[0];
  const cores = coreCount(str(values.N), str(values.f));
  if (role === 'server' && positionals.length === 2) {
    const port = integer(positionals[1], 'PORT', 1, 65535, 0);
    const signal = stopSignal();
    if (cores > 1) {
      const served = (await runAppOnCores(str(values.f), cores, 'echo', 'echoServerCore', { port }, signal, announceListening)) as ServedCore[];
      for (const r of served) process.stderr.write(`echo: [CPU ${r.core}] ${r.accepted} connections accepted\n`);
    } else {
      const mctx = startStack(str(values.f), 0, 1);
      try {
        await serveEcho(mctx, port, signal, '');
      } finally {
        await stopStack(mctx);
      }
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
  let result: ClientResult;
  if (cores > 1) {
    const data: ClientCoreData = { host, port, size, seconds, connections: share(conns, cores) };
    const all = (await runAppOnCores(str(values.f), cores, 'echo', 'echoClientCore', data, signal)) as ClientResult[];
    const rtts = new Float64Array(all.reduce((n, r) => n + r.rtts.length, 0));
    all.reduce((at, r) => (rtts.set(r.rtts, at), at + r.rtts.length), 0);
    const causes: Record<string, number> = {};
    for (const r of all) for (const [cause, n] of Object.entries(r.causes)) causes[cause] = (causes[cause] ?? 0) + n;
    result = {
      rtts: rtts.sort(), errors: all.reduce((n, r) => n + r.errors, 0), causes, silence: all.find((r) => r.silence)?.silence ?? '',
      seconds: Math.max(...all.map((r) => r.seconds)),
    };
  } else {
    const mctx = startStack(str(values.f), 0, 1);
    try {
      result = await pingPongs(mctx, host, port, conns, size, seconds, signal);
    } finally {
      await stopStack(mctx);
    }
  }
  const { rtts, errors, causes } = result;
  const pct = (p: number): number => (rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor((p / 100) * rtts.length))] : 0);
  const summary = {
    connections: conns, size, requests: rtts.length, seconds: result.seconds, requestsPerSecond: rtts.length / result.seconds,
    p50Us: pct(50) * 1000, p99Us: pct(99) * 1000, p999Us: pct(99.9) * 1000, errors, errorCauses: causes,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(`[ TOTAL ] ${summary.requests} round trips of ${size} B on ${conns} connections: ${summary.requestsPerSecond.toFixed(0)}/s, ` +
      `p50 ${summary.p50Us.toFixed(0)} us, p99 ${summary.p99Us.toFixed(0)} us, p999 ${summary.p999Us.toFixed(0)} us, errors ${errors}` +
      `${Object.keys(causes).length ? ` (${Object.entries(causes).map(([cause, n]) => `${cause}: ${n}`).join(', ')})` : ''}\n`);
  }
  if (result.silence) process.stderr.write(`echo: ${result.silence}\n`);
  return errors === 0 ? 0 : 1;
}

/** Echo every connection on `port` until `signal` aborts. */
async function serveEcho(mctx: MtcpContext, port: number, signal: AbortSignal, tag: string): Promise<void> {
  const server = createServer({ mctx }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  }).listen(port);
  await once(server, 'listening');
  process.stderr.write(`echo: ${tag}serving on port ${port}\n`);
  announceListening();
  await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
  server.close();
}

interface ServedCore {
  core: number;
  accepted: number;
}

/** One core of a several-core `echo server` (runOnCores calls it in the core's worker). */
export async function echoServerCore(mctx: MtcpContext, core: number, { signal, data }: CoreEntryOptions): Promise<ServedCore> {
  await serveEcho(mctx, (data as { port: number }).port, signal, `[CPU ${core}] `);
  return { core, accepted: mctx.stack.stats.tcpPassiveOpens };
}

/** What each core of a several-core `echo client` is given: the target, and its share of the connections by core. */
interface ClientCoreData {
  host: string;
  port: number;
  size: number;
  seconds: number;
  connections: number[];
}

/** The round trips (ms, sorted), the connections that failed and why, what the peer's silence means, how long the run took. */
interface ClientResult {
  rtts: Float64Array;
  errors: number;
  causes: Record<string, number>;
  /** Why nothing connected, when nothing did and nothing was heard ('' otherwise). */
  silence: string;
  seconds: number;
}

/** One core of a several-core `echo client`: its share of the connections (runOnCores calls it in the core's worker). */
export function echoClientCore(mctx: MtcpContext, core: number, { signal, data }: CoreEntryOptions): Promise<ClientResult> {
  const d = data as ClientCoreData;
  return pingPongs(mctx, d.host, d.port, d.connections[core], d.size, d.seconds, signal);
}

/** `conns` connections to host:port on `mctx`, each ping-ponging `size` bytes for `seconds`. */
async function pingPongs(
  mctx: MtcpContext, host: string, port: number, conns: number, size: number, seconds: number, signal: AbortSignal,
): Promise<ClientResult> {
  if (conns === 0) return { rtts: new Float64Array(0), errors: 0, causes: {}, silence: '', seconds: 0 };
  const run = new EchoRun(conns, size, performance.now() + seconds * 1000, signal, () => connect({ mctx, port, host, noDelay: true }));
  await run.finished;
  return {
    rtts: run.roundTrips().slice(), errors: run.errors, causes: Object.fromEntries(run.causes),
    silence: run.connected === 0 ? silentPeer(mctx, host) : '', seconds: run.seconds,
  };
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
