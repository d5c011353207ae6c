/**
 * The server on 1 core and on 2 cores, side by side: short connections from
 * one client stack on the shm wire (a pinned worker on the last CPU) to a
 * server whose cores are pinned workers started by runOnCores, each listening
 * on the port and taking the connections RSS brings to its queue. Besides the
 * client's rate, each server core reports the frames it handled and the CPU
 * time its thread used: frames per CPU-second is the per-core packet budget,
 * a figure that does not depend on how many CPUs the host has free.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { ShmWire } from '../../src/io/shm.ts';
import { builtFile, runOnCores } from '../../src/mtcp/cores.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import type { CoreServerResult } from '../cores-server.ts';
import { BENCH_PORT, CLIENT_IP, pairConf, SERVER_IP, type WorkerReply, type WorkerRequest } from './shm-pair.ts';
import { LatencyRecorder, type WorkloadResult, type WorkloadSpec } from './workload.ts';

export interface CoresRun {
  serverCores: number;
  client: WorkloadResult;
  /** Each server core's counters and CPU time. */
  cores: CoreServerResult[];
}

export async function runCoresBench(serverCores: number, spec: WorkloadSpec): Promise<CoresRun> {
  const connections = 16384;
  const wire = ShmWire.create({ queues: [serverCores, 1], slots: 4096 }).share();
  const cfg = parseMtcpConf(`${pairConf(SERVER_IP, '02:00:c6:12:00:01', 16384, connections)}\nnum_cores = ${serverCores}`, '<bench server>');
  const server = runOnCores(new MtcpRuntime(cfg, { shm: { wire, port: 0 } }), builtFile(import.meta.url, 'bench/cores-server.js'), {
    data: { port: BENCH_PORT }, sigint: false,
  });
  await server.ready;
  const req: WorkerRequest = {
    role: 'client', confText: pairConf(CLIENT_IP, '02:00:c6:12:00:02', 16384, connections), shm: { wire, port: 1 },
    core: availableParallelism() - 1, spec, serverIp: SERVER_IP, mode: 'echo',
  };
  const client = new Worker(fileURLToPath(builtFile(import.meta.url, 'bench/mtcp-worker.js')), { workerData: req });
  try {
    const result = await new Promise<WorkloadResult>((resolve, reject) => {
      client.on('message', (m: WorkerReply) => {
        if (m.kind === 'error') reject(new Error(`client: ${m.message}`));
        if (m.kind === 'done' && m.result) resolve({ ...m.result, latency: LatencyRecorder.from(m.result.latency) });
      });
      client.on('error', reject);
    });
    server.stop();
    return { serverCores, client: result, cores: (await server.done) as CoreServerResult[] };
  } finally {
    server.stop();
    await client.terminate();
  }
}
