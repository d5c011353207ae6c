/**
 * The mTCP API over two stacks on the simulated wire: errors, epoll timeouts in virtual and real time,
 * refused and timed-out connections, pools.
 */
import t from 'tap';
import {
  AF_INET, EADDRINUSE, EAGAIN, EBADF, ECONNREFUSED, EINPROGRESS, EINVAL, ENOTCONN, ETIMEDOUT, MTCP_EPOLLERR,
  MTCP_EPOLLIN, MTCP_EPOLLOUT, MTCP_EPOLL_CTL_ADD, SOCK_NONBLOCK, SOCK_STREAM, SO_ERROR, SOL_SOCKET, createEpollEvents,
  mtcp_accept, mtcp_bind, mtcp_close, mtcp_connect, mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno,
  mtcp_getsockopt, mtcp_listen, mtcp_read, mtcp_socket, mtcp_write, mtcp_getpeername, mtcp_socket_ioctl, FIONREAD,
  type MtcpContext,
} from '../../src/index.ts';
import { CLIENT_IP, SERVER_IP, simPair, type StackPair } from '../helpers/stacks.ts';
import { mtcpClient, mtcpServer } from '../../bench/lib/mtcp-workload.ts';

function listener(mctx: MtcpContext, port: number): number {
  const s = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (mtcp_bind(mctx, s, { sin_family: AF_INET, sin_addr: 0, sin_port: port }) < 0) throw new Error('bind');
  if (mtcp_listen(mctx, s, 128) < 0) throw new Error('listen');
  return s;
}

/**
 * A listener on the server's port 80 watched for EPOLLIN by epoll `sep`, and a non-blocking client socket `s`
 * connecting to it, watched for `events` by epoll `ep` on the client context `m`.
 */
function connecting(p: StackPair, events: number): { ls: number; sep: number; m: MtcpContext; ep: number; s: number } {
  const ls = listener(p.server, 80);
  const sep = mtcp_epoll_create(p.server, 16);
  mtcp_epoll_ctl(p.server, sep, MTCP_EPOLL_CTL_ADD, ls, { events: MTCP_EPOLLIN, data: { sockid: ls, ptr: null } });
  const m = p.client;
  const ep = mtcp_epoll_create(m, 16);
  const s = mtcp_socket(m, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  mtcp_connect(m, s, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 80 });
  mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, s, { events, data: { sockid: s, ptr: null } });
  return { ls, sep, m, ep, s };
}

t.test('argument and state errors set errno', async (t) => {
  const p = simPair();
  const m = p.client;
  t.equal(mtcp_read(m, 999, new Uint8Array(4), 4), -1);
  t.equal(mtcp_errno(), EBADF);
  t.equal(m.errno, EBADF, 'per-context errno too');
  t.equal(mtcp_socket(m, 99, SOCK_STREAM, 0), -1);
  const s = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
  t.ok(s >= 0);
  t.equal(mtcp_read(m, s, new Uint8Array(4), 4), -1, 'read on an unconnected socket');
  t.equal(mtcp_errno(), ENOTCONN);
  t.equal(mtcp_listen(m, s, 10), -1, 'listen before bind');
  t.equal(mtcp_errno(), EINVAL);
  t.equal(mtcp_bind(m, s, { sin_family: AF_INET, sin_addr: 0, sin_port: 80 }), 0);
  t.equal(mtcp_bind(m, s, { sin_family: AF_INET, sin_addr: 0, sin_port: 81 }), -1, 'bind twice');
  const s2 = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
  t.equal(mtcp_bind(m, s2, { sin_family: AF_INET, sin_addr: 0, sin_port: 80 }), -1, 'port in use');
  t.equal(mtcp_errno(), EADDRINUSE);
  t.equal(mtcp_write(m, s2, new Uint8Array(4), 4), -1, 'write on an unconnected socket');
  t.equal(mtcp_errno(), ENOTCONN);
  t.equal(mtcp_connect(m, s2, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 0 }), -1, 'connect to port 0');
  t.equal(mtcp_errno(), EINVAL);
  const peer = { sin_family: AF_INET, sin_addr: 0, sin_port: 0 };
  t.equal(mtcp_getpeername(m, s2, peer), -1);
  t.equal(mtcp_errno(), ENOTCONN);
  t.equal(mtcp_close(m, s), 0);
  t.equal(mtcp_close(m, s), -1, 'double close');
  t.equal(mtcp_errno(), EBADF);
  await p.close();
});

t.test('mtcp_epoll_wait returns 0 when its timeout passes (virtual time)', async (t) => {
  const p = simPair();
  const ep = mtcp_epoll_create(p.client, 16);
  const events = createEpollEvents(16);
  const t0 = p.client.now();
  const n = await mtcp_epoll_wait(p.client, ep, events, 16, 2500);
  t.equal(n, 0);
  const waited = p.client.now() - t0;
  t.ok(waited >= 2500 && waited < 2600, `returned after ${waited} ms`);
  await p.close();
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

t.test('connecting to a closed port fails with ECONNREFUSED', async (t) => {
  const p = simPair();
  const m = p.client;
  const ep = mtcp_epoll_create(m, 16);
  const s = mtcp_socket(m, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  t.equal(mtcp_connect(m, s, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 9 }), -1);
  t.equal(mtcp_errno(), EINPROGRESS);
  mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, s, { events: MTCP_EPOLLOUT, data: { sockid: s, ptr: null } });
  const events = createEpollEvents(4);
  const n = await mtcp_epoll_wait(m, ep, events, 4, 10_000);
  t.equal(n, 1);
  t.ok(events[0].events & MTCP_EPOLLERR, 'EPOLLERR');
  const err = { value: -1 };
  t.equal(mtcp_getsockopt(m, s, SOL_SOCKET, SO_ERROR, err), 0);
  t.equal(err.value, ECONNREFUSED);
  await p.close();
});

t.test('the idle timeout (tcp_timeout) fails a silent connection with ETIMEDOUT', async (t) => {
  const p = simPair({ tcpTimeout: 3 });
  const { ls, sep, m, ep, s } = connecting(p, MTCP_EPOLLIN);
  const events = createEpollEvents(4);
  // The server accepts and then the server stack stops answering (its context is destroyed quietly).
  t.equal(await mtcp_epoll_wait(p.server, sep, events, 4, 5000), 1);
  const c = mtcp_accept(p.server, ls, null);
  t.ok(c >= 0);
  p.server.stop();
  const t0 = m.now();
  const n = await mtcp_epoll_wait(m, ep, events, 4, 60_000);
  t.equal(n, 1);
  const buf = new Uint8Array(8);
  t.equal(mtcp_read(m, s, buf, 8), -1);
  t.equal(mtcp_errno(), ETIMEDOUT);
  const after = m.now() - t0;
  t.ok(after >= 2900 && after <= 3100, `timed out after ${after} ms (tcp_timeout = 3 s)`);
  await p.close();
});

t.test('data arrives, FIONREAD counts it, the peer address is known', async (t) => {
  const p = simPair();
  const { ls, sep, m, ep, s } = connecting(p, MTCP_EPOLLOUT);
  const events = createEpollEvents(4);
  t.equal(await mtcp_epoll_wait(m, ep, events, 4, 5000), 1);
  t.equal(mtcp_write(m, s, new Uint8Array([1, 2, 3]), 3), 3);
  t.equal(await mtcp_epoll_wait(p.server, sep, events, 4, 5000), 1);
  const addr = { sin_family: 0, sin_addr: 0, sin_port: 0 };
  const c = mtcp_accept(p.server, ls, addr);
  t.equal(addr.sin_addr, CLIENT_IP);
  t.equal(addr.sin_family, AF_INET);
  mtcp_epoll_ctl(p.server, sep, MTCP_EPOLL_CTL_ADD, c, { events: MTCP_EPOLLIN, data: { sockid: c, ptr: null } });
  while (true) {
    const n = await mtcp_epoll_wait(p.server, sep, events, 4, 5000);
    if (n > 0 && events.slice(0, n).some((e) => e.data.sockid === c)) break;
  }
  const q = { value: 0 };
  t.equal(mtcp_socket_ioctl(p.server, c, FIONREAD, q), 0);
  t.equal(q.value, 3);
  const buf = new Uint8Array(8);
  t.equal(mtcp_read(p.server, c, buf, 8), 3);
  t.equal(mtcp_read(p.server, c, buf, 8), -1);
  t.equal(mtcp_errno(), EAGAIN);
  await p.close();
});

t.test('10,000 short connections leave no control block, buffer, socket or timer behind', async (t) => {
  const p = simPair({ maxConcurrency: 256 });
  p.wire.impair({ delayMs: 0.05 }); // virtual time moves with every frame
  let stop = false;
  const server = mtcpServer(p.server, 80, 'echo', () => stop);
  let result = await mtcpClient(p.client, SERVER_IP, 80, { kind: 'short', concurrency: 32, messageSize: 64, durationMs: 200, requestsPerConnection: 1 });
  // Run until at least 10,000 connections completed .
  let total = result.connections;
  while (total < 10_000) {
    result = await mtcpClient(p.client, SERVER_IP, 80, { kind: 'short', concurrency: 32, messageSize: 64, durationMs: 200, requestsPerConnection: 1 });
    total += result.connections;
  }
  t.ok(total >= 10_000, `${total} connections`);
  t.equal(result.errors, 0);
  stop = true;
  await server;
  for (let i = 0; i < 200 && p.server.stack.tcp.activeCount + p.client.stack.tcp.activeCount > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const [name, m] of [['server', p.server], ['client', p.client]] as const) {
    t.equal(m.stack.tcp.activeCount, 0, `${name}: control blocks`);
    t.equal(m.stack.tcp.sndPool.inUse, 0, `${name}: send buffers`);
    t.equal(m.stack.tcp.rcvPool.inUse, 0, `${name}: receive buffers`);
    t.equal(m.stack.tcp.wheel.size, 0, `${name}: timers`);
    t.equal(m.stack.tcp.flows.size, 0, `${name}: flow table`);
    t.equal(m.sockets.inUse, 0, `${name}: socket ids`);
  }
  await p.close();
});

t.test('mtcp_epoll_wait hands out at most 16 events per turn, round robin, so answers leave between batches', async (t) => {
  const p = simPair();
  listener(p.server, 80);
  const m = p.client;
  const ep = mtcp_epoll_create(m, 64);
  const events = createEpollEvents(64);
  const socks = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const s = mtcp_socket(m, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    mtcp_connect(m, s, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 80 });
    mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, s, { events: MTCP_EPOLLOUT, data: { sockid: s, ptr: null } });
    socks.add(s);
  }
  // Until every connection is established (each then stays writable: level-triggered).
  const connected = new Set<number>();
  for (let tries = 0; connected.size < 40 && tries < 100; tries++) {
    const n = await mtcp_epoll_wait(m, ep, events, 64, 100);
    for (let i = 0; i < n; i++) connected.add(events[i].data.sockid);
  }
  t.equal(connected.size, 40, 'all 40 connected');
  const seen = new Set<number>();
  for (let w = 0; w < 3; w++) {
    const n = await mtcp_epoll_wait(m, ep, events, 64, 100);
    t.equal(n, 16, `wait ${w + 1}: 16 of the 40 ready sockets, though maxevents is 64`);
    for (let i = 0; i < n; i++) {
      t.ok(socks.has(events[i].data.sockid) && events[i].events & MTCP_EPOLLOUT, 'a writable client socket');
      seen.add(events[i].data.sockid);
    }
  }
  t.equal(seen.size, 40, 'three waits cover all 40 (the ready list is served in turn)');
  t.equal(await mtcp_epoll_wait(m, ep, events, 5, 100), 5, 'a smaller maxevents still bounds the count');
  await p.close();
});
