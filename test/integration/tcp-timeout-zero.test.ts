/**
 * tcp_timeout = 0 disables the idle timeout, as in mTCP (it checks timeouts only when tcp_timeout > 0),
 * whether it comes from mtcp.conf or from mtcp_setconf: a connection silent for two minutes still
 * carries data afterwards on both ends.
 */
import t from 'tap';
import {
  AF_INET, MTCP_EPOLLIN, MTCP_EPOLL_CTL_ADD, SOCK_NONBLOCK, SOCK_STREAM, createEpollEvents, mtcp_accept, mtcp_bind,
  mtcp_connect, mtcp_create_context, mtcp_destroy, mtcp_destroy_context, mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait,
  mtcp_init, mtcp_listen, mtcp_read, mtcp_runtime, mtcp_setconf, mtcp_socket, mtcp_write,
} from '../../src/index.ts';
import { SimWire } from '../../src/io/sim.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { config, SERVER_IP } from '../helpers/stacks.ts';

t.test('a connection idle for 120 s survives with tcp_timeout = 0 from the file (server) and from mtcp_setconf (client)', async (t) => {
  const wire = new SimWire({ seed: 3, autoAdvance: true });
  const server = new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', { tcpTimeout: 0 }), { sim: wire, secret: [1, 2] }).createContext(0);
  t.equal(mtcp_setconf({ tcp_timeout: 0 }), 0);
  t.equal(mtcp_init(config('198.18.0.2', '02:00:c6:12:00:02', { tcpTimeout: 30 }), { sim: wire, secret: [3, 4] }), 0);
  t.equal(mtcp_runtime()!.config.tcpTimeoutSec, 0, 'mtcp_setconf\'s value replaced the file\'s 30');
  const client = mtcp_create_context(0)!;
  t.teardown(async () => {
    mtcp_destroy_context(client);
    mtcp_destroy_context(server);
    await Promise.all([client.closed, server.closed]);
    mtcp_destroy();
  });

  const ls = mtcp_socket(server, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  t.equal(mtcp_bind(server, ls, { sin_family: AF_INET, sin_addr: 0, sin_port: 80 }), 0);
  t.equal(mtcp_listen(server, ls, 16), 0);
  const sep = mtcp_epoll_create(server, 16);
  mtcp_epoll_ctl(server, sep, MTCP_EPOLL_CTL_ADD, ls, { events: MTCP_EPOLLIN, data: { sockid: ls, ptr: null } });
  const s = mtcp_socket(client, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  mtcp_connect(client, s, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 80 });
  const events = createEpollEvents(4);
  t.equal(await mtcp_epoll_wait(server, sep, events, 4, 5000), 1, 'the connection arrives');
  const c = mtcp_accept(server, ls, null);
  t.ok(c >= 0);
  mtcp_epoll_ctl(server, sep, MTCP_EPOLL_CTL_ADD, c, { events: MTCP_EPOLLIN, data: { sockid: c, ptr: null } });

  // Two minutes of silence (virtual time): with a timeout in force either end would fail its connection.
  const t0 = server.now();
  t.equal(await mtcp_epoll_wait(server, sep, events, 4, 120_000), 0, 'nothing happens on the server');
  t.ok(server.now() - t0 >= 120_000, 'two minutes passed');

  t.equal(mtcp_write(client, s, new TextEncoder().encode('still'), 5), 5, 'the client\'s connection still takes data');
  t.equal(await mtcp_epoll_wait(server, sep, events, 4, 5000), 1);
  const buf = new Uint8Array(8);
  t.equal(mtcp_read(server, c, buf, 8), 5, 'the server\'s connection still delivers it');
  t.equal(new TextDecoder().decode(buf.subarray(0, 5)), 'still');
});
