/**
 * The benchmark workloads on the mTCP API: an echo/sink server and three
 * clients (short connections, ping-pong, bulk). Written as an mTCP application
 * would be: non-blocking sockets and one level-triggered epoll loop per core.
 */
import {
  AF_INET, MTCP_EPOLLERR, MTCP_EPOLLHUP, MTCP_EPOLLIN, MTCP_EPOLLOUT, MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_MOD,
  SOCK_NONBLOCK, SOCK_STREAM, EAGAIN, EINPROGRESS, createEpollEvents, mtcp_accept, mtcp_bind, mtcp_close,
  mtcp_connect, mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno, mtcp_listen, mtcp_read,
  mtcp_socket, mtcp_write, type MtcpContext, type MtcpEpollEvent, errnoName,
} from '../../src/index.ts';
import { LatencyRecorder, type WorkloadResult, type WorkloadSpec } from './workload.ts';

const MAX_EVENTS = 1024;

function epollEvent(events: number, sockid: number): MtcpEpollEvent {
  return { events, data: { sockid, ptr: null } };
}

/**
 * Echo server (mode 'echo') or sink (mode 'sink') on `port` until `stop()`
 * returns true. Returns bytes received.
 */
export async function mtcpServer(
  mctx: MtcpContext, port: number, mode: 'echo' | 'sink', stop: () => boolean, onListening?: () => void,
): Promise<number> {
  const ep = mtcp_epoll_create(mctx, MAX_EVENTS);
  const lsock = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (mtcp_bind(mctx, lsock, { sin_family: AF_INET, sin_addr: 0, sin_port: port }) < 0) {
    throw new Error(`bind: ${errnoName(mtcp_errno())}`);
  }
  if (mtcp_listen(mctx, lsock, 4096) < 0) throw new Error(`listen: ${errnoName(mtcp_errno())}`);
  onListening?.();
  mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, lsock, epollEvent(MTCP_EPOLLIN, lsock));
  const events = createEpollEvents(MAX_EVENTS);
  const buf = new Uint8Array(256 * 1024);
  // Per socket id, in arrays sized once (no Map or Set operation per connection):
  const cap = mctx.sockets.capacity;
  // echo bytes not yet written back (the socket stops being read until they are),
  const backlog: (Uint8Array | null)[] = new Array<Uint8Array | null>(cap).fill(null);
  // the peer finished sending: close once the backlog is written,
  const ended = new Uint8Array(cap);
  const open = new Uint8Array(cap);
  const ev = epollEvent(MTCP_EPOLLIN, 0);
  const setInterest = (s: number, events: number, op: number): void => {
    ev.events = events;
    ev.data.sockid = s;
    mtcp_epoll_ctl(mctx, ep, op, s, ev);
  };
  let received = 0;
  const closeSock = (s: number): void => {
    backlog[s] = null;
    ended[s] = 0;
    open[s] = 0;
    mtcp_close(mctx, s);
  };
  while (!stop()) {
    const n = await mtcp_epoll_wait(mctx, ep, events, MAX_EVENTS, 100);
    for (let i = 0; i < n; i++) {
      const s = events[i].data.sockid;
      const ev = events[i].events;
      if (s === lsock) {
        for (;;) {
          const c = mtcp_accept(mctx, lsock, null);
          if (c < 0) break;
          open[c] = 1;
          setInterest(c, MTCP_EPOLLIN, MTCP_EPOLL_CTL_ADD);
        }
        continue;
      }
      if (ev & MTCP_EPOLLERR) {
        closeSock(s);
        continue;
      }
      const pending = backlog[s];
      if (pending !== null) {
        if (!(ev & MTCP_EPOLLOUT)) {
          if (ev & MTCP_EPOLLHUP) closeSock(s); // cannot send any more
        } else {
          const w = mtcp_write(mctx, s, pending, pending.length);
          if (w === pending.length) {
            backlog[s] = null;
            if (ended[s] === 1) closeSock(s);
            else setInterest(s, MTCP_EPOLLIN, MTCP_EPOLL_CTL_MOD);
          } else if (w > 0) {
            backlog[s] = pending.subarray(w);
          } else if (mtcp_errno() !== EAGAIN) {
            closeSock(s);
          }
        }
        continue;
      }
      if (ev & (MTCP_EPOLLIN | MTCP_EPOLLHUP)) {
        for (;;) {
          const r = mtcp_read(mctx, s, buf, buf.length);
          if (r > 0) {
            received += r;
            if (mode === 'echo') {
              const w = mtcp_write(mctx, s, buf, r);
              const written = w < 0 ? 0 : w;
              if (written < r) {
                backlog[s] = buf.slice(written, r);
                setInterest(s, MTCP_EPOLLOUT, MTCP_EPOLL_CTL_MOD);
                break;
              }
            }
            continue;
          }
          if (r === 0 && backlog[s] !== null) ended[s] = 1;
          else if (r === 0 || mtcp_errno() !== EAGAIN) closeSock(s);
          break;
        }
      }
    }
  }
  for (let s = 0; s < cap; s++) if (open[s] === 1) mtcp_close(mctx, s);
  mtcp_close(mctx, lsock);
  mtcp_close(mctx, ep);
  return received;
}

/** Run one client workload against ip:port. `onTick` is called about once per `tickMs` with the running totals. */
export async function mtcpClient(
  mctx: MtcpContext, ip: number, port: number, spec: WorkloadSpec, onTick?: (r: WorkloadResult) => void,
): Promise<WorkloadResult> {
  const ep = mtcp_epoll_create(mctx, MAX_EVENTS);
  const events = createEpollEvents(MAX_EVENTS);
  const cap = mctx.sockets.capacity;
  const sent = new Int32Array(cap); // bytes of the current request written
  const got = new Int32Array(cap); // bytes of the current reply read
  const startedAt = new Float64Array(cap); // when the current request (or connection) began
  const reqsOnConn = new Int32Array(cap);
  const interest = new Int32Array(cap); // the epoll interest registered for each socket
  const req = new Uint8Array(Math.max(spec.messageSize, 1)).fill(0x61);
  const buf = new Uint8Array(256 * 1024);
  const lat = new LatencyRecorder();
  const res: WorkloadResult = { connections: 0, requests: 0, bytes: 0, errors: 0, seconds: 0, latency: lat };
  const addr = { sin_family: AF_INET, sin_addr: ip, sin_port: port };
  const event = epollEvent(0, 0); // reused by every epoll_ctl (the call copies it)
  const bulk = spec.kind === 'bulk';
  const t0 = mctx.now();
  let lastTick = t0;
  const end = t0 + spec.durationMs;
  const total = spec.totalConnections ?? Infinity;
  const totalRequests = spec.totalRequests ?? Infinity;
  let opened = 0;
  let open = 0;

  const openOne = (): void => {
    if (opened >= total) return;
    opened++;
    const s = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s < 0) {
      res.errors++;
      return;
    }
    const r = mtcp_connect(mctx, s, addr);
    if (r < 0 && mtcp_errno() !== EINPROGRESS) {
      res.errors++;
      mtcp_close(mctx, s);
      return;
    }
    open++;
    sent[s] = got[s] = reqsOnConn[s] = 0;
    startedAt[s] = mctx.now();
    interest[s] = MTCP_EPOLLOUT;
    event.events = MTCP_EPOLLOUT;
    event.data.sockid = s;
    mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, s, event);
  };
  const setInterest = (s: number, ev: number): void => {
    if (interest[s] === ev) return;
    interest[s] = ev;
    event.events = ev;
    event.data.sockid = s;
    mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, s, event);
  };
  const closeOne = (s: number, error: boolean): void => {
    if (error) res.errors++;
    open--;
    mtcp_close(mctx, s);
  };
  const writeRequest = (s: number): void => {
    const size = bulk ? buf.length : req.length;
    const src = bulk ? buf : req;
    while (true) {
      const w = mtcp_write(mctx, s, src, bulk ? size : size - sent[s]);
      if (w < 0) {
        if (mtcp_errno() !== EAGAIN) closeOne(s, true);
        return;
      }
      if (bulk) {
        res.bytes += w;
        if (w < size) return; // keep OUT interest
        continue;
      }
      sent[s] += w;
      setInterest(s, sent[s] === size ? MTCP_EPOLLIN : MTCP_EPOLLOUT);
      return;
    }
  };

  for (let i = 0; i < spec.concurrency; i++) openOne();
  while (true) {
    const now = mctx.now();
    if (now >= end || (opened >= total && open === 0) || res.requests >= totalRequests) break;
    if (onTick && now - lastTick >= 1000) {
      lastTick = now;
      res.seconds = (now - t0) / 1000;
      onTick(res);
    }
    const n = await mtcp_epoll_wait(mctx, ep, events, MAX_EVENTS, 50);
    for (let i = 0; i < n; i++) {
      const s = events[i].data.sockid;
      const ev = events[i].events;
      if (ev & MTCP_EPOLLERR) {
        closeOne(s, true);
        if (!bulk) openOne();
        continue;
      }
      if (ev & MTCP_EPOLLOUT) {
        if (sent[s] === 0 && reqsOnConn[s] === 0 && !bulk) startedAt[s] = mctx.now();
        writeRequest(s);
        continue;
      }
      if (ev & (MTCP_EPOLLIN | MTCP_EPOLLHUP)) {
        const r = mtcp_read(mctx, s, buf, buf.length);
        if (r <= 0) {
          if (r < 0 && mtcp_errno() === EAGAIN) continue;
          closeOne(s, true); // the server closed early
          if (!bulk) openOne();
          continue;
        }
        got[s] += r;
        res.bytes += r;
        if (got[s] < req.length) continue;
        res.requests++;
        lat.record(mctx.now() - startedAt[s]);
        reqsOnConn[s]++;
        if (spec.kind === 'short' || (spec.requestsPerConnection > 0 && reqsOnConn[s] >= spec.requestsPerConnection)) {
          res.connections++;
          closeOne(s, false);
          openOne();
          continue;
        }
        sent[s] = got[s] = 0;
        startedAt[s] = mctx.now();
        writeRequest(s);
      }
    }
  }
  res.seconds = (mctx.now() - t0) / 1000;
  for (const s of mctx.sockets.registeredWith(ep)) mtcp_close(mctx, s);
  mtcp_close(mctx, ep);
  return res;
}
