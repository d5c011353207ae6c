/**
 * `npm run bench`: the three workloads over mtcp-ts's shm wire (server and
 * client stacks in two pinned worker threads), then over node:net on loopback
 * (server in a child process), side by side in one run, with the ratios.
 * Results also go to bench/results/latest.json.
 *
 * Flags: --seconds N (per workload, default 5), --only short|pingpong|bulk.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runShmPair } from './lib/shm-pair.ts';
import { netClient } from './lib/net-workload.ts';
import type { WorkloadResult, WorkloadSpec } from './lib/workload.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
if (!(seconds > 0)) {
  process.stderr.write('usage: bench/run [--seconds N] [--only short|pingpong|bulk]\n');
  process.exit(2);
}

interface Case {
  name: 'short' | 'pingpong' | 'bulk';
  title: string;
  spec: WorkloadSpec;
  mode: 'echo' | 'sink';
  /** The figure compared, from the client's result and the bytes the server received. */
  metric: (r: WorkloadResult, serverReceived: number) => number;
  unit: string;
}

const ms = seconds * 1000;
const CASES: Case[] = [
  {
    name: 'short', title: 'short connections (connect, 64 B request, 64 B reply, close; 64 at a time)',
    spec: { kind: 'short', concurrency: 64, messageSize: 64, durationMs: ms, requestsPerConnection: 1 },
    mode: 'echo', metric: (r) => r.connections / r.seconds, unit: 'connections/s',
  },
  {
    name: 'pingpong', title: 'ping-pong, 64 connections, 64 B',
    spec: { kind: 'pingpong', concurrency: 64, messageSize: 64, durationMs: ms, requestsPerConnection: 0 },
    mode: 'echo', metric: (r) => r.requests / r.seconds, unit: 'round trips/s',
  },
  {
    name: 'bulk', title: 'one bulk stream, 256 KiB writes',
    spec: { kind: 'bulk', concurrency: 1, messageSize: 0, durationMs: ms, requestsPerConnection: 0 },
    mode: 'sink', metric: (r, received) => (received * 8) / r.seconds / 1e9, unit: 'Gbit/s (received)',
  },
];

/** Bytes the node:net server child received so far. */
function netReceived(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: { received: number }) => resolve(m.received));
    child.send('stats');
  });
}

function startNetServer(mode: 'echo' | 'sink'): Promise<{ child: ChildProcess; port: number }> {
  const file = fileURLToPath(new URL('./net-server.js', import.meta.url));
  const child = fork(file, [mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`node:net server exited with ${code}`)));
  });
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

const results: Record<string, unknown> = { date: new Date().toISOString(), seconds, node: process.version, cases: {} };
for (const c of CASES) {
  if (values.only && values.only !== c.name) continue;
  process.stdout.write(`\n${c.title}\n`);
  const shm = await runShmPair(c.spec, c.mode);
  const shmValue = c.metric(shm.client, shm.serverReceived);
  const srv = await startNetServer(c.mode);
  let net: WorkloadResult;
  let netServerReceived: number;
  try {
    net = await netClient('127.0.0.1', srv.port, c.spec);
    netServerReceived = await netReceived(srv.child);
  } finally {
    srv.child.kill('SIGTERM');
  }
  const netValue = c.metric(net, netServerReceived);
  const ratio = shmValue / netValue;
  const row = (label: string, r: WorkloadResult, v: number): string =>
    `  ${label.padEnd(16)} ${fmt(v).padStart(12)} ${c.unit}   p50 ${r.latency.percentile(50).toFixed(3)} ms   p99 ${r.latency.percentile(99).toFixed(3)} ms   errors ${r.errors}\n`;
  process.stdout.write(row('mtcp-ts (shm)', shm.client, shmValue));
  const sv = shm.server;
  process.stdout.write(`  (server stack's own counters: ${sv.passiveOpens} connections accepted, ${sv.rxFrames} frames in, ` +
    `${sv.txFrames} out, ${sv.retransmits} retransmitted, ${sv.drops} dropped)\n`);
  process.stdout.write(row('node:net', net, netValue));
  process.stdout.write(`  ratio            ${ratio.toFixed(2)}x\n`);
  (results.cases as Record<string, unknown>)[c.name] = {
    unit: c.unit,
    mtcp: { value: shmValue, errors: shm.client.errors, p50: shm.client.latency.percentile(50), p99: shm.client.latency.percentile(99) },
    net: { value: netValue, errors: net.errors, p50: net.latency.percentile(50), p99: net.latency.percentile(99) },
    ratio,
  };
}
const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}latest.json`, JSON.stringify(results, null, 2) + '\n');
process.stdout.write(`\nresults: bench/results/latest.json\n`);
