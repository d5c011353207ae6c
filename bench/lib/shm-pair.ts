/**
 * Runs an mTCP server stack and an mTCP client stack on two pinned cores and
 * collects the client's result: in two worker threads joined by the shm wire
 * (the embedded default), or in two processes joined by DPDK's memif device.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { shmSlotSizeFor, ShmWire } from '../../src/io/shm.ts';
import type { CoreLoad } from '../../src/mtcp/thread-cpu.ts';
import { LatencyRecorder, type WorkloadResult, type WorkloadSpec } from './workload.ts';

export const SERVER_IP = '198.18.0.1';
export const CLIENT_IP = '198.18.0.2';
export const BENCH_PORT = 8000;

/** mtcp.conf text for one end of the shm pair. */
export function pairConf(ip: string, mac: string, buffers: number, connections: number, mtu = 1500): string {
  return ['io = shm', 'port = shm0', `shm0.addr = ${ip}/24`, `shm0.mac = ${mac}`, `mtu = ${mtu}`, tuning(buffers, connections)].join('\n');
}

/** mtcp.conf text for one end of the memif pair (the device's own MAC). */
function memifConf(ip: string, role: 'server' | 'client', socket: string, buffers: number, connections: number): string {
  return ['io = dpdk', 'port = m0', `m0.addr = ${ip}/24`, `m0.device = net_memif0,role=${role},socket=${socket},socket-abstract=no,id=0`,
    tuning(buffers, connections)].join('\n');
}

function tuning(buffers: number, connections: number): string {
  return [
    `max_concurrency = ${connections}`,
    `max_num_buffers = ${connections}`,
    `rcvbuf = ${buffers}`,
    `sndbuf = ${buffers}`,
    'tcp_timeout = 30',
    'tcp_timewait = 0',
    'shm_slots = 4096',
  ].join('\n');
}

export interface WorkerRequest {
  role: 'server' | 'client';
  confText: string;
  /** io = shm: the wire and this end's port. */
  shm?: { wire: unknown; port: 0 | 1 };
  core: number;
  spec: WorkloadSpec;
  serverIp: string;
  mode: 'echo' | 'sink';
}

export interface WorkerReply {
  /** ready: the server listens. */
  kind: 'ready' | 'tick' | 'done' | 'error';
  result?: Omit<WorkloadResult, 'latency'> & { latency: Float64Array };
  received?: number;
  /** The server stack's own counters, to cross-check the client's figures. */
  server?: ServerCounters;
  message?: string;
}

export interface ServerCounters {
  passiveOpens: number;
  rxFrames: number;
  txFrames: number;
  drops: number;
  retransmits: number;
  /** The server core's frames and CPU time while it served. */
  load: CoreLoad;
}

/** The worker entry point, built next to this file's bundle. */
function workerFile(): string {
  return fileURLToPath(new URL('../bench/mtcp-worker.js', import.meta.url));
}

/** One side of a pair: a worker thread or a child process running bench/mtcp-worker. */
interface Side {
  onMessage(fn: (m: WorkerReply) => void): void;
  onError(fn: (err: Error) => void): void;
  stop(): void;
  end(): Promise<unknown>;
}

function threadSide(path: string, req: WorkerRequest): Side {
  const w = new Worker(path, { workerData: req });
  return { onMessage: (fn) => w.on('message', fn), onError: (fn) => w.on('error', fn), stop: () => w.postMessage('stop'), end: () => w.terminate() };
}

function processSide(path: string, req: WorkerRequest): Side {
  const c = fork(path, [JSON.stringify(req)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const exited = new Promise((resolve) => c.once('exit', resolve));
  return {
    onMessage: (fn) => c.on('message', fn),
    onError: (fn) => {
      c.on('error', fn);
      c.on('exit', (code) => code !== 0 && fn(new Error(`exited with ${code}`)));
    },
    stop: () => c.send('stop'),
    // The child's stack has stopped by now; its IPC channel keeps it alive until it is told to go.
    end: () => {
      if (c.exitCode === null) c.kill('SIGTERM');
      return exited;
    },
  };
}

function settings(spec: WorkloadSpec): { buffers: number; connections: number } {
  const bulk = spec.kind === 'bulk';
  return { buffers: bulk ? 4 << 20 : 16384, connections: bulk ? 64 : 16384 };
}

/** Two worker threads on the shm wire, with frames of up to `mtu` + 14 bytes. */
export function runShmPair(
  spec: WorkloadSpec, mode: 'echo' | 'sink', onTick?: (r: WorkloadResult) => void, workerPath = workerFile(), mtu = 1500,
): Promise<PairResult> {
  const { buffers, connections } = settings(spec);
  // 64 KiB slots: fewer of them (a 4 MiB window is 64 such frames), 32 MiB a direction.
  const wire = ShmWire.create({ slots: mtu > 9000 ? 512 : 4096, slotSize: shmSlotSizeFor(mtu) }).share();
  return runPair(onTick,
    threadSide(workerPath, {
      role: 'server', confText: pairConf(SERVER_IP, '02:00:c6:12:00:01', buffers, connections, mtu), shm: { wire, port: 0 },
      core: 0, spec, serverIp: SERVER_IP, mode,
    }),
    () => threadSide(workerPath, {
      role: 'client', confText: pairConf(CLIENT_IP, '02:00:c6:12:00:02', buffers, connections, mtu), shm: { wire, port: 1 },
      core: 1 % availableParallelism(), spec, serverIp: SERVER_IP, mode,
    }));
}

/** Two processes, each with its own stack and EAL, joined by a DPDK memif device (needs DPDK). */
export async function runMemifPair(spec: WorkloadSpec, mode: 'echo' | 'sink', workerPath = workerFile()): Promise<PairResult> {
  const { buffers, connections } = settings(spec);
  const dir = mkdtempSync(join(tmpdir(), 'mtcpts-bench-memif-'));
  const socket = join(dir, 'memif.sock');
  try {
    return await runPair(undefined,
      processSide(workerPath, {
        role: 'server', confText: memifConf(SERVER_IP, 'server', socket, buffers, connections), core: 0, spec, serverIp: SERVER_IP, mode,
      }),
      () => processSide(workerPath, {
        role: 'client', confText: memifConf(CLIENT_IP, 'client', socket, buffers, connections), core: 1 % availableParallelism(), spec, serverIp: SERVER_IP, mode,
      }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PairResult {
  client: WorkloadResult;
  serverReceived: number;
  server: ServerCounters;
}

/** Start the client once the server listens, run the workload, stop the server and collect both. */
async function runPair(onTick: ((r: WorkloadResult) => void) | undefined, server: Side, startClient: () => Side): Promise<PairResult> {
  let client: Side | null = null;
  try {
    const serverDone = new Promise<WorkerReply>((resolve, reject) => {
      server.onMessage((m) => {
        if (m.kind === 'done') resolve(m);
        if (m.kind === 'error') reject(new Error(`server: ${m.message}`));
      });
      server.onError(reject);
    });
    await new Promise<void>((resolve, reject) => {
      server.onMessage((m) => m.kind === 'ready' && resolve());
      server.onError(reject);
    });
    const c = (client = startClient());
    const clientDone = new Promise<WorkloadResult>((resolve, reject) => {
      c.onMessage((m) => {
        if (!m.result) {
          if (m.kind === 'error') reject(new Error(`client: ${m.message}`));
          return;
        }
        const r: WorkloadResult = { ...m.result, latency: LatencyRecorder.from(m.result.latency) };
        if (m.kind === 'tick') onTick?.(r);
        if (m.kind === 'done') resolve(r);
      });
      c.onError(reject);
    });
    const result = await clientDone;
    server.stop();
    const done = await serverDone;
    return { client: result, serverReceived: done.received ?? 0, server: done.server! };
  } finally {
    await Promise.all([client?.end(), server.end()]);
  }
}
