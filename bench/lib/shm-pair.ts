/**
 * Runs an mTCP server stack and an mTCP client stack in two pinned worker
 * threads joined by the shm wire (the embedded default), and collects the
 * client's result.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { ShmWire } from '../../src/io/shm.ts';
import { LatencyRecorder, type WorkloadResult, type WorkloadSpec } from './workload.ts';

export const SERVER_IP = '198.18.0.1';
export const CLIENT_IP = '198.18.0.2';
export const BENCH_PORT = 8000;

/** mtcp.conf text for one end of the pair. */
export function pairConf(ip: string, mac: string, buffers: number, connections: number): string {
  return [
    'io = shm',
    'port = shm0',
    `shm0.addr = ${ip}/24`,
    `shm0.mac = ${mac}`,
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
  shm: { wire: unknown; port: 0 | 1 };
  core: number;
  spec: WorkloadSpec;
  serverIp: string;
  mode: 'echo' | 'sink';
}

export interface WorkerReply {
  kind: 'tick' | 'done' | 'error';
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
}

/** The worker entry point, built next to this file's bundle. */
function workerFile(): string {
  return fileURLToPath(new URL('../bench/mtcp-worker.js', import.meta.url));
}

export async function runShmPair(
  spec: WorkloadSpec, mode: 'echo' | 'sink', onTick?: (r: WorkloadResult) => void, workerPath = workerFile(),
): Promise<{ client: WorkloadResult; serverReceived: number; server: ServerCounters }> {
  const bulk = spec.kind === 'bulk';
  const buffers = bulk ? 4 << 20 : 16384;
  const connections = bulk ? 64 : 16384;
  const wire = ShmWire.create({ slots: 4096 }).share();
  const cores = availableParallelism();
  const start = (req: WorkerRequest): Worker => new Worker(workerPath, { workerData: req });
  const server = start({
    role: 'server', confText: pairConf(SERVER_IP, '02:00:c6:12:00:01', buffers, connections), shm: { wire, port: 0 },
    core: 0, spec, serverIp: SERVER_IP, mode,
  });
  const client = start({
    role: 'client', confText: pairConf(CLIENT_IP, '02:00:c6:12:00:02', buffers, connections), shm: { wire, port: 1 },
    core: 1 % cores, spec, serverIp: SERVER_IP, mode,
  });
  const serverDone = new Promise<WorkerReply>((resolve, reject) => {
    server.on('message', (m: WorkerReply) => {
      if (m.kind === 'done') resolve(m);
      if (m.kind === 'error') reject(new Error(`server: ${m.message}`));
    });
    server.on('error', reject);
  });
  const clientDone = new Promise<WorkloadResult>((resolve, reject) => {
    client.on('message', (m: WorkerReply) => {
      if (!m.result) {
        if (m.kind === 'error') reject(new Error(`client: ${m.message}`));
        return;
      }
      const r: WorkloadResult = { ...m.result, latency: LatencyRecorder.from(m.result.latency) };
      if (m.kind === 'tick') onTick?.(r);
      if (m.kind === 'done') resolve(r);
    });
    client.on('error', reject);
  });
  try {
    const result = await clientDone;
    server.postMessage('stop');
    const done = await serverDone;
    return { client: result, serverReceived: done.received ?? 0, server: done.server! };
  } finally {
    await Promise.all([client.terminate(), server.terminate()]);
  }
}
