/**
 * The socket calls of the mTCP API over two stacks on the simulated wire: pools running out, vectored
 * and peeking reads, shutdown, abort, options.
 */
import t from 'tap';
import {
  AF_INET, EAGAIN, ECONNRESET, EINPROGRESS, EINVAL, ENOMEM, ENOPROTOOPT, IPPROTO_TCP, MSG_PEEK, MTCP_EPOLLIN,
  MTCP_EPOLLOUT, MTCP_EPOLLRDHUP, MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_MOD, SHUT_WR, SOCK_NONBLOCK, SOCK_STREAM,
  SO_KEEPALIVE, SO_RCVBUF, SOL_SOCKET, TCP_KEEPCNT, TCP_NODELAY, createEpollEvents, mtcp_abort, mtcp_accept, mtcp_bind,
  mtcp_connect, mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno, mtcp_getsockopt, mtcp_listen, mtcp_read,
  mtcp_readv, mtcp_recv, mtcp_setsockopt, mtcp_shutdown, mtcp_socket, mtcp_write, mtcp_writev, type MtcpContext,
  type MtcpEpollEvent,
} from '../../src/index.ts';
import { SERVER_IP, simPair } from '../helpers/stacks.ts';

/** A connected pair of sockets: [client socket, server socket], both in epolls. */
async function connected(client: MtcpContext, server: MtcpContext): Promise<{ c: number; s: number; cep: number; sep: number; events: MtcpEpollEvent[] }> {
  const events = createEpollEvents(16);
  const sep = mtcp_epoll_create(server, 16);
  const ls = mtcp_socket(server, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  mtcp_bind(server, ls, { sin_family: AF_INET, sin_addr: 0, sin_port: 80 });
  mtcp_listen(server, ls, 16);
  mtcp_epoll_ctl(server, sep, MTCP_EPOLL_CTL_ADD, ls, { events: MTCP_EPOLLIN, data: { sockid: ls, ptr: null } });
  const cep = mtcp_epoll_create(client, 16);
  const c = mtcp_socket(client, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  mtcp_connect(client, c, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 80 });
  mtcp_epoll_ctl(client, cep, MTCP_EPOLL_CTL_ADD, c, { events: MTCP_EPOLLOUT, data: { sockid: c, ptr: null } });
  await mtcp_epoll_wait(client, cep, events, 16, 5000);
  await mtcp_epoll_wait(server, sep, events, 16, 5000);
  const s = mtcp_accept(server, ls, null);
  mtcp_epoll_ctl(server, sep, MTCP_EPOLL_CTL_ADD, s, { events: MTCP_EPOLLIN | MTCP_EPOLLRDHUP, data: { sockid: s, ptr: null } });
  mtcp_epoll_ctl(client, cep, MTCP_EPOLL_CTL_MOD, c, { events: MTCP_EPOLLIN | MTCP_EPOLLRDHUP, data: { sockid: c, ptr: null } });
  return { c, s, cep, sep, events };
}

async function waitFor(m: MtcpContext, ep: number, sock: number, events: MtcpEpollEvent[]): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const n = await mtcp_epoll_wait(m, ep, events, 16, 1000);
    for (let k = 0; k < n; k++) if (events[k].data.sockid === sock) return events[k].events;
  }
  return 0;
}

t.test('buffer pools never grow: a connection takes a send buffer on its first write, and a write that finds none fails with ENOMEM', async (t) => {
  const p = simPair({ maxConcurrency: 8, buffers: 3 });
  const m = p.client;
  const ls = mtcp_socket(p.server, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  mtcp_bind(p.server, ls, { sin_family: AF_INET, sin_addr: 0, sin_port: 80 });
  mtcp_listen(p.server, ls, 16);
  const ep = mtcp_epoll_create(m, 16);
  const events = createEpollEvents(16);
  const conns: number[] = [];
  for (let i = 0; i < 4; i++) {
    const c = mtcp_socket(m, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    t.equal(mtcp_connect(m, c, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 80 }), -1);
    t.equal(mtcp_errno(), EINPROGRESS, 'the connect itself needs no buffer');
    mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, c, { events: MTCP_EPOLLOUT, data: { sockid: c, ptr: null } });
    conns.push(c);
  }
  const writable = new Set<number>();
  for (let i = 0; i < 50 && writable.size < 4; i++) {
    const n = await mtcp_epoll_wait(m, ep, events, 16, 1000);
    for (let k = 0; k < n; k++) if (events[k].events & MTCP_EPOLLOUT) writable.add(events[k].data.sockid);
  }
  t.equal(writable.size, 4, 'all four established');
  t.equal(m.stack.tcp.sndPool.inUse, 0, 'connected, nothing written: no buffer held');
  const results: number[] = [];
  for (const c of conns) {
    const n = mtcp_write(m, c, new Uint8Array(10), 10);
    results.push(n < 0 ? mtcp_errno() : n);
  }
  t.same(results, [10, 10, 10, ENOMEM], 'three buffers for three connections, the fourth write fails with ENOMEM (as mTCP\'s)');
  t.equal(m.stack.tcp.sndPool.inUse, 3);
  t.equal(m.stack.tcp.sndPool.highWater, 3);
  await p.close();
});

t.test('writev, readv, MSG_PEEK', async (t) => {
  const p = simPair();
  const { c, s, sep, events } = await connected(p.client, p.server);
  const n = mtcp_writev(p.client, c, [{ iov_base: new Uint8Array([1, 2]), iov_len: 2 }, { iov_base: new Uint8Array([3, 4, 5]), iov_len: 3 }], 2);
  t.equal(n, 5);
  t.ok((await waitFor(p.server, sep, s, events)) & MTCP_EPOLLIN);
  const peek = new Uint8Array(8);
  t.equal(mtcp_recv(p.server, s, peek, 8, MSG_PEEK), 5);
  const a = new Uint8Array(3);
  const b = new Uint8Array(3);
  t.equal(mtcp_readv(p.server, s, [{ iov_base: a, iov_len: 3 }, { iov_base: b, iov_len: 3 }], 2), 5, 'the peeked data is still there');
  t.same([...a, ...b.subarray(0, 2)], [1, 2, 3, 4, 5]);
  t.equal(mtcp_recv(p.server, s, peek, 8, 0x40), -1, 'unsupported flags');
  await p.close();
});

t.test('shutdown(SHUT_WR) gives the peer EOF and RDHUP; the other direction still works', async (t) => {
  const p = simPair();
  const { c, s, cep, sep, events } = await connected(p.client, p.server);
  t.equal(mtcp_shutdown(p.client, c, SHUT_WR), 0);
  const ev = await waitFor(p.server, sep, s, events);
  t.ok(ev & MTCP_EPOLLRDHUP, 'RDHUP');
  t.equal(mtcp_read(p.server, s, new Uint8Array(4), 4), 0, 'EOF');
  t.equal(mtcp_write(p.client, c, new Uint8Array(1), 1), -1, 'no writing after SHUT_WR');
  t.equal(mtcp_write(p.server, s, new Uint8Array([42]), 1), 1, 'half-open: the server still sends');
  t.ok((await waitFor(p.client, cep, c, events)) & MTCP_EPOLLIN);
  const got = new Uint8Array(4);
  t.equal(mtcp_read(p.client, c, got, 4), 1);
  t.equal(got[0], 42);
  await p.close();
});

t.test('mtcp_abort resets the peer (ECONNRESET)', async (t) => {
  const p = simPair();
  const { c, s, sep, events } = await connected(p.client, p.server);
  t.equal(mtcp_abort(p.client, c), 0);
  await waitFor(p.server, sep, s, events);
  t.equal(mtcp_read(p.server, s, new Uint8Array(4), 4), -1);
  t.equal(mtcp_errno(), ECONNRESET);
  await p.close();
});

t.test('options are honoured or refused, never ignored', async (t) => {
  const p = simPair({ rcvbuf: 16384 });
  const m = p.client;
  const s = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
  t.equal(mtcp_setsockopt(m, s, IPPROTO_TCP, TCP_NODELAY, 1), 0);
  const v = { value: 0 };
  t.equal(mtcp_getsockopt(m, s, IPPROTO_TCP, TCP_NODELAY, v), 0);
  t.equal(v.value, 1);
  t.equal(mtcp_setsockopt(m, s, SOL_SOCKET, SO_RCVBUF, 16384), 0, 'the pool size is accepted');
  t.equal(mtcp_setsockopt(m, s, SOL_SOCKET, SO_RCVBUF, 4096), -1, 'another size is refused');
  t.equal(mtcp_errno(), EINVAL);
  t.equal(mtcp_setsockopt(m, s, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
  t.equal(mtcp_getsockopt(m, s, SOL_SOCKET, SO_KEEPALIVE, v), 0);
  t.equal(v.value, 1);
  t.equal(mtcp_setsockopt(m, s, IPPROTO_TCP, TCP_KEEPCNT, 0), -1, 'TCP_KEEPCNT out of range');
  t.equal(mtcp_errno(), EINVAL);
  t.equal(mtcp_setsockopt(m, s, SOL_SOCKET, 13 /* SO_LINGER */, 1), -1, 'unsupported: refused, not ignored');
  t.equal(mtcp_errno(), ENOPROTOOPT);
  t.equal(mtcp_read(m, s, new Uint8Array(1), 1), -1);
  t.not(mtcp_errno(), EAGAIN, 'an unconnected socket is not EAGAIN');
  await p.close();
});
