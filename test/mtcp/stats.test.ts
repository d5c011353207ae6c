/**
 * Statistics: the board every context publishes its counters to, read from
 * any thread; the per-core and total report; and stat_print's lines, in the
 * format of mTCP's PrintNetworkStats.
 */
import t from 'tap';
import { SimWire } from '../../src/io/sim.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { mtcp_destroy_context } from '../../src/mtcp/api.ts';
import { formatStatLines, statsDelta, StatsBoard, sumStats, type CoreStats } from '../../src/mtcp/stats.ts';
import { Stats } from '../../src/stack/stats.ts';
import { DropReason } from '../../src/stack/drop-reason.ts';
import { mtcpServer } from '../../bench/lib/mtcp-workload.ts';
import { echoClient } from '../helpers/echo-client.ts';
import { config, SERVER_IP } from '../helpers/stacks.ts';

function counters(seed: number): Stats {
  const s = new Stats();
  s.rxFrames = 100 * seed;
  s.rxBytes = 6400 * seed;
  s.txFrames = 90 * seed;
  s.txBytes = 5000 * seed;
  s.tcpActiveOpens = seed;
  s.tcpPassiveOpens = 2 * seed;
  s.tcpClosed = 3 * seed;
  s.tcpRetransmits = 4 * seed;
  s.drops[DropReason.TcpNoSocket] = seed;
  s.drops[DropReason.IpBadChecksum] = 5;
  return s;
}

t.test('the board: a row per core, read from a structured clone as from the original; totals add up', async (t) => {
  const board = new StatsBoard(3);
  t.same(board.report().cores, [null, null, null], 'nothing published yet');
  board.publish(0, counters(1), 7);
  board.publish(2, counters(2), 9);
  const other = new StatsBoard(3, structuredClone(board.buffer)); // what a worker holds
  const r = other.report();
  t.equal(r.cores[1], null, 'core 1 never published');
  t.same(r.cores[2], {
    core: 2, packetsIn: 200, bytesIn: 12800, packetsOut: 180, bytesOut: 10000, drops: 7,
    dropsByReason: { tcp_no_socket: 2, ip_bad_checksum: 5 }, opened: 2, accepted: 4, closed: 6, active: 9, retransmissions: 8,
  });
  t.same(r.total, {
    core: -1, packetsIn: 300, bytesIn: 19200, packetsOut: 270, bytesOut: 15000, drops: 13,
    dropsByReason: { tcp_no_socket: 3, ip_bad_checksum: 10 }, opened: 3, accepted: 6, closed: 9, active: 16, retransmissions: 12,
  });
  board.publish(0, counters(3), 1);
  t.equal(other.read(0)!.packetsIn, 300, 'the clone sees later publications: one shared buffer');
  t.throws(() => new StatsBoard(2, board.buffer), RangeError, 'a buffer of another size');
});

t.test('stat_print lines: mTCP\'s network line, then the TCP line, per second', async (t) => {
  const prev: CoreStats = sumStats([]);
  const cur: CoreStats = {
    core: 1, packetsIn: 200_000, bytesIn: 250_000_000, packetsOut: 180_000, bytesOut: 12_500_000, drops: 4,
    dropsByReason: { tcp_no_socket: 4 }, opened: 0, accepted: 20_000, closed: 19_990, active: 12, retransmissions: 2,
  };
  const d = statsDelta({ ...cur, core: 1 }, { ...prev, core: 1 });
  t.same(formatStatLines(d, 2, 'dpdk0'), [
    '[CPU 1] dpdk0 flows:     12, RX:  100000(pps) (err:     2),  1.00(Gbps), TX:   90000(pps),  0.05(Gbps)',
    '[CPU 1] dpdk0 conns opened:      0/s, accepted:  10000/s, closed:   9995/s, active:     12, retrans:     1/s, drops: tcp_no_socket: 2',
  ]);
  t.same(formatStatLines({ ...sumStats([]), active: 3 }, 1, 'shm0'), [
    '[ ALL ] shm0 flows:      3, RX:       0(pps) (err:     0),  0.00(Gbps), TX:       0(pps),  0.00(Gbps)',
    '[ ALL ] shm0 conns opened:      0/s, accepted:      0/s, closed:      0/s, active:      3, retrans:     0/s',
  ]);
  t.same(statsDelta(cur, { ...cur, packetsIn: 150_000, dropsByReason: { tcp_no_socket: 4 }, drops: 4, active: 99 }).packetsIn, 50_000);
  t.same(statsDelta(cur, { ...cur, dropsByReason: { tcp_no_socket: 4 }, drops: 4 }).dropsByReason, {}, 'no new drops, no reasons');
});

t.test('two cores serving: the report matches each context\'s own counters; the printer prints each core and the total', async (t) => {
  const wire = new SimWire({ seed: 9, autoAdvance: true });
  const server = new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', { cores: 2 }), { sim: wire, secret: [1, 2] });
  const client = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02'), { sim: wire, secret: [3, 4] });
  const servers = [server.createContext(0), server.createContext(1)];
  const c = client.createContext(0);
  const printed: string[] = [];
  server.startStatPrint((text) => printed.push(text), 20);
  let stop = false;
  const served = servers.map((s) => mtcpServer(s, 7, 'echo', () => stop));
  const out = await echoClient(c, SERVER_IP, 7, 100, 500, 60_000);
  stop = true;
  await Promise.all(served);
  t.equal(out.completed, 100);
  for (const s of servers) mtcp_destroy_context(s);
  mtcp_destroy_context(c);
  await Promise.all([...servers, c].map((x) => x.closed));

  const r = server.stats();
  for (const [k, s] of servers.entries()) {
    const st = s.stack.stats;
    t.same([r.cores[k]!.accepted, r.cores[k]!.packetsIn, r.cores[k]!.bytesOut], [st.tcpPassiveOpens, st.rxFrames, st.txBytes], `core ${k}: as its context counted`);
    t.ok(st.tcpPassiveOpens > 0, `core ${k} accepted ${st.tcpPassiveOpens}`);
  }
  t.equal(r.total.accepted, 100, 'the total: every connection');
  t.equal(r.total.active, 0, 'none left once stopped');
  t.equal(client.stats().cores[0]!.opened, 100);
  await new Promise((resolve) => setTimeout(resolve, 50));
  server.destroy();
  const text = printed.join('');
  t.match(text, /^\[CPU 0\] sim0 flows: +\d+, RX: +\d+\(pps\) \(err: +\d+\), +\d+\.\d\d\(Gbps\), TX: +\d+\(pps\), +\d+\.\d\d\(Gbps\)$/m, 'core 0\'s line');
  t.match(text, /^\[CPU 1\] sim0 conns opened: +\d+\/s, accepted: +\d+\/s/m, 'core 1\'s TCP line');
  t.match(text, /^\[ ALL \] sim0 flows:/m, 'the total');
  const count = printed.length;
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.equal(printed.length, count, 'destroy() stops the printer');
});
