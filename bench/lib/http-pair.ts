/**
 * The HTTP benchmark's two sides: node:http (or, given certificates, node:https)
 * over mtcp-ts (server and client in two worker threads on the shm wire) and over
 * node:net (server in a child process on loopback, client here). Plus the mTCP apps: epserver
 * serving a file to epwget, a new connection per request, through `mtcp-ts pair`.
 */
import { execFile, fork } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { ShmWire } from '../../src/io/shm.ts';
import type { CoreLoad } from '../../src/mtcp/thread-cpu.ts';
import { HTTP_BODY, httpClient, type BenchCerts } from './http-workload.ts';
import { CLIENT_IP, pairConf, SERVER_IP } from './shm-pair.ts';
import { LatencyRecorder, type WorkloadResult } from './workload.ts';

const HTTP_PORT = 8080;
const HTTPS_PORT = 8443;

/**
 * The client's figures, and the server core's frames and CPU time: node:http over mtcp-ts, or node:https
 * given `certs`.
 */
export async function httpOverMtcp(concurrency: number, durationMs: number, certs?: BenchCerts): Promise<WorkloadResult & { server: CoreLoad }> {
  const wire = ShmWire.create({ slots: 4096 }).share();
  const file = fileURLToPath(new URL('../bench/http-worker.js', import.meta.url));
  const base = { host: SERVER_IP, port: certs ? HTTPS_PORT : HTTP_PORT, concurrency, durationMs, certs };
  const scheme = certs ? 'https' : 'http';
  const server = new Worker(file, { workerData: { ...base, role: 'server', confText: pairConf(SERVER_IP, '02:00:c6:12:00:01', 16384, 4096), shm: { wire, port: 0 }, core: 0 } });
  const next = (w: Worker): Promise<{ kind: string; result?: WorkloadResult & { latency: Float64Array }; load?: CoreLoad; message?: string }> =>
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  const listening = await next(server);
  if (listening.kind !== 'listening') throw new Error(`${scheme} server: ${listening.message}`);
  const client = new Worker(file, { workerData: { ...base, role: 'client', confText: pairConf(CLIENT_IP, '02:00:c6:12:00:02', 16384, 4096), shm: { wire, port: 1 }, core: 1 % availableParallelism() } });
  const done = await next(client);
  server.postMessage('stop');
  const stopped = await next(server);
  if (done.kind !== 'done' || !done.result) throw new Error(`${scheme} client: ${done.message}`);
  if (stopped.kind !== 'done' || !stopped.load) throw new Error(`${scheme} server: ${stopped.message}`);
  return { ...done.result, latency: LatencyRecorder.from(done.result.latency), server: stopped.load };
}

/**
 * The client's figures over node:net (the server in a child process on loopback): node:http, or
 * node:https given `certs`; `keepAlive` false opens a new connection for every request.
 */
export async function httpOverNet(concurrency: number, durationMs: number, { keepAlive = true, certs }: { keepAlive?: boolean; certs?: BenchCerts } = {}): Promise<WorkloadResult> {
  // '../bench/' resolves from dist/bench/ and from dist/chunks/ alike (the bundle may put this module in either).
  const child = fork(fileURLToPath(new URL('../bench/http-net-server.js', import.meta.url)), certs ? [JSON.stringify({ key: certs.key, cert: certs.cert })] : [],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`node:${certs ? 'https' : 'http'} server exited with ${code}`)));
    });
    const options = { keepAlive, maxSockets: concurrency };
    const agent = certs ? new https.Agent({ ...options, ca: certs.ca }) : keepAlive ? new http.Agent(options) : false;
    const r = await httpClient(agent, '127.0.0.1', port, concurrency, durationMs);
    if (agent) agent.destroy();
    return r;
  } finally {
    child.kill('SIGTERM');
  }
}

/**
 * epserver and epwget (`mtcp-ts pair`): `requests` GETs of the benchmark body, each on a new connection.
 * Returns requests/s, and epserver's core's frames and CPU time (the line it prints when stopped).
 */
export async function epserverEpwget(requests: number, concurrency: number): Promise<{ requestsPerSecond: number; errors: number; server: CoreLoad }> {
  const dir = mkdtempSync(join(tmpdir(), 'mtcp-bench-'));
  writeFileSync(join(dir, 'index.html'), HTTP_BODY);
  writeFileSync(join(dir, 'server.conf'), pairConf(SERVER_IP, '02:00:c6:12:00:01', 16384, 16384));
  writeFileSync(join(dir, 'client.conf'), pairConf(CLIENT_IP, '02:00:c6:12:00:02', 16384, 16384));
  const cli = fileURLToPath(new URL('../apps/cli.js', import.meta.url));
  const [out, err] = await new Promise<[string, string]>((resolve, reject) => {
    execFile(process.execPath, [cli, 'pair', 'epserver', '-p', dir, '-f', join(dir, 'server.conf'), '--',
      'epwget', `${SERVER_IP}/index.html`, String(requests), '-f', join(dir, 'client.conf'), '-c', String(concurrency), '--json'],
    { maxBuffer: 1 << 24 }, (e, stdout, stderr) => (e ? reject(e) : resolve([stdout, stderr])));
  });
  const s = JSON.parse(out.trim().split('\n').pop()!) as { requestsPerSecond: number; errors: number };
  return { requestsPerSecond: s.requestsPerSecond, errors: s.errors, server: epserverLoad(err) };
}

/** The frames and CPU time a one-core epserver printed on its standard error when it stopped. */
export function epserverLoad(stderr: string): CoreLoad {
  const load = /(\d+) frames in and out in ([\d.]+) CPU s/.exec(stderr);
  if (!load) throw new Error(`epserver printed no frames and CPU time: ${stderr}`);
  const frames = Number(load[1]);
  const cpuSeconds = Number(load[2]);
  return { frames, cpuSeconds, framesPerCpuSecond: frames / cpuSeconds };
}

/** The node:net counterpart of epserver + epwget: node:http server and client, a new connection per request. */
export async function httpShortOverNet(concurrency: number, durationMs: number): Promise<{ requestsPerSecond: number; errors: number }> {
  const r = await httpOverNet(concurrency, durationMs, { keepAlive: false });
  return { requestsPerSecond: r.requests / r.seconds, errors: r.errors };
}
