/**
 * `npm run bench`: each workload over mtcp-ts's shm wire (server and client
 * stacks in two pinned worker threads), over DPDK memif (two processes, when
 * DPDK is installed), then over node:net on loopback (server in a child
 * process), side by side in one run, with the ratios:
 * short connections, ping-pong, bulk, node:http keep-alive requests (and node:https's), and
 * HTTP with a new connection per request (epserver + epwget against node:http);
 * and, as root with DPDK, wrk from the kernel's namespace against epserver on
 * a DPDK af_packet port and against nginx on the same veth, then the same on a DPDK AF_XDP port.
 * Results go to bench/results/latest.json and the chart to bench/results/latest.svg.
 *
 * Then cores that add up (bench/lib/cores-bench.ts): short connections with N server cores and N client
 * cores over shm for each N of --cores that fits the CPUs, with each core's frames per CPU-second.
 *
 * Then the scale bench (bench/lib/scale-bench.ts): N idle connections between two stacks, 1% echo, all closed.
 *
 * Every mtcp-ts row prints its server core's frames per CPU-second (cases.<name>.mtcp.framesPerCpuSecond).
 * Flags: --seconds N (per workload, default 5), --only short|pingpong|bulk|netecho|latency|http|https|epserver|afpacket|afxdp|cores|scale,
 * --connections N (the scale bench, default 1,000,000), --cores 1,2,4,... (the core counts compared, default 1,2,4,8).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderChart, type ChartCase } from './lib/chart.ts';
import { epserverEpwget, httpOverMtcp, httpOverNet, httpShortOverNet } from './lib/http-pair.ts';
import { dpdkUnavailable } from '../src/io/dpdk.ts';
import { afPacketMissing, afPacketWrk, type WrkFigures } from './lib/afpacket-wrk.ts';
import { afXdpBench } from './lib/afxdp-bench.ts';
import { runMemifPair, runShmPair, type PairResult } from './lib/shm-pair.ts';
import { coresComparison } from './lib/cores-bench.ts';
import { runScaleBench } from './lib/scale-bench.ts';
import { netClient } from './lib/net-workload.ts';
import { coreLoadLine, latencyRow, netEchoRow } from './lib/ping-pong-rows.ts';
import { httpCeiling } from './lib/http-ceiling.ts';
import { httpsRow } from './lib/https-pair.ts';
import type { WorkloadResult, WorkloadSpec } from './lib/workload.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    only: { type: 'string' },
    connections: { type: 'string', default: '1000000' },
    cores: { type: 'string', default: '1,2,4,8' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const coreCounts = values.cores.split(',').map(Number);
if (!(seconds > 0) || !Number.isInteger(connections) || connections < 1 || !coreCounts.every((n) => Number.isInteger(n) && n >= 1 && n <= 64)) {
  process.stderr.write('usage: bench/run [--seconds N] [--only short|pingpong|bulk|netecho|latency|http|https|epserver|afpacket|afxdp|cores|scale] [--connections N] [--cores 1,2,4,...]\n');
  process.exit(2);
}

interface Case {
  name: 'short' | 'pingpong' | 'bulk' | 'bulk.1500';
  /** The shm wire's mtu (default 1500; memif carries no more). */
  mtu?: number;
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
    name: 'bulk', title: 'one bulk stream, 256 KiB writes, 64 KiB frames (mtu 65535 on shm, as on loopback)', mtu: 65535,
    spec: { kind: 'bulk', concurrency: 1, messageSize: 0, durationMs: ms, requestsPerConnection: 0 },
    mode: 'sink', metric: (r, received) => (received * 8) / r.seconds / 1e9, unit: 'Gbit/s (received)',
  },
  {
    name: 'bulk.1500', title: 'one bulk stream, 256 KiB writes, 1500-byte frames',
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
const chart: ChartCase[] = [];
for (const c of CASES) {
  if (values.only && values.only !== c.name.split('.')[0]) continue;
  process.stdout.write(`\n${c.title}\n`);
  const shm = await runShmPair(c.spec, c.mode, undefined, undefined, c.mtu);
  const shmValue = c.metric(shm.client, shm.serverReceived);
  const noDpdk = c.mtu ? `memif frames are mbufs of 2048 bytes (mtu ${c.mtu})` : dpdkUnavailable();
  const memif: PairResult | null = noDpdk ? null : await runMemifPair(c.spec, c.mode);
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
    `${sv.txFrames} out, ${sv.retransmits} retransmitted, ${sv.drops} dropped)\n${coreLoadLine(sv.load)}\n`);
  const memifValue = memif ? c.metric(memif.client, memif.serverReceived) : 0;
  if (memif) process.stdout.write(`${row('mtcp-ts (memif)', memif.client, memifValue)}${coreLoadLine(memif.server.load)}\n`);
  else process.stdout.write(`  mtcp-ts (memif)  skipped: ${noDpdk}\n`);
  process.stdout.write(row('node:net', net, netValue));
  process.stdout.write(`  ratio            ${ratio.toFixed(2)}x (shm)${memif ? `, ${(memifValue / netValue).toFixed(2)}x (memif)` : ''}\n`);
  const figures = (r: WorkloadResult, value: number): Record<string, number> =>
    ({ value, errors: r.errors, p50: r.latency.percentile(50), p99: r.latency.percentile(99) });
  (results.cases as Record<string, unknown>)[c.name] = {
    unit: c.unit,
    mtcp: { ...figures(shm.client, shmValue), framesPerCpuSecond: sv.load.framesPerCpuSecond },
    ...(memif ? { memif: { ...figures(memif.client, memifValue), framesPerCpuSecond: memif.server.load.framesPerCpuSecond }, memifRatio: memifValue / netValue } : {}),
    net: figures(net, netValue),
    ratio,
  };
  chart.push({ title: c.name === 'bulk' ? 'bulk, 64 KiB frames' : c.name === 'bulk.1500' ? 'bulk, 1500-byte frames' : c.name === 'short' ? 'short connections, 64 B' : 'ping-pong, 64 B', unit: c.unit, mtcp: shmValue, net: netValue });
}

type CaseEntry = { mtcp: { value: number } };
if (!values.only || values.only === 'netecho') {
  const row = await netEchoRow(ms, (results.cases as Record<string, CaseEntry | undefined>).pingpong?.mtcp.value);
  (results.cases as Record<string, unknown>).netecho = row.entry;
  chart.push(row.chart);
}

if (!values.only || values.only === 'latency') (results.cases as Record<string, unknown>).latency = (await latencyRow(ms)).entry;

if (!values.only || values.only === 'http') {
  process.stdout.write('\nnode:http, 64 clients, GET requests back to back on keep-alive connections\n');
  const m = await httpOverMtcp(64, ms);
  const n = await httpOverNet(64, ms);
  const ceiling = await httpCeiling(64, ms);
  const mv = m.requests / m.seconds;
  const nv = n.requests / n.seconds;
  const cv = ceiling.requests / ceiling.seconds;
  const row = (label: string, r: WorkloadResult, v: number): string =>
    `  ${label.padEnd(16)} ${fmt(v).padStart(12)} requests/s   p50 ${r.latency.percentile(50).toFixed(3)} ms   p99 ${r.latency.percentile(99).toFixed(3)} ms   errors ${r.errors}\n`;
  process.stdout.write(`${row('mtcp-ts (shm)', m, mv)}${coreLoadLine(m.server)}\n`);
  process.stdout.write(row('node:net', n, nv));
  process.stdout.write(row('no TCP (ceiling)', ceiling, cv));
  process.stdout.write(`  ratio            ${(mv / nv).toFixed(2)}x; mtcp-ts / ceiling ${(mv / cv).toFixed(2)}\n`);
  (results.cases as Record<string, unknown>).http = {
    unit: 'requests/s',
    mtcp: { value: mv, errors: m.errors, p50: m.latency.percentile(50), p99: m.latency.percentile(99), framesPerCpuSecond: m.server.framesPerCpuSecond },
    net: { value: nv, errors: n.errors, p50: n.latency.percentile(50), p99: n.latency.percentile(99) },
    ratio: mv / nv,
    ceiling: cv,
    ceilingRatio: mv / cv,
  };
  chart.push({ title: 'node:http, keep-alive', unit: 'requests/s', mtcp: mv, net: nv });
}

if (!values.only || values.only === 'https') {
  const row = await httpsRow(ms);
  if (row) {
    (results.cases as Record<string, unknown>).https = row.entry;
    chart.push(row.chart);
  }
}

if (!values.only || values.only === 'epserver') {
  process.stdout.write('\nHTTP, a new connection per request, 64 at a time: epserver + epwget (mtcp-ts) vs node:http server + client (node:net)\n');
  const n = await httpShortOverNet(64, ms);
  // epwget runs a request count: aim at the seconds asked for from a node:net-sized guess, at least 20,000.
  const m = await epserverEpwget(Math.max(20_000, Math.round(n.requestsPerSecond * seconds * 3)), 64);
  process.stdout.write(`  ${'mtcp-ts (shm)'.padEnd(16)} ${fmt(m.requestsPerSecond).padStart(12)} requests/s   errors ${m.errors}\n${coreLoadLine(m.server)}\n`);
  process.stdout.write(`  ${'node:net'.padEnd(16)} ${fmt(n.requestsPerSecond).padStart(12)} requests/s   errors ${n.errors}\n`);
  process.stdout.write(`  ratio            ${(m.requestsPerSecond / n.requestsPerSecond).toFixed(2)}x\n`);
  (results.cases as Record<string, unknown>).epserver = {
    unit: 'requests/s', mtcp: { value: m.requestsPerSecond, errors: m.errors, framesPerCpuSecond: m.server.framesPerCpuSecond },
    net: { value: n.requestsPerSecond, errors: n.errors },
    ratio: m.requestsPerSecond / n.requestsPerSecond,
  };
  chart.push({ title: 'HTTP, new connection each', unit: 'requests/s', mtcp: m.requestsPerSecond, net: n.requestsPerSecond });
}

if (!values.only || values.only === 'afpacket') {
  process.stdout.write('\nHTTP keep-alive, the kernel as client: wrk -c 100 in a namespace, over a veth, against epserver on DPDK af_packet and against nginx (1 worker)\n');
  const missing = afPacketMissing();
  if (missing) {
    process.stdout.write(`  skipped: ${missing}\n`);
  } else {
    const { ours, nginx } = await afPacketWrk(100, seconds);
    const row = (label: string, w: WrkFigures): string =>
      `  ${label.padEnd(22)} ${fmt(w.requestsPerSecond).padStart(12)} requests/s   p50 ${w.p50Ms.toFixed(3)} ms   errors ${w.errors}\n`;
    process.stdout.write(`${row('epserver (af_packet)', ours)}${coreLoadLine(ours.server)}\n`);
    process.stdout.write(row('nginx (kernel TCP)', nginx));
    process.stdout.write(`  ratio            ${(ours.requestsPerSecond / nginx.requestsPerSecond).toFixed(2)}x\n`);
    (results.cases as Record<string, unknown>).afpacket = {
      unit: 'requests/s', mtcp: { value: ours.requestsPerSecond, errors: ours.errors, p50: ours.p50Ms, framesPerCpuSecond: ours.server.framesPerCpuSecond },
      nginx: { value: nginx.requestsPerSecond, errors: nginx.errors, p50: nginx.p50Ms }, ratio: ours.requestsPerSecond / nginx.requestsPerSecond,
    };
  }
}

if (!values.only || values.only === 'afxdp') {
  const afxdp = await afXdpBench(100, seconds, (line) => process.stdout.write(line));
  if (afxdp) (results.cases as Record<string, unknown>).afxdp = afxdp;
}

if (!values.only || values.only === 'cores') {
  process.stdout.write('\nshort connections (connect, 64 B request, 64 B reply, close; 64 at a time per client core): N server cores and N client cores on the shm wire, each pinned to a CPU of its own\n');
  const spec: WorkloadSpec = { kind: 'short', concurrency: 64, messageSize: 64, durationMs: ms, requestsPerConnection: 1 };
  (results.cases as Record<string, unknown>).cores = await coresComparison(coreCounts, spec, (text) => process.stdout.write(text));
}

if (!values.only || values.only === 'scale') {
  process.stdout.write(`\nscale: ${connections.toLocaleString('en-US')} idle connections between two stacks over shm, 1% echo, then all closed\n`);
  const f = await runScaleBench(connections, (text) => process.stdout.write(text));
  (results.cases as Record<string, unknown>).scale = {
    connections: f.connections, startupSeconds: f.startupSeconds, establishSeconds: f.establishSeconds, rssBytesPerEnd: f.rssBytesPerEnd,
    echoOk: f.echoOk, poolsEmpty: f.poolsEmpty, details: f,
  };
}

const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}latest.json`, JSON.stringify(results, null, 2) + '\n');
writeFileSync(`${dir}latest.svg`, renderChart(chart, `${seconds} s per workload, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`));
process.stdout.write(`\nresults: bench/results/latest.json, chart: bench/results/latest.svg\n`);
