/**
 * The HTTP workload: `concurrency` clients each sending GET requests back to
 * back on a keep-alive connection through node:http, against a node:http
 * server answering a fixed body. The same code runs over node:net (the
 * default http.Agent) and over mtcp-ts (MtcpAgent); only the agent differs.
 */
import http from 'node:http';
import { LatencyRecorder, type WorkloadResult } from './workload.ts';

export const HTTP_BODY = Buffer.from('hello from the http benchmark\n');

/** The node:http app both servers run. */
export function httpApp(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('content-type', 'text/plain');
  res.setHeader('content-length', HTTP_BODY.length);
  res.end(HTTP_BODY);
}

/** `agent` false: a new connection for every request (node:http reuses an Agent's sockets for queued requests even without keep-alive). */
export async function httpClient(agent: http.Agent | false, host: string, port: number, concurrency: number, durationMs: number): Promise<WorkloadResult> {
  const latency = new LatencyRecorder();
  let requests = 0;
  let errors = 0;
  let bytes = 0;
  const t0 = performance.now();
  const until = t0 + durationMs;
  const one = (): Promise<void> => new Promise((resolve) => {
    const t = performance.now();
    const req = http.request({ host, port, path: '/', agent }, (res) => {
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => {
        if (res.statusCode === 200) {
          requests++;
          latency.record(performance.now() - t);
        } else errors++;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) await one();
  }));
  return { connections: 0, requests, bytes, errors, seconds: (performance.now() - t0) / 1000, latency };
}
