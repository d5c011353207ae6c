/**
 * Cores that add up: short connections with N server cores and N client
 * cores on the shm wire (N queues per side), each core a pinned worker
 * thread on a CPU of its own (server cores on CPUs 0..N-1, client cores on
 * N..2N-1), for each N asked for (`--cores 1,2,4,...`). Every client core runs
 * the same workload (64 connections at a time) from its own context, so the
 * total rate is what N pairs of cores do, not what one client can send. Each
 * core reports the frames it handled and the CPU time its thread used:
 * frames per CPU-second is the per-core budget, a figure that does not
 * depend on how many CPUs the host has free. A count whose 2N cores exceed
 * the CPUs is skipped and says so: cores sharing a CPU measure the sharing,
 * not the stack.
 */
import { availableParallelism } from 'node:os';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { ShmWire } from '../../src/io/shm.ts';
import { builtFile, runOnCores } from '../../src/mtcp/cores.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import type { CoreClientData, CoreClientResult } from '../cores-client.ts';
import type { CoreServerResult } from '../cores-server.ts';
import { BENCH_PORT, CLIENT_IP, pairConf, SERVER_IP } from './shm-pair.ts';
import { LatencyRecorder, type WorkloadSpec } from './workload.ts';

/** One core's share of a run. */
export interface CoreFigures {
  core: number;
  cpu: number;
  /** Connections it accepted (server) or completed (client). */
  connections: number;
  framesIn: number;
  framesOut: number;
  cpuSeconds: number;
  framesPerCpuSecond: number;
  retransmits: number;
  drops: number;
}

export interface CoresRun {
  cores: number;
  connectionsPerSecond: number;
  errors: number;
  p50: number;
  p99: number;
  server: CoreFigures[];
  client: CoreFigures[];
}

export interface CoresComparison {
  unit: 'connections/s';
  cpus: number;
  runs: CoresRun[];
  /** Core counts not run, and why. */
  skipped: { cores: number; reason: string }[];
  /** Each run's rate over the 1-core rate, divided by its core count (1.0: linear); only when 1 core ran. */
  efficiency: { cores: number; value: number }[];
}

/** A hex core_mask of `count` CPUs from `first` on. */
function mask(first: number, count: number): string {
  return `0x${((2 ** count - 1) * 2 ** first).toString(16)}`;
}

export async function runCoresBench(cores: number, spec: WorkloadSpec): Promise<CoresRun> {
  const connections = 16384;
  const wire = ShmWire.create({ queues: [cores, cores], slots: 4096 }).share();
  const conf = (ip: string, mac: string, firstCpu: number): string =>
    `${pairConf(ip, mac, 16384, connections)}\nnum_cores = ${cores}\ncore_mask = ${mask(firstCpu, cores)}`;
  const serverRuntime = new MtcpRuntime(parseMtcpConf(conf(SERVER_IP, '02:00:c6:12:00:01', 0), '<bench server>'), { shm: { wire, port: 0 } });
  const server = runOnCores(serverRuntime, builtFile(import.meta.url, 'bench/cores-server.js'), { data: { port: BENCH_PORT }, sigint: false });
  try {
    await server.ready;
    const clientRuntime = new MtcpRuntime(parseMtcpConf(conf(CLIENT_IP, '02:00:c6:12:00:02', cores), '<bench client>'), { shm: { wire, port: 1 } });
    const data: CoreClientData = { spec, serverIp: SERVER_IP, port: BENCH_PORT };
    const client = runOnCores(clientRuntime, builtFile(import.meta.url, 'bench/cores-client.js'), { data, sigint: false });
    const clients = (await client.done) as CoreClientResult[];
    server.stop();
    const servers = (await server.done) as CoreServerResult[];
    const latency = LatencyRecorder.from(Float64Array.from(clients.flatMap((c) => [...c.result.latency])));
    const figures = (core: number, cpu: number, n: number, c: Omit<CoreServerResult, 'core' | 'accepted'>): CoreFigures => ({
      core, cpu, connections: n, framesIn: c.framesIn, framesOut: c.framesOut, cpuSeconds: c.cpuSeconds,
      framesPerCpuSecond: (c.framesIn + c.framesOut) / c.cpuSeconds, retransmits: c.retransmits, drops: c.drops,
    });
    return {
      cores,
      connectionsPerSecond: clients.reduce((n, c) => n + c.result.connections / c.result.seconds, 0),
      errors: clients.reduce((n, c) => n + c.result.errors, 0),
      p50: latency.percentile(50), p99: latency.percentile(99),
      server: servers.map((s) => figures(s.core, s.core, s.accepted, s)),
      client: clients.map((c) => figures(c.core, cores + c.core, c.result.connections, c)),
    };
  } finally {
    server.stop();
  }
}

/** Run every core count that fits the machine, print each core's figures, and the scaling when more than one ran. */
export async function coresComparison(counts: number[], spec: WorkloadSpec, write: (text: string) => void): Promise<CoresComparison> {
  const cpus = availableParallelism();
  const out: CoresComparison = { unit: 'connections/s', cpus, runs: [], skipped: [], efficiency: [] };
  for (const n of counts) {
    if (2 * n > cpus) {
      const reason = `${n} server + ${n} client cores need ${2 * n} CPUs, this machine has ${cpus}`;
      out.skipped.push({ cores: n, reason });
      write(`  ${n} + ${n} cores   skipped: ${reason} (cores sharing a CPU would measure the sharing, not the stack)\n`);
      continue;
    }
    const r = await runCoresBench(n, spec);
    out.runs.push(r);
    write(`  ${n} + ${n} core${n > 1 ? 's' : ' '}   ${Math.round(r.connectionsPerSecond).toLocaleString('en-US').padStart(10)} connections/s in all   ` +
      `p50 ${r.p50.toFixed(3)} ms   p99 ${r.p99.toFixed(3)} ms   errors ${r.errors}\n`);
    for (const [role, list] of [['server', r.server], ['client', r.client]] as const) {
      for (const c of list) {
        write(`    ${role} core ${c.core} (CPU ${c.cpu}): ${c.connections} connections, ${c.framesIn} frames in, ${c.framesOut} out, ` +
          `${c.cpuSeconds.toFixed(2)} CPU s, ${Math.round(c.framesPerCpuSecond).toLocaleString('en-US')} frames per CPU-second, ` +
          `${c.retransmits} retransmitted, ${c.drops} dropped\n`);
      }
    }
  }
  const one = out.runs.find((r) => r.cores === 1);
  const more = out.runs.filter((r) => r.cores > 1);
  if (one && more.length > 0) {
    for (const r of more) {
      const value = r.connectionsPerSecond / one.connectionsPerSecond / r.cores;
      out.efficiency.push({ cores: r.cores, value });
      write(`  ${r.cores} + ${r.cores} cores / (${r.cores} x 1 + 1)   ${value.toFixed(2)} (1.00: every core adds a whole core's rate)\n`);
    }
  } else {
    write(`  no scaling ratio: ${more.length === 0 ? 'only one core count ran' : 'the 1 + 1 run did not run'} on this ${cpus}-CPU machine\n`);
  }
  return out;
}
