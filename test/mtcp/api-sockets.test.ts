/** More of the mTCP API: pools running out, vectored and peeking reads, shutdown, abort, options, conf, pinning. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  AF_INET, EAGAIN, ECONNRESET, EINPROGRESS, EINVAL, ENOMEM, ENOPROTOOPT, EPERM, IPPROTO_TCP, MSG_PEEK, MTCP_EPOLLIN,
  MTCP_EPOLLOUT, MTCP_EPOLLRDHUP, MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_MOD, SHUT_WR, SOCK_NONBLOCK, SOCK_STREAM,
  SO_KEEPALIVE, SO_RCVBUF, SOL_SOCKET, TCP_KEEPCNT, TCP_NODELAY, createEpollEvents, mtcp_abort, mtcp_accept, mtcp_bind,
  mtcp_connect, mtcp_core_affinitize, mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno, mtcp_getconf,
  mtcp_getsockopt, mtcp_listen, mtcp_read, mtcp_readv, mtcp_recv, mtcp_setconf, mtcp_setsockopt, mtcp_shutdown,
  mtcp_socket, mtcp_write, mtcp_writev, type MtcpContext, type MtcpEpollEvent,
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

t.test('buffer pools never grow: the next connect fails with ENOMEM', async (t) => {
  const p = simPair({ maxConcurrency: 8, buffers: 3 });
  const m = p.client;
  const results: number[] = [];
  for (let i = 0; i < 4; i++) {
    const s = mtcp_socket(m, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    mtcp_connect(m, s, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 80 });
    results.push(mtcp_errno());
  }
  t.same(results, [EINPROGRESS, EINPROGRESS, EINPROGRESS, ENOMEM]);
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

t.test('mtcp_getconf / mtcp_setconf', async (t) => {
  const conf = { num_cores: 0, max_concurrency: 0, max_num_buffers: 0, rcvbuf_size: 0, sndbuf_size: 0, tcp_timewait: 0, tcp_timeout: 0 };
  t.equal(mtcp_getconf(conf), 0);
  t.same(conf, { num_cores: 1, max_concurrency: 10000, max_num_buffers: 10000, rcvbuf_size: 8192, sndbuf_size: 8192, tcp_timewait: 0, tcp_timeout: 30 });
  t.equal(mtcp_setconf({ max_concurrency: 0 }), -1, 'out of range');
  t.equal(mtcp_errno(), EINVAL);
  t.equal(mtcp_setconf({ max_concurrency: 500 }), 0);
  mtcp_getconf(conf);
  t.equal(conf.max_concurrency, 500);
  t.equal(EPERM, 1);
});

t.test('mtcp_setconf num_cores: core_mask grows to the new count unless it already has enough CPUs', async (t) => {
  const { config } = await import('../helpers/stacks.ts');
  const { mtcp_destroy, mtcp_init, mtcp_runtime } = await import('../../src/index.ts');
  const { maskCpus } = await import('../../src/config/mtcp-conf.ts');
  t.same([maskCpus(0b1010), maskCpus(0), maskCpus(2 ** 51)], [[1, 3], [], [51]], 'the CPUs of a mask, lowest first');
  mtcp_destroy(); // forget the settings of the test above
  const base = config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' });
  t.equal(mtcp_setconf({ num_cores: 2 }), 0);
  t.equal(mtcp_init(base), 0);
  t.same([mtcp_runtime()!.config.numCores, mtcp_runtime()!.config.coreMask], [2, 0b11], 'the default mask of 2 cores');
  mtcp_destroy();
  t.equal(mtcp_setconf({ num_cores: 2 }), 0);
  t.equal(mtcp_init({ ...base, coreMask: 0b1010 }), 0);
  t.equal(mtcp_runtime()!.config.coreMask, 0b1010, 'a mask with 2 CPUs stays');
  mtcp_destroy();
});

t.test('mtcp_core_affinitize pins the calling thread', async (t) => {
  t.equal(mtcp_core_affinitize(0), 0);
  const status = readFileSync('/proc/thread-self/status', 'utf8');
  t.match(status, /Cpus_allowed_list:\s*0\n/);
  t.equal(mtcp_core_affinitize(4096), -1, 'no such core');
  t.equal(mtcp_errno(), EINVAL);
});

t.test('mtcp_epoll_wait times out on time in real time (shm)', async (t) => {
  const { MtcpRuntime } = await import('../../src/mtcp/runtime.ts');
  const { config } = await import('../helpers/stacks.ts');
  const { mtcp_destroy_context } = await import('../../src/index.ts');
  const rt = new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' }));
  const m = rt.createContext(0);
  const ep = mtcp_epoll_create(m, 4);
  const events = createEpollEvents(4);
  for (const ms of [0, 50, 300]) {
    const t0 = performance.now();
    t.equal(await mtcp_epoll_wait(m, ep, events, 4, ms), 0);
    const took = performance.now() - t0;
    t.ok(took >= ms && took < ms + 50, `timeout ${ms} ms returned after ${took.toFixed(1)} ms`);
  }
  // Node's own timers keep running while the stack waits.
  let fired = false;
  setTimeout(() => (fired = true), 20);
  await mtcp_epoll_wait(m, ep, events, 4, 100);
  t.ok(fired, 'a setTimeout fired during mtcp_epoll_wait');
  mtcp_destroy_context(m);
  await m.closed;
});
