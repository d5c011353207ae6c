/**
 * Goodput of one bulk transfer over a lossy, rate-limited, delayed sim link,
 * against the Mathis et al. bound MSS / RTT * 1.22 / sqrt(p) (the steady
 * state of Reno-style congestion avoidance with random loss p).
 *
 *   npm run goodput [-- --mib 100 --loss 0.01 --mbps 100 --rtt 10 --seed 1]
 *
 * runs it with SACK on and off, NewReno and CUBIC, and prints a table.
 */
import { parseArgs } from 'node:util';
import { State } from '../src/stack/tcp/state.ts';
import { effectiveMss } from '../src/stack/tcp/tcb.ts';
import type { CongestionControlName } from '../src/stack/tcp/congestion/index.ts';
import { World } from './world.ts';
import { STREAM_PATTERN as PATTERN, STREAM_PERIOD as PERIOD } from './stream-pattern.ts';

export interface GoodputOptions {
  bytes: number;
  /** Random loss of data frames (sender to receiver), 0..1. */
  loss: number;
  bandwidthBps: number;
  rttMs: number;
  cc: CongestionControlName;
  sack: boolean;
  seed: number;
  /** Random loss of frames the other way (ACKs), 0..1 (default 0). */
  ackLoss?: number;
  /** Send and receive buffers each connection starts with, and the most they may grow to (default 4 MiB, no growth). */
  bufferBytes?: number;
  bufferMaxBytes?: number;
}

export interface GoodputResult {
  goodputBps: number;
  mathisBps: number;
  ratio: number;
  /** Retransmission timeouts at the sender. */
  rtos: number;
  retransmits: number;
  virtualMs: number;
  wallMs: number;
  /** Bytes received that differ from what was sent (must be 0). */
  corrupt: number;
  /** Largest send buffer (sender) and receive buffer (receiver) the connection reached, bytes. */
  peakSendBuffer: number;
  peakRecvBuffer: number;
  /** After both ends closed: buffers still taken from the pools and bytes still reserved, both hosts (must be 0). */
  leftoverBuffers: number;
  leftoverReserved: number;
}


export function measureGoodput(o: GoodputOptions): GoodputResult {
  const bufBytes = o.bufferBytes ?? 4 * 1024 * 1024; // larger than the bandwidth-delay product (125 KB at 100 Mbit/s, 10 ms)
  const bufMax = o.bufferMaxBytes ?? bufBytes;
  const w = new World({
    seed: o.seed,
    tcp: { rcvbuf: bufBytes, sndbuf: bufBytes, rcvbufMax: bufMax, sndbufMax: bufMax, maxConcurrency: 4, maxNumBuffers: 4, cc: o.cc, sack: o.sack },
  });
  const [sender, receiver] = w.hosts;
  w.impair({ bandwidthBps: o.bandwidthBps, delayMs: o.rttMs / 2, loss: o.ackLoss ?? 0 });
  w.impair({ bandwidthBps: o.bandwidthBps, delayMs: o.rttMs / 2, loss: o.loss }, sender.index);
  const rs = receiver.ctx.tcp.sockets;
  const ss = sender.ctx.tcp.sockets;
  rs.listen(1, 0, 5001, 4);
  const listener = rs.listener(5001)!;
  const c = ss.connect(1, sender.ip, 0, receiver.ip, 5001);
  if (c < 0) throw new Error(`connect failed: ${c}`);
  const into = new Uint8Array(65536);
  let sent = 0;
  let received = 0;
  let corrupt = 0;
  let startMs = -1;
  let conn = -1;
  let peakSendBuffer = 0;
  let peakRecvBuffer = 0;
  const wall0 = performance.now();
  const done = w.runUntil(() => {
    if (conn < 0) conn = rs.accept(listener, 2);
    peakSendBuffer = Math.max(peakSendBuffer, sender.ctx.tcp.sendBuffers.capacity(c));
    if (conn >= 0) peakRecvBuffer = Math.max(peakRecvBuffer, receiver.ctx.tcp.recvBuffers.capacity(conn));
    if (ss.state(c) === State.Established) {
      if (startMs < 0) startMs = w.now;
      while (sent < o.bytes) {
        const r = ss.send(c, PATTERN, sent % PERIOD, Math.min(PERIOD, o.bytes - sent));
        if (r <= 0) break;
        sent += r;
      }
    }
    if (conn >= 0) {
      for (;;) {
        const r = rs.receive(conn, into, 0, into.length, false);
        if (r <= 0) break;
        const at = received % PERIOD;
        for (let i = 0; i < r; i++) if (into[i] !== PATTERN[at + i]) corrupt++;
        received += r;
      }
    }
    return received >= o.bytes;
  }, 24 * 3600 * 1000);
  if (!done) throw new Error(`transfer stalled at ${received} of ${o.bytes} bytes`);
  const virtualMs = w.now - startMs;
  const seconds = virtualMs / 1000;
  ss.close(c);
  rs.close(conn);
  const hosts = [sender, receiver];
  w.runUntil(() => hosts.every((h) => h.ctx.tcp.activeCount === 0), 600_000);
  const leftoverBuffers = hosts.reduce((n, h) => n + h.ctx.tcp.sndPool.inUse + h.ctx.tcp.rcvPool.inUse, 0);
  const leftoverReserved = hosts.reduce((n, h) => n + h.ctx.tcp.bufferMemory.used, 0);
  const mss = effectiveMss(sender.ctx.tcp.tcb, c);
  const mathisBps = o.loss > 0 ? ((mss * 8) / (o.rttMs / 1000)) * (1.22 / Math.sqrt(o.loss)) : Infinity;
  const goodputBps = (received * 8) / seconds;
  return {
    goodputBps, mathisBps, ratio: goodputBps / mathisBps,
    rtos: sender.ctx.stats.tcpTimeouts, retransmits: sender.ctx.stats.tcpRetransmits,
    virtualMs, wallMs: performance.now() - wall0, corrupt, peakSendBuffer, peakRecvBuffer, leftoverBuffers, leftoverReserved,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '100' }, loss: { type: 'string', default: '0.01' }, mbps: { type: 'string', default: '100' },
      rtt: { type: 'string', default: '10' }, seed: { type: 'string', default: '1' },
    },
  });
  const base = {
    bytes: Number(values.mib) * 1024 * 1024, loss: Number(values.loss), bandwidthBps: Number(values.mbps) * 1e6,
    rttMs: Number(values.rtt), seed: Number(values.seed),
  };
  console.log(`${values.mib} MiB over ${values.mbps} Mbit/s, RTT ${values.rtt} ms, ${Number(values.loss) * 100}% loss of data frames, seed ${values.seed}`);
  console.log('cc      sack  goodput Mbit/s  Mathis Mbit/s  ratio  RTOs  retransmits  virtual s  wall s');
  for (const cc of ['reno', 'cubic'] as const) {
    for (const sack of [true, false]) {
      const r = measureGoodput({ ...base, cc, sack });
      console.log([
        cc.padEnd(7), (sack ? 'on' : 'off').padEnd(5), (r.goodputBps / 1e6).toFixed(2).padStart(14), (r.mathisBps / 1e6).toFixed(2).padStart(14),
        r.ratio.toFixed(2).padStart(6), String(r.rtos).padStart(5), String(r.retransmits).padStart(12),
        (r.virtualMs / 1000).toFixed(1).padStart(10), (r.wallMs / 1000).toFixed(1).padStart(7), r.corrupt ? ` CORRUPT ${r.corrupt}` : '',
      ].join(' '));
    }
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) main();
