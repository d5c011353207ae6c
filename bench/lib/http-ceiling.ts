/**
 * `http.ceiling`: the http row's node:http workload (the same server app and
 * client, keep-alive) over in-memory duplex pairs in one thread, with no TCP
 * and no event-loop I/O under it: the most requests/s node:http itself can
 * give here, so the ceiling that any transport under it (mtcp-ts's or the
 * kernel's) is measured against.
 */
import http from 'node:http';
import { Duplex } from 'node:stream';
import { httpApp, httpClient } from './http-workload.ts';
import type { WorkloadResult } from './workload.ts';

/**
 * One end of an in-memory connection: what is written arrives at the peer on the next tick (as
 * a real socket's bytes arrive in a later turn), and ending one side ends the peer's reading.
 * The socket methods node:http calls on its connections are no-ops here.
 */
class MemorySocket extends Duplex {
  peer!: MemorySocket;

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    process.nextTick(deliver, this.peer, chunk);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    process.nextTick(deliver, this.peer, null);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.destroy();
    done(err);
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

function deliver(to: MemorySocket, chunk: Buffer | null): void {
  if (!to.destroyed) to.push(chunk);
}

/** An http.Agent whose connections are in-memory pairs, the server's end handed to `server`. */
class MemoryAgent extends http.Agent {
  constructor(readonly server: http.Server, options: http.AgentOptions) {
    super(options);
  }

  override createConnection(): Duplex {
    const client = new MemorySocket();
    const server = new MemorySocket();
    client.peer = server;
    server.peer = client;
    this.server.emit('connection', server);
    return client;
  }
}

/** The http row's client and server app, keep-alive, `concurrency` clients, over in-memory pairs. */
export async function httpCeiling(concurrency: number, durationMs: number): Promise<WorkloadResult> {
  const server = http.createServer(httpApp);
  const agent = new MemoryAgent(server, { keepAlive: true, maxSockets: concurrency });
  try {
    return await httpClient(agent, 'ceiling.invalid', 80, concurrency, durationMs);
  } finally {
    agent.destroy();
    server.closeAllConnections();
  }
}
