/**
 * A test client: `conns` connections at once, each sending `size` bytes of
 * seeded pseudo-random data to an echo server and reading them back, with
 * sha256 of what was sent and what came back compared per connection.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  AF_INET, EAGAIN, EINPROGRESS, MTCP_EPOLLERR, MTCP_EPOLLHUP, MTCP_EPOLLIN, MTCP_EPOLLOUT, MTCP_EPOLL_CTL_ADD,
  MTCP_EPOLL_CTL_MOD, SOCK_NONBLOCK, SOCK_STREAM, createEpollEvents, errnoName, mtcp_close, mtcp_connect,
  mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno, mtcp_read, mtcp_shutdown, mtcp_socket,
  mtcp_write, SHUT_WR, type MtcpContext,
} from '../../src/index.ts';

export interface EchoOutcome {
  completed: number;
  mismatches: number;
  errors: string[];
}

/** Deterministic bytes for connection `i`, offset `off`. */
function fill(buf: Uint8Array, len: number, i: number, off: number): void {
  for (let k = 0; k < len; k++) {
    const x = (off + k) * 2654435761 + i * 40503;
    buf[k] = (x ^ (x >>> 13)) & 0xff;
  }
}

export async function echoClient(
  mctx: MtcpContext, ip: number, port: number, conns: number, size: number, timeoutMs: number,
): Promise<EchoOutcome> {
  const ep = mtcp_epoll_create(mctx, 1024);
  const events = createEpollEvents(1024);
  const out: EchoOutcome = { completed: 0, mismatches: 0, errors: [] };
  const state = new Map<number, { i: number; sent: number; got: number; tx: Hash; rx: Hash; shut: boolean }>();
  const chunk = new Uint8Array(16384);
  const rbuf = new Uint8Array(65536);
  for (let i = 0; i < conns; i++) {
    const s = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s < 0) throw new Error(`socket: ${errnoName(mtcp_errno())}`);
    const r = mtcp_connect(mctx, s, { sin_family: AF_INET, sin_addr: ip, sin_port: port });
    if (r < 0 && mtcp_errno() !== EINPROGRESS) throw new Error(`connect: ${errnoName(mtcp_errno())}`);
    state.set(s, { i, sent: 0, got: 0, tx: createHash('sha256'), rx: createHash('sha256'), shut: false });
    mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, s, { events: MTCP_EPOLLOUT | MTCP_EPOLLIN, data: { sockid: s, ptr: null } });
  }
  const deadline = mctx.now() + timeoutMs;
  const finish = (s: number, error?: string): void => {
    const st = state.get(s)!;
    if (error) out.errors.push(`conn ${st.i}: ${error}`);
    else if (st.tx.digest('hex') !== st.rx.digest('hex')) out.mismatches++;
    else out.completed++;
    state.delete(s);
    mtcp_close(mctx, s);
  };
  while (state.size > 0 && mctx.now() < deadline) {
    const n = await mtcp_epoll_wait(mctx, ep, events, 1024, 1000);
    for (let k = 0; k < n; k++) {
      const s = events[k].data.sockid;
      const ev = events[k].events;
      const st = state.get(s);
      if (!st) continue;
      if (ev & MTCP_EPOLLOUT && st.sent < size) {
        while (st.sent < size) {
          const len = Math.min(chunk.length, size - st.sent);
          fill(chunk, len, st.i, st.sent);
          const w = mtcp_write(mctx, s, chunk, len);
          if (w < 0) {
            if (mtcp_errno() !== EAGAIN) finish(s, `write: ${errnoName(mtcp_errno())}`);
            break;
          }
          st.tx.update(chunk.subarray(0, w));
          st.sent += w;
          if (w < len) break;
        }
        if (!state.has(s)) continue;
        if (st.sent === size && !st.shut) {
          st.shut = true;
          mtcp_shutdown(mctx, s, SHUT_WR);
          mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, s, { events: MTCP_EPOLLIN, data: { sockid: s, ptr: null } });
        }
      }
      if (ev & (MTCP_EPOLLIN | MTCP_EPOLLHUP | MTCP_EPOLLERR)) {
        for (;;) {
          const r = mtcp_read(mctx, s, rbuf, rbuf.length);
          if (r > 0) {
            st.rx.update(rbuf.subarray(0, r));
            st.got += r;
            continue;
          }
          if (r === 0) {
            finish(s, st.got === size ? undefined : `EOF after ${st.got} of ${size} bytes`);
          } else if (mtcp_errno() !== EAGAIN) {
            finish(s, `read: ${errnoName(mtcp_errno())}`);
          }
          break;
        }
      }
    }
  }
  for (const [s, st] of state) {
    out.errors.push(`conn ${st.i}: timed out (sent ${st.sent}, got ${st.got})`);
    mtcp_close(mctx, s);
  }
  mtcp_close(mctx, ep);
  return out;
}
