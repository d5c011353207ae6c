/**
 * The https row: node:https keep-alive GETs, the http row's workload with TLS. Over mtcp-ts, an
 * https.Server fed by an mtcp-ts Server and MtcpHttpsAgent clients, in two worker threads on the shm
 * wire; over node:net, the same https.Server in a child process on loopback and https.Agent clients
 * here. The certificate (ECDSA P-256, as most servers use) is made by openssl for the run.
 */
import { execFileSync, fork } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ShmWire } from '../../src/io/shm.ts';
import type { CoreLoad } from '../../src/mtcp/thread-cpu.ts';
import type { ChartCase } from './chart.ts';
import { httpClient } from './http-workload.ts';
import { coreLoadLine } from './ping-pong-rows.ts';
import { CLIENT_IP, pairConf, SERVER_IP } from './shm-pair.ts';
import { LatencyRecorder, type WorkloadResult } from './workload.ts';

const HTTPS_PORT = 8443;

export interface BenchCerts {
  key: string;
  cert: string;
  /** The certificate itself, as the clients' only trusted CA. */
  ca: string;
}

/** A self-signed certificate for the server's two addresses (shm and loopback), or why there is none. */
export function benchCerts(): BenchCerts | string {
  const dir = mkdtempSync(join(tmpdir(), 'mtcp-bench-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=mtcp-ts bench', '-addext', `subjectAltName=IP:${SERVER_IP},IP:127.0.0.1`,
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert, ca: cert };
  } catch (err) {
    return `openssl could not make a certificate: ${(err as Error).message}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The client's figures over mtcp-ts, and the server core's frames and CPU time. */
export async function httpsOverMtcp(certs: BenchCerts, concurrency: number, durationMs: number): Promise<WorkloadResult & { server: CoreLoad }> {
  const wire = ShmWire.create({ slots: 4096 }).share();
  const file = fileURLToPath(new URL('../bench/https-worker.js', import.meta.url));
  const base = { host: SERVER_IP, port: HTTPS_PORT, concurrency, durationMs, certs };
  const next = (w: Worker): Promise<{ kind: string; result?: WorkloadResult & { latency: Float64Array }; load?: CoreLoad; message?: string }> =>
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  const server = new Worker(file, { workerData: { ...base, role: 'server', confText: pairConf(SERVER_IP, '02:00:c6:12:00:01', 16384, 4096), shm: { wire, port: 0 }, core: 0 } });
  const listening = await next(server);
  if (listening.kind !== 'listening') throw new Error(`https server: ${listening.message}`);
  const client = new Worker(file, { workerData: { ...base, role: 'client', confText: pairConf(CLIENT_IP, '02:00:c6:12:00:02', 16384, 4096), shm: { wire, port: 1 }, core: 1 % availableParallelism() } });
  const done = await next(client);
  server.postMessage('stop');
  const stopped = await next(server);
  if (done.kind !== 'done' || !done.result) throw new Error(`https client: ${done.message}`);
  if (stopped.kind !== 'done' || !stopped.load) throw new Error(`https server: ${stopped.message}`);
  return { ...done.result, latency: LatencyRecorder.from(done.result.latency), server: stopped.load };
}

/** The client's figures over node:net (the server in a child process on loopback). */
export async function httpsOverNet(certs: BenchCerts, concurrency: number, durationMs: number): Promise<WorkloadResult> {
  // '../bench/' resolves from dist/bench/ and from dist/chunks/ alike (the bundle may put this module in either).
  const child = fork(fileURLToPath(new URL('../bench/https-net-server.js', import.meta.url)), [JSON.stringify({ key: certs.key, cert: certs.cert })],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`node:https server exited with ${code}`)));
    });
    const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: certs.ca });
    const r = await httpClient(agent, '127.0.0.1', port, concurrency, durationMs);
    agent.destroy();
    return r;
  } finally {
    child.kill('SIGTERM');
  }
}

/** `https`: 64 clients, keep-alive GETs over TLS, mtcp-ts (shm) vs node:net; the http row's shape. Null (with the reason printed) without openssl. */
export async function httpsRow(durationMs: number): Promise<{ entry: object; chart: ChartCase } | null> {
  process.stdout.write('\nnode:https, 64 clients, GET requests back to back on keep-alive TLS connections (ECDSA P-256)\n');
  const certs = benchCerts();
  if (typeof certs === 'string') {
    process.stdout.write(`  skipped: ${certs}\n`);
    return null;
  }
  const m = await httpsOverMtcp(certs, 64, durationMs);
  const n = await httpsOverNet(certs, 64, durationMs);
  const mv = m.requests / m.seconds;
  const nv = n.requests / n.seconds;
  const row = (label: string, r: WorkloadResult, v: number): string =>
    `  ${label.padEnd(16)} ${Math.round(v).toLocaleString('en-US').padStart(12)} requests/s   p50 ${r.latency.percentile(50).toFixed(3)} ms   ` +
    `p99 ${r.latency.percentile(99).toFixed(3)} ms   errors ${r.errors}\n`;
  process.stdout.write(`${row('mtcp-ts (shm)', m, mv)}${coreLoadLine(m.server)}\n${row('node:net', n, nv)}  ratio            ${(mv / nv).toFixed(2)}x\n`);
  return {
    entry: {
      unit: 'requests/s',
      mtcp: { value: mv, errors: m.errors, p50: m.latency.percentile(50), p99: m.latency.percentile(99), framesPerCpuSecond: m.server.framesPerCpuSecond },
      net: { value: nv, errors: n.errors, p50: n.latency.percentile(50), p99: n.latency.percentile(99) },
      ratio: mv / nv,
    },
    chart: { title: 'node:https, keep-alive', unit: 'requests/s', mtcp: mv, net: nv },
  };
}
