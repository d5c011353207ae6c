/**
 * `npm start`: an echo server stack and a load-generator stack in two pinned
 * worker threads over the shm wire (no root, no NIC), then the same workload
 * on node:net over loopback, with a summary and the ratios.
 *
 * Workload: 256 concurrent connections, each making 10 requests of 64 bytes
 * (waiting for each echo) before closing and reconnecting.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runShmPair } from '../bench/lib/shm-pair.ts';
import { netClient } from '../bench/lib/net-workload.ts';
import type { WorkloadResult, WorkloadSpec } from '../bench/lib/workload.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } });
const seconds = Number(values.seconds);
if (!(seconds > 0)) {
  process.stderr.write('usage: npm start -- [--seconds N]\n');
  process.exit(2);
}

const spec: WorkloadSpec = {
  kind: 'mixed', concurrency: 256, messageSize: 64, durationMs: seconds * 1000, requestsPerConnection: 10,
};
const tty = process.stdout.isTTY;

function progress(label: string, r: WorkloadResult): void {
  const line = `${label}: ${r.seconds.toFixed(0)}s  ${Math.round(r.connections / r.seconds)} conn/s  ` +
    `${Math.round(r.requests / r.seconds)} req/s  errors ${r.errors}`;
  process.stdout.write(tty ? `\r${line.padEnd(78)}` : `${line}\n`);
}

interface Summary {
  connPerSec: number;
  reqPerSec: number;
  mbPerSec: number;
  p50: number;
  p99: number;
  errors: number;
}

function summarize(r: WorkloadResult): Summary {
  return {
    connPerSec: r.connections / r.seconds,
    reqPerSec: r.requests / r.seconds,
    mbPerSec: r.bytes / r.seconds / 1e6,
    p50: r.latency.percentile(50),
    p99: r.latency.percentile(99),
    errors: r.errors,
  };
}

process.stdout.write(`mtcp-ts demo: echo server and load generator, ${spec.concurrency} connections, ` +
  `${spec.requestsPerConnection} x ${spec.messageSize} B requests per connection, ${seconds} s per stack\n\n`);

const shm = await runShmPair(spec, 'echo', (r) => progress('mtcp-ts (shm)', r));
if (tty) process.stdout.write('\n');

const serverFile = fileURLToPath(new URL('../bench/net-server.js', import.meta.url));
const child = fork(serverFile, ['echo'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise<number>((resolve, reject) => {
  child.once('message', (m: { port: number }) => resolve(m.port));
  child.once('exit', (code) => reject(new Error(`node:net server exited with ${code}`)));
});
let net: WorkloadResult;
try {
  net = await netClient('127.0.0.1', port, spec, (r) => progress('node:net (kernel)', r));
} finally {
  child.kill('SIGTERM');
}
if (tty) process.stdout.write('\n');

const a = summarize(shm.client);
const b = summarize(net);
const rows: [string, (s: Summary) => string, number][] = [
  ['connections/s', (s) => Math.round(s.connPerSec).toLocaleString('en-US'), a.connPerSec / b.connPerSec],
  ['requests/s', (s) => Math.round(s.reqPerSec).toLocaleString('en-US'), a.reqPerSec / b.reqPerSec],
  ['MB/s', (s) => s.mbPerSec.toFixed(1), a.mbPerSec / b.mbPerSec],
  ['p50 latency ms', (s) => s.p50.toFixed(3), b.p50 / a.p50],
  ['p99 latency ms', (s) => s.p99.toFixed(3), b.p99 / a.p99],
  ['errors', (s) => String(s.errors), NaN],
];
process.stdout.write(`\n${''.padEnd(16)}${'mtcp-ts (shm)'.padStart(16)}${'node:net'.padStart(16)}${'ratio'.padStart(10)}\n`);
for (const [name, f, ratio] of rows) {
  const r = Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '';
  process.stdout.write(`${name.padEnd(16)}${f(a).padStart(16)}${f(b).padStart(16)}${r.padStart(10)}\n`);
}
process.stdout.write('\n(latency ratios are node:net / mtcp-ts: above 1 means mtcp-ts is faster)\n');
process.exitCode = a.errors === 0 && b.errors === 0 ? 0 : 1;
