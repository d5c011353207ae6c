/**
 * The `netecho` and `latency` workloads through the node:net face: one echo
 * server and one ping-pong client, written as a fast Node program is (a
 * handler per connection, bound once; no promise, closure or buffer per round
 * trip), and run unchanged over `mtcp-ts/net` (server and client in two
 * worker threads on the shm wire, bench/netecho-worker.ts) and over node:net
 * (server in a child process, bench/netecho-server.ts, client here).
 */
import { fork } from 'node:child_process';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { builtFile } from '../../src/mtcp/cores.ts';
import { runShmPair, type PairResult } from './shm-pair.ts';
import { LatencyRecorder, type WorkloadResult, type WorkloadSpec } from './workload.ts';

let echoed = 0;

/** Payload bytes the echo servers of this thread received. */
export function echoedBytes(): number {
  return echoed;
}

/** The server's connection listener: every chunk goes straight back (`this` is the socket). */
export function echoConnection(sock: Duplex): void {
  sock.on('data', echoChunk);
  sock.on('error', destroySelf);
}

function echoChunk(this: Duplex, chunk: Buffer): void {
  echoed += chunk.length;
  this.write(chunk);
}

function destroySelf(this: Duplex): void {
  this.destroy();
}

/** Opens one client connection (node:net's or mtcp-ts/net's `connect`, with noDelay). */
export type Connect = () => Duplex;

/** The whole run: what every connection shares. */
class PingPongRun {
  readonly latency = new LatencyRecorder();
  readonly result: WorkloadResult = { connections: 0, requests: 0, bytes: 0, errors: 0, seconds: 0, latency: this.latency };
  readonly message: Buffer;
  readonly connections = new Set<PingPongConnection>();
  running = true;

  constructor(readonly connect: Connect, size: number) {
    this.message = Buffer.alloc(size, 0x61);
  }

  open(): void {
    if (this.running) this.connections.add(new PingPongConnection(this));
  }
}

/** One connection: send the message, wait for all of it back, record the round trip, again. */
class PingPongConnection {
  readonly #run: PingPongRun;
  readonly #sock: Duplex;
  #started = 0;
  #awaited = 0;
  #closed = false;

  constructor(run: PingPongRun) {
    this.#run = run;
    this.#sock = run.connect();
    this.#sock.on('connect', this.#send);
    this.#sock.on('data', this.#onData);
    this.#sock.on('error', this.#onError);
    this.#sock.on('close', this.#onClose);
  }

  readonly #send = (): void => {
    this.#awaited = this.#run.message.length;
    this.#started = performance.now();
    this.#sock.write(this.#run.message);
  };

  readonly #onData = (chunk: Buffer): void => {
    const run = this.#run;
    run.result.bytes += chunk.length;
    this.#awaited -= chunk.length;
    if (this.#awaited > 0 || !run.running) return;
    run.result.requests++;
    run.latency.record(performance.now() - this.#started);
    this.#send();
  };

  readonly #onError = (): void => {
    this.#close(true);
  };

  readonly #onClose = (): void => {
    this.#close(this.#run.running); // the server closed first
  };

  #close(error: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    const run = this.#run;
    run.connections.delete(this);
    if (error) run.result.errors++;
    this.#sock.destroy();
    run.open(); // while the run lasts, keep `concurrency` connections open
  }

  /** End of the run. */
  stop(): void {
    this.#closed = true;
    this.#sock.destroy();
  }
}

/** `concurrency` connections ping-ponging `messageSize` bytes for `durationMs`. */
export async function pingPongClient(connect: Connect, spec: WorkloadSpec): Promise<WorkloadResult> {
  const run = new PingPongRun(connect, spec.messageSize);
  const t0 = performance.now();
  for (let i = 0; i < spec.concurrency; i++) run.open();
  await new Promise((resolve) => setTimeout(resolve, spec.durationMs));
  run.running = false;
  run.result.seconds = (performance.now() - t0) / 1000;
  for (const c of run.connections) c.stop();
  run.connections.clear();
  return run.result;
}

/** Through mtcp-ts/net on both ends: two worker threads joined by the shm wire. */
export function pingPongOverMtcpNet(spec: WorkloadSpec): Promise<PairResult> {
  return runShmPair(spec, 'echo', undefined, fileURLToPath(builtFile(import.meta.url, 'bench/netecho-worker.js')));
}

/** The same client here, over node:net, against the same echo server in a child process. */
export async function pingPongOverNodeNet(spec: WorkloadSpec): Promise<WorkloadResult> {
  const child = fork(fileURLToPath(builtFile(import.meta.url, 'bench/netecho-server.js')), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`node:net echo server exited with ${code}`)));
    });
    return await pingPongClient(() => net.connect({ host: '127.0.0.1', port, noDelay: true }), spec);
  } finally {
    child.kill('SIGTERM');
  }
}
