/**
 * perf: bulk transfer, a sender and a receiver.
 *   mtcp-ts perf recv IP PORT SECONDS -f mtcp.conf    listen on IP:PORT, receive for SECONDS from the first connection
 *   mtcp-ts perf send IP PORT SECONDS -f mtcp.conf    connect to IP:PORT and send for SECONDS
 * Both print Mbit/s every second and a total at the end (JSON with --json).
 * One connection runs on one core: perf refuses a config with num_cores above
 * 1 unless -N 1 says to run it on one core.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from '../src/net/index.ts';
import { announceListening, coreCount, integer, parse, startStack, stopSignal, stopStack, str, UsageError } from './lib/app.ts';

export const USAGE = 'mtcp-ts perf send|recv IP PORT SECONDS -f mtcp.conf [-N 1] [--json]';

const CHUNK = Buffer.alloc(256 * 1024, 0x5a);

export async function perf(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { f: { type: 'string' }, N: { type: 'string' }, json: { type: 'boolean' } }, true);
  const cores = coreCount(str(values.N), str(values.f));
  if (cores > 1) {
    throw new UsageError(values.N !== undefined ? `-N ${cores}: perf moves one connection, which one core carries; -N must be 1`
      : `${str(values.f)} sets num_cores = ${cores}, but perf moves one connection, which one core carries: run it with -N 1`);
  }
  if (positionals.length !== 4 || (positionals[0] !== 'send' && positionals[0] !== 'recv')) {
    throw new UsageError('expected send|recv IP PORT SECONDS');
  }
  const [mode, host] = positionals;
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) throw new UsageError(`${host}: expected an IPv4 address`);
  const port = integer(positionals[2], 'PORT', 1, 65535, 0);
  const seconds = integer(positionals[3], 'SECONDS', 1, 86400, 0);
  const signal = stopSignal();
  const mctx = startStack(str(values.f), 0, 1);
  let bytes = 0;
  let elapsed = 0;
  try {
    const meter = new Meter(mode, values.json === true);
    if (mode === 'recv') {
      const server = createServer({ mctx }).listen(port, host);
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e as Error))]);
      process.stderr.write(`perf: receiving on ${host}:${port}\n`);
      announceListening();
      const [sock] = await Promise.race([once(server, 'connection') as Promise<[Socket]>, aborted(signal)]) ?? [];
      if (sock) {
        sock.on('data', (d: Buffer) => meter.add(d.length));
        sock.on('error', () => {});
        // The sender's end, or the time is up (then the connection is cut).
        await Promise.race([closed(sock), delay(seconds * 1000), aborted(signal)]);
        if (!sock.destroyed) sock.destroy();
      }
      server.close();
    } else {
      const sock = connect({ mctx, port, host });
      let failure: Error | null = null;
      sock.on('error', (e: Error) => (failure = e));
      await Promise.race([once(sock, 'connect'), closed(sock)]);
      if (failure) throw new UsageError(`cannot send to ${host}:${port}: ${(failure as Error).message}`);
      const until = performance.now() + seconds * 1000;
      while (performance.now() < until && !signal.aborted && !sock.destroyed) {
        if (!sock.write(CHUNK)) await Promise.race([once(sock, 'drain'), delay(100)]);
        meter.add(0);
        meter.sent(CHUNK.length);
      }
      sock.end();
      await Promise.race([closed(sock), delay(2000)]);
    }
    ({ bytes, elapsed } = meter.finish());
  } finally {
    await stopStack(mctx);
  }
  const mbps = elapsed > 0 ? (bytes * 8) / elapsed / 1e6 : 0;
  if (values.json) process.stdout.write(`${JSON.stringify({ mode, bytes, seconds: elapsed, mbps })}\n`);
  else process.stdout.write(`[ TOTAL ] ${mode}: ${(bytes / 1e6).toFixed(1)} MB in ${elapsed.toFixed(2)} s, ${mbps.toFixed(1)} Mbit/s\n`);
  return 0;
}

/** Counts bytes and prints Mbit/s once a second. */
class Meter {
  #bytes = 0;
  #second = 0;
  #start = 0;
  #next = 0;
  constructor(readonly mode: string, readonly quiet: boolean) {}

  add(n: number): void {
    const now = performance.now();
    if (this.#start === 0) {
      this.#start = now;
      this.#next = now + 1000;
    }
    if (this.mode === 'recv') {
      this.#bytes += n;
      this.#second += n;
    }
    if (now >= this.#next) {
      if (!this.quiet) process.stderr.write(`perf ${this.mode}: ${((this.#second * 8) / 1e6).toFixed(1)} Mbit/s\n`);
      this.#second = 0;
      this.#next += 1000;
    }
  }

  sent(n: number): void {
    this.#bytes += n;
    this.#second += n;
  }

  finish(): { bytes: number; elapsed: number } {
    // The last, partial second, at its own length.
    const part = (performance.now() - (this.#next - 1000)) / 1000;
    if (!this.quiet && this.#start && part > 0) process.stderr.write(`perf ${this.mode}: ${((this.#second * 8) / part / 1e6).toFixed(1)} Mbit/s\n`);
    return { bytes: this.#bytes, elapsed: this.#start ? (performance.now() - this.#start) / 1000 : 0 };
  }
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Resolves on 'close' (events.once would reject on an 'error' first). */
const closed = (s: Socket): Promise<void> => new Promise((r) => s.once('close', () => r()));
const aborted = (signal: AbortSignal): Promise<undefined> =>
  new Promise((r) => (signal.aborted ? r(undefined) : signal.addEventListener('abort', () => r(undefined), { once: true })));
