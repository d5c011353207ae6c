// The mTCP API, two stacks in one program: an echo server in the main thread (198.18.0.1, mtcp.conf) and a
// client in a worker thread (198.18.0.2, config/client.conf) on the other end of the shm wire.
// Run from the repository after `npm ci`:  node examples/api-echo.mjs
import { fileURLToPath } from 'node:url';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import {
  mtcp_init, mtcp_create_context, mtcp_destroy, mtcp_shm_peer, mtcp_socket, mtcp_bind, mtcp_listen, mtcp_accept,
  mtcp_connect, mtcp_read, mtcp_write, mtcp_close, mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno,
  createEpollEvents, errnoName, inet_addr, AF_INET, SOCK_STREAM, SOCK_NONBLOCK, MTCP_EPOLLIN, MTCP_EPOLLOUT,
  MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_MOD, EAGAIN, EINPROGRESS,
} from 'mtcp-ts';

/** A file of the repository, wherever the program is started from. */
const repoFile = (name) => fileURLToPath(new URL(`../${name}`, import.meta.url));

if (isMainThread) {
  if (mtcp_init(repoFile('mtcp.conf')) < 0) process.exit(1); // the reason is on stderr
  const mctx = mtcp_create_context(0);
  if (!mctx) process.exit(1);
  const ep = mtcp_epoll_create(mctx, 1024);
  const ls = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  mtcp_bind(mctx, ls, { sin_family: AF_INET, sin_addr: 0, sin_port: 7 });
  mtcp_listen(mctx, ls, 4096);
  mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, ls, { events: MTCP_EPOLLIN, data: { sockid: ls, ptr: null } });

  // The client is a second stack: its worker gets the other end of the wire, not this runtime.
  const client = new Worker(new URL(import.meta.url), { workerData: { shm: mtcp_shm_peer() } });
  let serving = true;
  client.once('exit', (code) => {
    serving = false;
    process.exitCode = code;
  });

  const events = createEpollEvents(1024);
  const buf = new Uint8Array(8192);
  while (serving) {
    const n = await mtcp_epoll_wait(mctx, ep, events, 1024, 100);
    if (n < 0) throw new Error(`mtcp_epoll_wait: ${errnoName(mtcp_errno())}`);
    for (let i = 0; i < n; i++) {
      const s = events[i].data.sockid;
      if (s === ls) {
        let c;
        while ((c = mtcp_accept(mctx, ls, null)) >= 0) {
          mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, c, { events: MTCP_EPOLLIN, data: { sockid: c, ptr: null } });
        }
      } else {
        const r = mtcp_read(mctx, s, buf, buf.length);
        if (r > 0) mtcp_write(mctx, s, buf, r);
        else if (r === 0 || mtcp_errno() !== EAGAIN) mtcp_close(mctx, s);
      }
    }
  }
  mtcp_destroy(); // the thread's stack keeps it alive until then
} else {
  if (mtcp_init(repoFile('config/client.conf'), { shm: workerData.shm }) < 0) process.exit(1);
  const mctx = mtcp_create_context(0);
  if (!mctx) process.exit(1);
  const ep = mtcp_epoll_create(mctx, 16);
  const s = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (mtcp_connect(mctx, s, { sin_family: AF_INET, sin_addr: inet_addr('198.18.0.1'), sin_port: 7 }) < 0 && mtcp_errno() !== EINPROGRESS) {
    throw new Error(`mtcp_connect: ${errnoName(mtcp_errno())}`);
  }
  mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, s, { events: MTCP_EPOLLOUT, data: { sockid: s, ptr: null } });
  const events = createEpollEvents(16);
  const message = new TextEncoder().encode('hello over the mTCP API');
  const reply = new Uint8Array(1024);
  let got = 0;
  while (got < message.length) {
    const n = await mtcp_epoll_wait(mctx, ep, events, 16, 5000);
    if (n <= 0) throw new Error(n === 0 ? 'no answer within 5 s' : `mtcp_epoll_wait: ${errnoName(mtcp_errno())}`);
    if (events[0].events & MTCP_EPOLLOUT) {
      mtcp_write(mctx, s, message, message.length); // connected: send once, then wait to read
      mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, s, { events: MTCP_EPOLLIN, data: { sockid: s, ptr: null } });
      continue;
    }
    const r = mtcp_read(mctx, s, reply.subarray(got), reply.length - got);
    if (r <= 0 && mtcp_errno() !== EAGAIN) throw new Error(`mtcp_read: ${r === 0 ? 'closed' : errnoName(mtcp_errno())}`);
    if (r > 0) got += r;
  }
  console.log(`echoed: ${new TextDecoder().decode(reply.subarray(0, got))}`);
  mtcp_close(mctx, s);
  mtcp_destroy();
}
