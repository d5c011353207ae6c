/**
 * The bench's `netecho` and `latency` rows (bench/lib/netecho.ts runs them):
 * each prints its lines and returns its `cases.<name>` entry and chart bar.
 */
import type { CoreLoad } from '../../src/mtcp/thread-cpu.ts';
import type { ChartCase } from './chart.ts';
import { pingPongOverMtcpNet, pingPongOverNodeNet } from './netecho.ts';
import { runShmPair, type PairResult } from './shm-pair.ts';
import type { WorkloadResult, WorkloadSpec } from './workload.ts';

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const out = (line: string): boolean => process.stdout.write(`${line}\n`);

/** The round trips' percentiles in ms, the rate, and the errors. */
function figures(r: WorkloadResult): { value: number; p50Ms: number; p99Ms: number; p999Ms: number; errors: number } {
  const l = r.latency;
  return { value: r.requests / r.seconds, p50Ms: l.percentile(50), p99Ms: l.percentile(99), p999Ms: l.percentile(99.9), errors: r.errors };
}

function row(label: string, r: WorkloadResult): string {
  const f = figures(r);
  return `  ${label.padEnd(20)} ${fmt(f.value).padStart(12)} round trips/s   p50 ${f.p50Ms.toFixed(3)} ms   p99 ${f.p99Ms.toFixed(3)} ms   ` +
    `p999 ${f.p999Ms.toFixed(3)} ms   errors ${f.errors}`;
}

/** The server core's line: what it handled per CPU-second. */
export function coreLoadLine(load: CoreLoad): string {
  return `  (server core: ${load.frames} frames in and out in ${load.cpuSeconds.toFixed(2)} CPU s, ${fmt(load.framesPerCpuSecond)} frames per CPU-second)`;
}

function spec(concurrency: number, durationMs: number): WorkloadSpec {
  return { kind: 'pingpong', concurrency, messageSize: 64, durationMs, requestsPerConnection: 0 };
}

function withLoad(r: PairResult): ReturnType<typeof figures> & { framesPerCpuSecond: number } {
  return { ...figures(r.client), framesPerCpuSecond: r.server.load.framesPerCpuSecond };
}

/**
 * `netecho`: 64 connections, 64 B, through mtcp-ts/net at both ends vs node:net, the same client and
 * server code. `rawPingPong`: the raw API's ping-pong rate from the same run, when it ran.
 */
export async function netEchoRow(durationMs: number, rawPingPong?: number): Promise<{ entry: object; chart: ChartCase }> {
  out('\nping-pong through the node:net face, 64 connections, 64 B: the same client and echo server code over mtcp-ts/net (shm) and node:net');
  const m = await pingPongOverMtcpNet(spec(64, durationMs));
  const n = await pingPongOverNodeNet(spec(64, durationMs));
  const mtcp = withLoad(m);
  const net = figures(n);
  out(row('mtcp-ts/net (shm)', m.client));
  out(coreLoadLine(m.server.load));
  out(row('node:net', n));
  const ofRaw = rawPingPong ? mtcp.value / rawPingPong : undefined;
  out(`  ratio                ${(mtcp.value / net.value).toFixed(2)}x${ofRaw ? `   (${ofRaw.toFixed(2)} of the raw API's ping-pong)` : ''}`);
  return {
    entry: { unit: 'round trips/s', mtcp, net, ratio: mtcp.value / net.value, ...(ofRaw ? { ofRawPingPong: ofRaw } : {}) },
    chart: { title: 'ping-pong via net face, 64 B', unit: 'round trips/s', mtcp: mtcp.value, net: net.value },
  };
}

/**
 * `latency`: one connection, 64 B ping-pong: the raw mTCP API (`mtcp`) and mtcp-ts/net (`mtcpNet`) over
 * shm against node:net with the netecho client. `ratio` is node:net's p999 over the raw API's.
 */
export async function latencyRow(durationMs: number): Promise<{ entry: object }> {
  out('\none connection, 64 B ping-pong: round-trip latency');
  const raw = await runShmPair(spec(1, durationMs), 'echo');
  const face = await pingPongOverMtcpNet(spec(1, durationMs));
  const n = await pingPongOverNodeNet(spec(1, durationMs));
  const mtcp = withLoad(raw);
  const mtcpNet = withLoad(face);
  const net = figures(n);
  out(row('mtcp-ts API (shm)', raw.client));
  out(coreLoadLine(raw.server.load));
  out(row('mtcp-ts/net (shm)', face.client));
  out(coreLoadLine(face.server.load));
  out(row('node:net', n));
  out(`  p999 ratio           ${(net.p999Ms / mtcp.p999Ms).toFixed(2)}x (API), ${(net.p999Ms / mtcpNet.p999Ms).toFixed(2)}x (net face); above 1: mtcp-ts's tail is shorter`);
  return { entry: { unit: 'ms', mtcp, mtcpNet, net, ratio: net.p999Ms / mtcp.p999Ms, netFaceRatio: net.p999Ms / mtcpNet.p999Ms } };
}
