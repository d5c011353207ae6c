/** The same workloads on node:net (the kernel's TCP over loopback), for side-by-side ratios. */
import net from 'node:net';
import { LatencyRecorder, type WorkloadResult, type WorkloadSpec } from './workload.ts';

/** Echo or sink server; resolves with the listening server. */
export function netServer(port: number, mode: 'echo' | 'sink'): Promise<{ server: net.Server; received: () => number }> {
  let received = 0;
  const server = net.createServer({ noDelay: true }, (sock) => {
    sock.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (mode === 'echo' && !sock.write(chunk)) {
        sock.pause();
        sock.once('drain', () => sock.resume());
      }
    });
    sock.on('end', () => sock.end());
    sock.on('error', () => sock.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, received: () => received }));
  });
}

export async function netClient(
  host: string, port: number, spec: WorkloadSpec, onTick?: (r: WorkloadResult) => void,
): Promise<WorkloadResult> {
  const lat = new LatencyRecorder();
  const res: WorkloadResult = { connections: 0, requests: 0, bytes: 0, errors: 0, seconds: 0, latency: lat };
  const req = Buffer.alloc(Math.max(spec.messageSize, 1), 0x61);
  const chunk = Buffer.alloc(256 * 1024, 0x62);
  const t0 = performance.now();
  const end = t0 + spec.durationMs;
  let running = true;
  const sockets = new Set<net.Socket>();

  const openOne = (): void => {
    if (!running) return;
    let started = performance.now();
    let got = 0;
    let reqs = 0;
    const sock = net.connect({ host, port, noDelay: true });
    sockets.add(sock);
    const finish = (error: boolean): void => {
      if (!sockets.delete(sock)) return;
      if (error) res.errors++;
      sock.destroy();
      if (spec.kind !== 'bulk') openOne();
    };
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(running));
    if (spec.kind === 'bulk') {
      const pump = (): void => {
        while (running) {
          res.bytes += chunk.length;
          if (!sock.write(chunk)) return;
        }
      };
      sock.on('connect', pump);
      sock.on('drain', pump);
      return;
    }
    sock.on('connect', () => {
      started = performance.now();
      sock.write(req);
    });
    sock.on('data', (d: Buffer) => {
      got += d.length;
      res.bytes += d.length;
      if (got < req.length) return;
      res.requests++;
      lat.record(performance.now() - started);
      reqs++;
      got = 0;
      if (spec.kind === 'short' || (spec.requestsPerConnection > 0 && reqs >= spec.requestsPerConnection)) {
        res.connections++;
        sockets.delete(sock);
        sock.end();
        sock.destroy();
        openOne();
        return;
      }
      if (!running) return;
      started = performance.now();
      sock.write(req);
    });
  };

  for (let i = 0; i < spec.concurrency; i++) openOne();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      res.seconds = (now - t0) / 1000;
      if (now >= end) {
        clearInterval(tick);
        resolve();
      } else if (onTick) {
        onTick(res);
      }
    }, Math.min(1000, spec.durationMs));
  });
  running = false;
  res.seconds = (performance.now() - t0) / 1000;
  for (const s of sockets) s.destroy();
  sockets.clear();
  return res;
}
