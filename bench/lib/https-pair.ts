/**
 * The https row: node:https keep-alive GETs, the http row's workload and sides (http-pair.ts) with TLS.
 * Over mtcp-ts, an https.Server fed by an mtcp-ts Server and MtcpHttpsAgent clients, in two worker
 * threads on the shm wire; over node:net, the same https.Server in a child process on loopback and
 * https.Agent clients here. The certificate (ECDSA P-256, as most servers use) is made by openssl for the run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChartCase } from './chart.ts';
import { httpOverMtcp, httpOverNet } from './http-pair.ts';
import type { BenchCerts } from './http-workload.ts';
import { coreLoadLine } from './ping-pong-rows.ts';
import { SERVER_IP } from './shm-pair.ts';
import type { WorkloadResult } from './workload.ts';

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

/** `https`: 64 clients, keep-alive GETs over TLS, mtcp-ts (shm) vs node:net; the http row's shape. Null (with the reason printed) without openssl. */
export async function httpsRow(durationMs: number): Promise<{ entry: object; chart: ChartCase } | null> {
  process.stdout.write('\nnode:https, 64 clients, GET requests back to back on keep-alive TLS connections (ECDSA P-256)\n');
  const certs = benchCerts();
  if (typeof certs === 'string') {
    process.stdout.write(`  skipped: ${certs}\n`);
    return null;
  }
  const m = await httpOverMtcp(64, durationMs, certs);
  const n = await httpOverNet(64, durationMs, { certs });
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
