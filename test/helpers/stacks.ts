/**
 * Two mtcp-ts stacks in one thread over the simulated wire: a server at
 * 198.18.0.1 and a client at 198.18.0.2, each with its own runtime and context.
 */
import { parseMtcpConf, type MtcpConfig } from '../../src/config/mtcp-conf.ts';
import { SimWire } from '../../src/io/sim.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import type { MtcpContext } from '../../src/mtcp/context.ts';
import { mtcp_destroy_context } from '../../src/mtcp/api.ts';

export const SERVER_IP = 0xc6120001; // 198.18.0.1
export const CLIENT_IP = 0xc6120002; // 198.18.0.2

export interface ConfOptions {
  maxConcurrency?: number;
  buffers?: number;
  rcvbuf?: number;
  sndbuf?: number;
  tcpTimeout?: number;
  tcpTimewait?: number;
  io?: 'sim' | 'shm';
  cc?: 'reno' | 'cubic';
  /** num_cores (default 1). */
  cores?: number;
  /** mtu (default 1500). */
  mtu?: number;
  /** More mtcp.conf lines (impair, capture ...). */
  extra?: string[];
}

export function confText(ip: string, mac: string, o: ConfOptions = {}): string {
  const io = o.io ?? 'sim';
  const port = `${io}0`;
  return [
    `io = ${io}`,
    `port = ${port}`,
    `${port}.addr = ${ip}/24`,
    `${port}.mac = ${mac}`,
    `max_concurrency = ${o.maxConcurrency ?? 1024}`,
    `max_num_buffers = ${o.buffers ?? o.maxConcurrency ?? 1024}`,
    `rcvbuf = ${o.rcvbuf ?? 16384}`,
    `sndbuf = ${o.sndbuf ?? 16384}`,
    `tcp_timeout = ${o.tcpTimeout ?? 30}`,
    `tcp_timewait = ${o.tcpTimewait ?? 0}`,
    `cc = ${o.cc ?? 'reno'}`,
    `num_cores = ${o.cores ?? 1}`,
    `mtu = ${o.mtu ?? 1500}`,
    ...(o.extra ?? []),
  ].join('\n');
}

export function config(ip: string, mac: string, o: ConfOptions = {}): MtcpConfig {
  return parseMtcpConf(confText(ip, mac, o), `<${ip}>`);
}

export interface StackPair {
  server: MtcpContext;
  client: MtcpContext;
  close(): Promise<void>;
}

export interface SimPair extends StackPair {
  wire: SimWire;
}

/** Contexts on core 0 of a server and a client runtime, closed together. */
function stackPair(sr: MtcpRuntime, cr: MtcpRuntime): StackPair {
  const server = sr.createContext(0);
  const client = cr.createContext(0);
  return {
    server,
    client,
    async close() {
      mtcp_destroy_context(client);
      mtcp_destroy_context(server);
      await Promise.all([client.closed, server.closed]);
    },
  };
}

export function simPair(o: ConfOptions & { seed?: number } = {}): SimPair {
  const wire = new SimWire({ seed: o.seed ?? 1, autoAdvance: true });
  const sr = new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', o), { sim: wire, secret: [1, 2] });
  const cr = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', o), { sim: wire, secret: [3, 4] });
  return { wire, ...stackPair(sr, cr) };
}

/**
 * The same pair over the shm wire in one thread: real time, as an application sees it. `client` holds
 * options of the client's config that differ from the server's (impair, capture on one end).
 */
export function shmPair(o: ConfOptions = {}, client: ConfOptions = {}): StackPair {
  const opts = { ...o, io: 'shm' as const };
  const sr = new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', opts), { secret: [1, 2] });
  const cr = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', { ...opts, ...client }), { shm: sr.shmPeer(), secret: [3, 4] });
  return stackPair(sr, cr);
}
