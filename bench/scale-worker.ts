/**
 * One stack of the scale bench (bench/lib/scale-bench.ts) in a pinned worker
 * thread on the shm wire: the server listens on `ports` ports and echoes, the
 * client opens `connections` connections when told, has 1% of them (chosen at
 * random) echo a message, then closes them all. Each phase ends with a report
 * to the main thread, which measures the process's memory in between. The
 * per-connection state of both is typed arrays indexed by socket id, as the
 * stack's own, so the application adds no object per connection either.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { parseIpv4 } from '../src/config/addr.ts';
import { parseMtcpConf } from '../src/config/mtcp-conf.ts';
import {
  AF_INET, EAGAIN, EINPROGRESS, MTCP_EPOLLERR, MTCP_EPOLLHUP, MTCP_EPOLLIN, MTCP_EPOLLOUT, MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_MOD,
  SOCK_NONBLOCK, SOCK_STREAM, createEpollEvents, errnoName, mtcp_accept, mtcp_bind, mtcp_close, mtcp_connect, mtcp_core_affinitize,
  mtcp_create_context, mtcp_destroy, mtcp_destroy_context, mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno, mtcp_init,
  mtcp_listen, mtcp_read, mtcp_shutdown, mtcp_socket, mtcp_write, SHUT_WR, type MtcpContext, type MtcpEpollEvent,
} from '../src/index.ts';
import type { ShmWireShared } from '../src/io/shm.ts';
import { SocketKind } from '../src/mtcp/socket-table.ts';
import { threadCpuNs } from '../src/mtcp/thread-cpu.ts';

export interface ScaleWorkerRequest {
  role: 'server' | 'client';
  confText: string;
  wire: ShmWireShared;
  port: 0 | 1;
  /** CPU to pin the thread to. */
  cpu: number;
  connections: number;
  /** The server listens on basePort .. basePort + ports - 1; the client spreads its connections over them. */
  basePort: number;
  ports: number;
  serverIp: string;
  /** Connection attempts the client keeps in flight. */
  window: number;
  /** Message each chosen connection echoes, bytes. */
  messageSize: number;
  /** Share of the connections that echo. */
  echoShare: number;
  seed: number;
}

/** What is still held after the close: all zero when everything went back. */
export interface HeldAtEnd {
  controlBlocks: number;
  sendBuffers: number;
  recvBuffers: number;
  outOfOrderLists: number;
  sackLists: number;
  flows: number;
  timers: number;
  /** Stream sockets (listeners and the epoll instance are not counted). */
  sockets: number;
}

/** A stack's own account of its traffic so far. */
export interface StackCounters {
  framesIn: number;
  framesOut: number;
  /** CPU time the stack's thread has used since it started, s (/proc/thread-self/schedstat). */
  cpuSeconds: number;
  retransmits: number;
  synCookies: number;
  drops: Record<string, number>;
}

export type ScaleWorkerReply =
  | { kind: 'ready'; startupMs: number; counters: StackCounters }
  | { kind: 'established'; count: number; failed: number; heapBytes: number; counters: StackCounters }
  | { kind: 'report'; counters: StackCounters }
  | { kind: 'echoed'; chosen: number; ok: number; heapBytes: number }
  | { kind: 'closed'; held: HeldAtEnd; heapBytes: number; counters: StackCounters }
  | { kind: 'error'; message: string };

/** 'report' asks for the counters now (either side, any time). */
export type ScaleWorkerCommand = 'connect' | 'echo' | 'close' | 'stop' | 'report';

const MAX_EVENTS = 4096;
/** How long one phase may take before the worker gives up and reports what it has, ms. */
const PHASE_LIMIT_MS = 300_000;

const req = workerData as ScaleWorkerRequest;
const port = parentPort!;
const commands: ScaleWorkerCommand[] = [];
port.on('message', (m: ScaleWorkerCommand) => commands.push(m));
const reply = (m: ScaleWorkerReply): void => port.postMessage(m);

function ev(events: number, sockid: number): MtcpEpollEvent {
  return { events, data: { sockid, ptr: null } };
}

function heapBytes(): number {
  return getHeapStatistics().used_heap_size;
}

function counters(mctx: MtcpContext): StackCounters {
  const st = mctx.stack.stats;
  return { framesIn: st.rxFrames, framesOut: st.txFrames, cpuSeconds: threadCpuNs() / 1e9, retransmits: st.tcpRetransmits, synCookies: st.tcpSynCookiesSent, drops: st.dropsByName() };
}

function held(mctx: MtcpContext): HeldAtEnd {
  const tcp = mctx.stack.tcp;
  let streams = 0;
  for (let s = 0; s < mctx.sockets.capacity; s++) if (mctx.sockets.kind[s] === SocketKind.Stream) streams++;
  return {
    controlBlocks: tcp.activeCount, sendBuffers: tcp.sndPool.inUse, recvBuffers: tcp.rcvPool.inUse,
    outOfOrderLists: tcp.recvBuffers.ooo.listsInUse, sackLists: tcp.recovery.scoreboard.ranges.listsInUse,
    flows: tcp.flows.size, timers: tcp.wheel.size, sockets: streams,
  };
}

/** The message connection `index` echoes: its index, then bytes that depend on it. */
function fillMessage(dst: Uint8Array, index: number): void {
  new DataView(dst.buffer, dst.byteOffset).setUint32(0, index);
  for (let i = 4; i < dst.length; i++) dst[i] = (index * 31 + i) & 0xff;
}

/** The next command, once it comes; reports asked for meanwhile are answered. */
async function nextCommand(mctx: MtcpContext): Promise<ScaleWorkerCommand> {
  for (;;) {
    while (commands.length === 0) await mtcp_epoll_wait(mctx, idleEpoll(mctx), createEpollEvents(1), 1, 20);
    const c = commands.shift()!;
    if (c !== 'report') return c;
    reply({ kind: 'report', counters: counters(mctx) });
  }
}

let idle = -1;
function idleEpoll(mctx: MtcpContext): number {
  if (idle < 0) idle = mtcp_epoll_create(mctx, 1);
  return idle;
}

async function server(mctx: MtcpContext): Promise<void> {
  const ep = mtcp_epoll_create(mctx, MAX_EVENTS);
  const listening = new Uint8Array(mctx.sockets.capacity);
  for (let i = 0; i < req.ports; i++) {
    const l = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (mtcp_bind(mctx, l, { sin_family: AF_INET, sin_addr: 0, sin_port: req.basePort + i }) < 0 || mtcp_listen(mctx, l, 4096) < 0) {
      throw new Error(`listen on ${req.basePort + i}: ${errnoName(mtcp_errno())}`);
    }
    listening[l] = 1;
    mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, l, ev(MTCP_EPOLLIN, l));
  }
  reply({ kind: 'ready', startupMs, counters: counters(mctx) });
  const events = createEpollEvents(MAX_EVENTS);
  const buf = new Uint8Array(64 * 1024);
  let accepted = 0;
  let open = 0;
  let closedReported = false;
  while (commands[0] !== 'stop') {
    if (commands[0] === 'report') {
      commands.shift();
      reply({ kind: 'report', counters: counters(mctx) });
    }
    const n = await mtcp_epoll_wait(mctx, ep, events, MAX_EVENTS, 10);
    for (let i = 0; i < n; i++) {
      const s = events[i].data.sockid;
      if (listening[s] !== 0) {
        for (let c = mtcp_accept(mctx, s, null); c >= 0; c = mtcp_accept(mctx, s, null)) {
          accepted++;
          open++;
          mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, c, ev(MTCP_EPOLLIN, c));
          if (accepted === req.connections) reply({ kind: 'established', count: accepted, failed: 0, heapBytes: heapBytes(), counters: counters(mctx) });
        }
        continue;
      }
      // Echo what arrives (a message fits the send buffer at once); close at the peer's FIN or an error.
      const r = mtcp_read(mctx, s, buf, buf.length);
      if (r > 0) {
        if (mtcp_write(mctx, s, buf, r) !== r) throw new Error(`echo write: ${errnoName(mtcp_errno())}`);
      } else if (r === 0 || mtcp_errno() !== EAGAIN) {
        mtcp_close(mctx, s);
        open--;
      }
    }
    if (!closedReported && accepted === req.connections && open === 0 && mctx.stack.tcp.activeCount === 0) {
      closedReported = true;
      reply({ kind: 'closed', held: held(mctx), heapBytes: heapBytes(), counters: counters(mctx) });
    }
  }
}

async function client(mctx: MtcpContext): Promise<void> {
  const cap = mctx.sockets.capacity;
  const ep = mtcp_epoll_create(mctx, MAX_EVENTS);
  /** Socket of each connection, by index, and the index of each socket. */
  const sockOf = new Int32Array(req.connections).fill(-1);
  const indexOf = new Int32Array(cap).fill(-1);
  const events = createEpollEvents(MAX_EVENTS);
  const ip = parseIpv4(req.serverIp);
  reply({ kind: 'ready', startupMs, counters: counters(mctx) });
  if ((await nextCommand(mctx)) !== 'connect') return;

  // Establish: keep `window` attempts in flight; each connection's first EPOLLOUT says it is up.
  let opened = 0;
  let pending = 0;
  let established = 0;
  let failed = 0;
  const addr = { sin_family: AF_INET, sin_addr: ip, sin_port: 0 };
  let deadline = mctx.now() + PHASE_LIMIT_MS;
  while (established + failed < req.connections && mctx.now() < deadline) {
    // The first connection goes alone: its SYN waits for ARP, and the stack holds only a few frames for that.
    const window = established === 0 ? 1 : req.window;
    while (pending < window && opened < req.connections) {
      const s = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      addr.sin_port = req.basePort + (opened % req.ports);
      if (s < 0 || (mtcp_connect(mctx, s, addr) < 0 && mtcp_errno() !== EINPROGRESS)) {
        throw new Error(`connection ${opened}: ${errnoName(mtcp_errno())}`);
      }
      sockOf[opened] = s;
      indexOf[s] = opened++;
      pending++;
      mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, s, ev(MTCP_EPOLLOUT, s));
    }
    const n = await mtcp_epoll_wait(mctx, ep, events, MAX_EVENTS, 10);
    for (let i = 0; i < n; i++) {
      const s = events[i].data.sockid;
      pending--;
      if (events[i].events & (MTCP_EPOLLERR | MTCP_EPOLLHUP)) {
        failed++;
        mtcp_close(mctx, s);
        sockOf[indexOf[s]] = -1;
        indexOf[s] = -1;
        continue;
      }
      established++;
      // Idle from now on: only its echo (or an error) is reported.
      mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, s, ev(MTCP_EPOLLIN, s));
    }
  }
  reply({ kind: 'established', count: established, failed, heapBytes: heapBytes(), counters: counters(mctx) });
  if ((await nextCommand(mctx)) !== 'echo') return;

  // Echo: a random share of the connections (a partial Fisher-Yates shuffle) each send a message and read it back.
  const chosen = Math.max(1, Math.round(req.connections * req.echoShare));
  const order = new Int32Array(req.connections);
  for (let i = 0; i < order.length; i++) order[i] = i;
  let rng = req.seed >>> 0 || 1;
  const got = new Int32Array(cap);
  const expected = new Uint8Array(req.messageSize);
  const msg = new Uint8Array(req.messageSize);
  const buf = new Uint8Array(req.messageSize);
  let waiting = 0;
  let ok = 0;
  for (let k = 0; k < chosen; k++) {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    const j = k + ((rng >>> 0) % (order.length - k));
    const index = order[j];
    order[j] = order[k];
    order[k] = index;
    const s = sockOf[index];
    if (s < 0) continue;
    fillMessage(msg, index);
    if (mtcp_write(mctx, s, msg, msg.length) !== msg.length) throw new Error(`echo write: ${errnoName(mtcp_errno())}`);
    got[s] = 0;
    waiting++;
  }
  deadline = mctx.now() + PHASE_LIMIT_MS;
  while (waiting > 0 && mctx.now() < deadline) {
    const n = await mtcp_epoll_wait(mctx, ep, events, MAX_EVENTS, 10);
    for (let i = 0; i < n; i++) {
      const s = events[i].data.sockid;
      const r = mtcp_read(mctx, s, buf, req.messageSize - got[s]);
      if (r <= 0) {
        if (r < 0 && mtcp_errno() === EAGAIN) continue;
        waiting--; // closed or failed before its echo came back
        continue;
      }
      fillMessage(expected, indexOf[s]);
      let same = true;
      for (let b = 0; b < r; b++) if (buf[b] !== expected[got[s] + b]) same = false;
      if (!same) {
        got[s] = -1 << 30; // counted as wrong, never completes
        waiting--;
        continue;
      }
      got[s] += r;
      if (got[s] === req.messageSize) {
        ok++;
        waiting--;
      }
    }
  }
  reply({ kind: 'echoed', chosen, ok, heapBytes: heapBytes() });
  if ((await nextCommand(mctx)) !== 'close') return;

  // Close every connection as a careful application does with many: `window` at a time, each with
  // shutdown(SHUT_WR) and close() once the server's FIN came back, so the FINs never queue up for longer than
  // a retransmission timeout. Then wait for the stack to give everything back (the last ACKs).
  let shut = 0;
  let closing = 0;
  deadline = mctx.now() + PHASE_LIMIT_MS;
  while ((shut < req.connections || closing > 0) && mctx.now() < deadline) {
    for (; closing < req.window && shut < req.connections; shut++) {
      const s = sockOf[shut];
      if (s < 0) continue;
      if (mtcp_shutdown(mctx, s, SHUT_WR) < 0) throw new Error(`shutdown: ${errnoName(mtcp_errno())}`);
      closing++;
    }
    const n = await mtcp_epoll_wait(mctx, ep, events, MAX_EVENTS, 10);
    for (let i = 0; i < n; i++) {
      const s = events[i].data.sockid;
      const r = mtcp_read(mctx, s, buf, buf.length);
      if (r < 0 && mtcp_errno() === EAGAIN) continue;
      mtcp_close(mctx, s);
      sockOf[indexOf[s]] = -1;
      closing--;
    }
  }
  while (mctx.stack.tcp.activeCount > 0 && mctx.now() < deadline) await mtcp_epoll_wait(mctx, ep, events, MAX_EVENTS, 10);
  reply({ kind: 'closed', held: held(mctx), heapBytes: heapBytes(), counters: counters(mctx) });
  await nextCommand(mctx);
}

let startupMs = 0;

async function main(): Promise<void> {
  const t0 = performance.now();
  const config = parseMtcpConf(req.confText, `<scale ${req.role}>`);
  if (mtcp_init(config, { shm: { wire: req.wire, port: req.port } }) < 0) throw new Error(`mtcp_init: ${errnoName(mtcp_errno())}`);
  mtcp_core_affinitize(req.cpu);
  const mctx = mtcp_create_context(0);
  if (!mctx) throw new Error(`mtcp_create_context: ${errnoName(mtcp_errno())}`);
  startupMs = performance.now() - t0;
  await (req.role === 'server' ? server(mctx) : client(mctx));
  mtcp_destroy_context(mctx);
  await mctx.closed;
  mtcp_destroy();
}

main().catch((err: unknown) => reply({ kind: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) }));
