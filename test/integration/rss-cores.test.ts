/**
 * Two cores each side of a simulated wire with RSS: a listener on the same
 * port in both server contexts (mTCP's implicit SO_REUSEPORT), each accepting
 * what arrives on its queue; clients on both cores whose source ports bring
 * every reply back to the core that sent the SYN; a bound port that would not
 * is refused with EINVAL, as in mTCP.
 */
import t from 'tap';
import {
  AF_INET, EADDRNOTAVAIL, EBADF, EINPROGRESS, EINVAL, SOCK_NONBLOCK, SOCK_STREAM, mtcp_bind, mtcp_connect, mtcp_destroy_context,
  mtcp_errno, mtcp_init_rss, mtcp_socket,
} from '../../src/index.ts';
import { SimWire } from '../../src/io/sim.ts';
import { ShmWire } from '../../src/io/shm.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import type { MtcpContext } from '../../src/mtcp/context.ts';
import { DropReason } from '../../src/stack/drop-reason.ts';
import { RssSteering } from '../../src/stack/rss.ts';
import { mtcpServer } from '../../bench/lib/mtcp-workload.ts';
import { echoClient } from '../helpers/echo-client.ts';
import { CLIENT_IP, config, SERVER_IP } from '../helpers/stacks.ts';

const SERVER_MAC = 0x0200c6120001;
const CLIENT_MAC = 0x0200c6120002;
const CONNS_PER_CORE = 150;

t.test('replies to connections opened from core k all arrive on core k; both server cores serve their share', async (t) => {
  const wire = new SimWire({ seed: 6, autoAdvance: true });
  const opts = { cores: 2, maxConcurrency: 1024 };
  const server = new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', opts), { sim: wire, secret: [1, 2] });
  const client = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', opts), { sim: wire, secret: [3, 4] });
  const servers = [server.createContext(0), server.createContext(1)];
  const clients = [client.createContext(0), client.createContext(1)];
  t.equal(clients[1].driver.capabilities.queues, 2, 'one port, two queues');
  t.equal(clients[1].stack.queue, 1, 'core 1 serves queue 1');

  // Where every TCP frame lands, by the client port it is addressed to (the server's side: the port it comes from).
  const toClient: { port: number; queue: number }[] = [];
  const toServer: { port: number; queue: number }[] = [];
  wire.onDeliver = (to, buf, off, len, queue) => {
    if (len < 54 || buf[off + 23] !== 6) return;
    const sport = (buf[off + 34] << 8) | buf[off + 35];
    const dport = (buf[off + 36] << 8) | buf[off + 37];
    if (to.mac === CLIENT_MAC) toClient.push({ port: dport, queue });
    else if (to.mac === SERVER_MAC) toServer.push({ port: sport, queue });
  };

  // Which client core opened each port, as its engine chose it.
  const opener = new Map<number, number>();
  for (const [k, c] of clients.entries()) {
    const tcp = c.stack.tcp.sockets;
    const connect = tcp.connect.bind(tcp);
    tcp.connect = (...args: Parameters<typeof connect>) => {
      const r = connect(...args);
      if (r >= 0) opener.set(tcp.localPort(r), k);
      return r;
    };
  }

  let stop = false;
  const served = servers.map((s) => mtcpServer(s, 7, 'echo', () => stop));
  const outcomes = await Promise.all(clients.map((c) => echoClient(c, SERVER_IP, 7, CONNS_PER_CORE, 2000, 60_000)));
  stop = true;
  await Promise.all(served);
  for (const [k, o] of outcomes.entries()) {
    t.same(o.errors.slice(0, 3), [], `core ${k}: no error`);
    t.equal(o.completed, CONNS_PER_CORE, `core ${k}: every connection echoed`);
    t.equal(o.mismatches, 0);
  }

  for (const [k, c] of clients.entries()) {
    t.equal(c.stack.stats.tcpActiveOpens, CONNS_PER_CORE, `client core ${k} opened its connections`);
  }
  t.equal(opener.size, 2 * CONNS_PER_CORE, 'one port per connection');
  const rss = new RssSteering();
  t.equal(toServer.filter((f) => f.queue !== rss.queueOf(CLIENT_IP, SERVER_IP, f.port, 7, 2)).length, 0,
    `all ${toServer.length} client frames reached the server queue RSS picks`);
  t.equal(toServer.filter((f) => f.queue !== opener.get(f.port)).length, 0, 'the same queue number as the client core that opened them');
  let wrong = 0;
  const perQueue = [0, 0];
  for (const f of toClient) {
    if (opener.get(f.port) !== f.queue) wrong++;
    perQueue[f.queue]++;
  }
  // At least a SYN|ACK, the echo and a FIN for each connection (the ACKs ride on the echo and the FIN).
  t.equal(toClient.length >= 3 * 2 * CONNS_PER_CORE, true, `${toClient.length} frames to the client`);
  t.equal(wrong, 0, `every reply reached the queue of its connection's core (queue 0: ${perQueue[0]}, queue 1: ${perQueue[1]})`);
  // The cores' own view: none of them saw a segment for a connection it does not have.
  for (const [k, c] of clients.entries()) {
    t.equal(c.stack.stats.drops[DropReason.TcpNoSocket], 0, `client core ${k}: no segment for another core's connection`);
    t.equal(c.stack.stats.tcpRstReceived, 0);
  }
  const accepted = servers.map((s) => s.stack.stats.tcpPassiveOpens);
  t.ok(accepted[0] > 0 && accepted[1] > 0, `both server cores accepted (${accepted.join(' + ')})`);
  t.equal(accepted[0] + accepted[1], 2 * CONNS_PER_CORE, 'and together all of them');
  for (const [k, s] of servers.entries()) t.equal(s.stack.stats.drops[DropReason.TcpNoSocket], 0, `server core ${k}: nothing for the other core`);

  await closeAll([...servers, ...clients]);
  t.equal(wire.slotsInUse, 0, 'the shared ports closed with their last context');
});

t.test('a bound source port whose replies would reach another core is refused with EINVAL; mtcp_init_rss checks its arguments', async (t) => {
  const wire = new SimWire({ seed: 7, autoAdvance: true });
  const client = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', { cores: 2 }), { sim: wire, secret: [3, 4] });
  const c0 = client.createContext(0);
  const c1 = client.createContext(1);
  const rss = new RssSteering();
  const portFor = (queue: number): number => {
    let p = 20000;
    while (rss.queueOf(SERVER_IP, CLIENT_IP, 80, p, 2) !== queue) p++;
    return p;
  };
  const tryBound = (mctx: MtcpContext, port: number): number => {
    const s = mtcp_socket(mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    t.equal(mtcp_bind(mctx, s, { sin_family: AF_INET, sin_addr: 0, sin_port: port }), 0);
    return mtcp_connect(mctx, s, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 80 }) === -1 ? mtcp_errno() : 0;
  };
  t.equal(tryBound(c0, portFor(1)), EINVAL, 'core 0, a port of queue 1: EINVAL');
  t.equal(tryBound(c1, portFor(0)), EINVAL, 'core 1, a port of queue 0: EINVAL');
  t.equal(tryBound(c0, portFor(0)), EINPROGRESS, 'core 0, a port of its own queue: connecting');
  t.equal(tryBound(c1, portFor(1)), EINPROGRESS, 'core 1 likewise');

  t.equal(mtcp_init_rss(c1, CLIENT_IP, 1, SERVER_IP, 80), 0, 'mtcp_init_rss with our address');
  t.equal(mtcp_init_rss(c1, 0, 1, SERVER_IP, 80), 0, 'or 0 for it');
  t.equal(mtcp_init_rss(c1, 0xc6120009, 1, SERVER_IP, 80), -1);
  t.equal(mtcp_errno(), EADDRNOTAVAIL, 'not our address');
  t.equal(mtcp_init_rss(c1, CLIENT_IP, 4, SERVER_IP, 80), -1);
  t.equal(mtcp_errno(), EINVAL, 'a port has one address');
  t.equal(mtcp_init_rss(c1, CLIENT_IP, 1, SERVER_IP, 0), -1);
  t.equal(mtcp_errno(), EINVAL, 'no destination port');
  t.equal(mtcp_init_rss(c1, CLIENT_IP, 1, 0, 80), -1);
  t.equal(mtcp_errno(), EINVAL, 'no destination address');

  // Ephemeral ports: every connection core 1 opens gets a port of queue 1.
  const ports: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = mtcp_socket(c1, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    mtcp_connect(c1, s, { sin_family: AF_INET, sin_addr: SERVER_IP, sin_port: 80 });
    ports.push(c1.sockets.boundPort[s]);
  }
  t.same(ports.filter((p) => rss.queueOf(SERVER_IP, CLIENT_IP, 80, p, 2) !== 1), [], 'all 50 ephemeral ports come back to core 1');
  await closeAll([c0, c1]);
  t.equal(mtcp_init_rss(c1, CLIENT_IP, 1, SERVER_IP, 80), -1);
  t.equal(mtcp_errno(), EBADF, 'a stopped context');
});

t.test('over shm in one thread: a two-core server and a one-core client; the wire must match num_cores', async (t) => {
  const wire = ShmWire.create({ queues: [2, 1], slots: 1024 }).share();
  const server = new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm', cores: 2 }), { shm: { wire, port: 0 } });
  const client = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', { io: 'shm' }), { shm: { wire, port: 1 } });
  t.throws(() => new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', { io: 'shm', cores: 2 }), { shm: { wire, port: 1 } }),
    /num_cores = 2 but this end of the shm wire has 1 queue/);
  const servers = [server.createContext(0), server.createContext(1)];
  const c = client.createContext(0);
  let stop = false;
  const served = servers.map((s) => mtcpServer(s, 7, 'echo', () => stop));
  const out = await echoClient(c, SERVER_IP, 7, 200, 1000, 60_000);
  stop = true;
  await Promise.all(served);
  t.equal(out.completed, 200);
  t.equal(out.mismatches, 0);
  const accepted = servers.map((s) => s.stack.stats.tcpPassiveOpens);
  t.ok(accepted[0] > 0 && accepted[1] > 0 && accepted[0] + accepted[1] === 200, `each server core took its share: ${accepted.join(' + ')}`);
  t.equal(c.stack.stats.drops[DropReason.TcpNoSocket], 0);
  await closeAll([...servers, c]);
});

async function closeAll(ctxs: MtcpContext[]): Promise<void> {
  for (const c of ctxs) mtcp_destroy_context(c);
  await Promise.all(ctxs.map((c) => c.closed));
}
