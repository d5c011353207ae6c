/** arp.conf and route.conf, and their longest-prefix-match tables. */
import t from 'tap';
import { parseCidr, parseIpv4, parseMac, prefixMask, formatIpv4, formatMac } from '../../src/config/addr.ts';
import { ArpTable, parseArpConf } from '../../src/config/arp-conf.ts';
import { parseRouteConf, RouteTable } from '../../src/config/route-conf.ts';
import { contentLines } from '../../src/config/lines.ts';
import { expectConfigError } from './fixtures/expect-error.ts';
import { heapRounds } from '../helpers/heap-rounds.ts';

const A = 'config/arp.conf';
const R = 'config/route.conf';

t.test('addresses', async (t) => {
  t.equal(parseIpv4('198.18.0.1'), 0xc6120001);
  t.equal(parseIpv4('0.0.0.0'), 0);
  t.equal(parseIpv4('255.255.255.255'), 0xffffffff);
  for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', '1.2.3.-4', '01234.1.1.1', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4x', '', '1..2.3', '010.0.0.1', '1.2.3.00']) {
    t.equal(parseIpv4(bad), -1, JSON.stringify(bad));
  }
  t.equal(parseIpv4('10.0.0.0'), 0x0a000000, 'a lone 0 octet is fine');
  t.equal(formatIpv4(0xc6120001), '198.18.0.1');
  t.equal(formatIpv4(0xc6120001 | 0), '198.18.0.1', 'int32 form');
  t.equal(parseMac('02:00:C6:12:00:01'), 0x0200c6120001);
  t.equal(parseMac('ff:ff:ff:ff:ff:ff'), 0xffffffffffff);
  t.equal(parseMac('2:0:0:0:0:1'), -1);
  t.equal(formatMac(0x0200c6120001), '02:00:c6:12:00:01');
  t.equal(formatMac(1), '00:00:00:00:00:01');
  t.same(parseCidr('10.1.2.3/8'), { addr: 0x0a010203, prefix: 8 }, 'host bits kept');
  t.equal(parseCidr('10.1.2.3'), null);
  t.equal(parseCidr('10.1.2.3/33'), null);
  t.equal(parseCidr('10.1.2.3/'), null);
  t.equal(parseCidr('10.1.2.3/08'), null, 'leading zero in the prefix');
  t.same(parseCidr('0.0.0.0/0'), { addr: 0, prefix: 0 });
  t.equal(parseMac('02:00:00:00:00:01:02'), -1, 'seven bytes');
  t.equal(parseMac(' 02:00:00:00:00:01'), -1, 'leading space');
  t.equal(prefixMask(0), 0);
  t.equal(prefixMask(1), 0x80000000);
  t.equal(prefixMask(24), 0xffffff00);
  t.equal(prefixMask(32), 0xffffffff);
});

t.test('contentLines keeps line numbers', async (t) => {
  t.same(contentLines('# a\n\n  x = 1  # c\r\ny\n'), [{ line: 3, text: 'x = 1' }, { line: 4, text: 'y' }]);
  t.same(contentLines(''), []);
});

t.test('arp.conf: valid with comments between entries', async (t) => {
  const text = '# static neighbours\nARP_ENTRY 2\n\n# the peer\n198.18.0.2/32 02:00:c6:12:00:02\n   # the router\n10.0.0.0/8\t02:00:0a:00:00:01  # trailing\n';
  const e = parseArpConf(text, A);
  t.same(e, [
    { addr: 0xc6120002, prefix: 32, mac: 0x0200c6120002 },
    { addr: 0x0a000000, prefix: 8, mac: 0x02000a000001 },
  ]);
  t.same(parseArpConf('ARP_ENTRY 0\n', A), [], 'zero entries');
});

t.test('arp.conf errors', async (t) => {
  expectConfigError(t, () => parseArpConf('ARP_ENTRY 2\n198.18.0.2/32 02:00:c6:12:00:02\n# one missing\n', A), A, 2,
    /ARP_ENTRY says 2 entries but 1 follow/, 'fewer entries than the count');
  expectConfigError(t, () => parseArpConf('ARP_ENTRY 1\n198.18.0.2/32 02:00:c6:12:00:02\n\n198.18.0.3/32 02:00:c6:12:00:03\n', A), A, 4,
    /ARP_ENTRY says 1 entries but 2 follow/, 'more entries than the count: names the first extra line');
  expectConfigError(t, () => parseArpConf('# x\nARP_ENTRY 3\n', A), A, 2, /says 3 entries but 0 follow/, 'count with no entries');
  expectConfigError(t, () => parseArpConf('# x\nARP_ENTRIES 1\n1.2.3.4/32 02:00:00:00:00:01\n', A), A, 2, /bad header `ARP_ENTRIES 1`/, 'bad header');
  expectConfigError(t, () => parseArpConf('ARP_ENTRY two\n', A), A, 1, /bad header/, 'non-numeric count');
  expectConfigError(t, () => parseArpConf('ARP_ENTRY 1\n198.18.0.2 02:00:c6:12:00:02\n', A), A, 2, /bad entry `198\.18\.0\.2 02:00:c6:12:00:02`/, 'no prefix');
  expectConfigError(t, () => parseArpConf('ARP_ENTRY 1\n198.18.0.2/32\n', A), A, 2, /bad entry/, 'no MAC');
  expectConfigError(t, () => parseArpConf('ARP_ENTRY 1\n198.18.0.2/32 02:00:c6:12:00:02 extra\n', A), A, 2, /bad entry/, 'three fields');
  expectConfigError(t, () => parseArpConf('ARP_ENTRY 2\n198.18.0.2/32 02:00:c6:12:00:02\n198.18.0.3/32 02:00:c6:12:00\n', A), A, 3,
    /bad MAC address `02:00:c6:12:00`/, 'bad MAC');
  expectConfigError(t, () => parseArpConf('', A), A, 0, /the file is empty/, 'empty file');
  expectConfigError(t, () => parseArpConf('# only comments\n\n', A), A, 0, /the file is empty/, 'only comments');
});

t.test('ArpTable: longest prefix wins, -1 when nothing covers', async (t) => {
  const table = new ArpTable(parseArpConf([
    'ARP_ENTRY 4',
    '10.0.0.0/8 02:00:00:00:00:08',
    '10.1.0.0/16 02:00:00:00:00:16',
    '10.1.2.3/32 02:00:00:00:00:32',
    '0.0.0.0/0 02:00:00:00:00:00',
  ].join('\n'), A));
  t.equal(table.lookup(0x0a010203), 0x020000000032, '/32');
  t.equal(table.lookup(0x0a010204), 0x020000000016, '/16');
  t.equal(table.lookup(0x0a020304), 0x020000000008, '/8');
  t.equal(table.lookup(0xc0a80001), 0x020000000000, '/0 catches the rest');
  t.equal(table.lookup(0x0a010203 | 0), 0x020000000032, 'int32 address form');
  const none = new ArpTable([{ addr: 0xc6120002, prefix: 32, mac: 0x0200c6120002 }]);
  t.equal(none.lookup(0xc6120003), -1);
  t.equal(none.lookup(0xc6120002 | 0), 0x0200c6120002, 'int32 with the high bit set');
  // Host bits in an entry's address are masked.
  const host = new ArpTable([{ addr: 0xc61200ff, prefix: 24, mac: 5 }]);
  t.equal(host.lookup(0xc6120001), 5);
  t.equal(new ArpTable([]).lookup(0), -1);
});

const PORTS = ['shm0', 'shm1'];

t.test('route.conf: valid, /0 is the default route with its gateway', async (t) => {
  const routes = parseRouteConf('# routes\nROUTES 3\n10.0.0.0/8 shm1\n# default\n198.18.0.254/0 shm0\n172.16.5.9/12 shm1\n', R, PORTS);
  t.same(routes, [
    { addr: 0x0a000000, prefix: 8, port: 'shm1', gateway: 0 },
    { addr: 0, prefix: 0, port: 'shm0', gateway: 0xc61200fe },
    { addr: 0xac100000, prefix: 12, port: 'shm1', gateway: 0 },
  ]);
  t.same(parseRouteConf('ROUTES 0', R, PORTS), []);
});

t.test('route.conf errors', async (t) => {
  expectConfigError(t, () => parseRouteConf('ROUTES 1\n10.0.0.0/8 dpdk0\n', R, PORTS), R, 2, /unknown port `dpdk0`/, 'unknown port');
  expectConfigError(t, () => parseRouteConf('ROUTES 1\n10.0.0.0/8 shm0\n', R, []), R, 2, /unknown port .*none/, 'no ports at all');
  expectConfigError(t, () => parseRouteConf('ROUTES 2\n10.0.0.0/8 shm0\n', R, PORTS), R, 2, /ROUTES says 2 routes but 1 follow/, 'fewer routes');
  expectConfigError(t, () => parseRouteConf('ROUTES 1\n10.0.0.0/8 shm0\n# x\n11.0.0.0/8 shm0\n', R, PORTS), R, 4, /ROUTES says 1 routes but 2 follow/, 'more routes');
  expectConfigError(t, () => parseRouteConf('ROUTE 1\n10.0.0.0/8 shm0\n', R, PORTS), R, 1, /bad header `ROUTE 1`/, 'bad header');
  expectConfigError(t, () => parseRouteConf('ROUTES 1\n10.0.0.0 shm0\n', R, PORTS), R, 2, /bad route/, 'bad cidr');
  expectConfigError(t, () => parseRouteConf('\n', R, PORTS), R, 0, /empty/, 'empty file');
});

t.test('RouteTable: longest prefix, implicit subnets, gateways', async (t) => {
  const ports = [
    { name: 'shm0', addr: 0xc6120001, prefix: 24 },
    { name: 'shm1', addr: 0x0a000001, prefix: 8 },
  ];
  const routes = parseRouteConf([
    'ROUTES 3',
    '198.18.0.254/0 shm0',
    '10.1.0.0/16 shm0',
    '10.1.2.3/32 shm1',
  ].join('\n'), R, ['shm0', 'shm1']);
  const rt = new RouteTable(routes, ports);
  t.equal(rt.portOf(0xc6120063), 'shm0', 'implicit subnet of shm0');
  t.equal(rt.nextHop(0xc6120063), 0xc6120063, 'directly connected → dst itself');
  t.equal(rt.portOf(0x0a020304), 'shm1', 'implicit /8 of shm1');
  t.equal(rt.nextHop(0x0a020304), 0x0a020304);
  t.equal(rt.portOf(0x0a010505), 'shm0', '/16 beats the implicit /8');
  t.equal(rt.portOf(0x0a010203), 'shm1', '/32 beats the /16');
  t.equal(rt.nextHop(0x0a010203), 0x0a010203);
  t.equal(rt.portOf(0x08080808), 'shm0', 'default route');
  t.equal(rt.nextHop(0x08080808), 0xc61200fe, '/0 → the gateway');
  const direct = new RouteTable([], ports);
  t.equal(direct.lookup(0x08080808), -1);
  t.equal(direct.nextHop(0x08080808), -1, 'no route → -1');
  t.equal(direct.portOf(0x08080808), null);
  t.equal(new RouteTable([], []).nextHop(0xc6120001), -1, 'empty table');
});

t.test('mTCP style: 0.0.0.0/0 route on-link plus an ARP /0 entry for the gateway MAC', async (t) => {
  const ports = [{ name: 'dpdk0', addr: 0x0a000005, prefix: 24 }];
  const rt = new RouteTable(parseRouteConf('ROUTES 1\n0.0.0.0/0 dpdk0\n', R, ['dpdk0']), ports);
  const arp = new ArpTable(parseArpConf('ARP_ENTRY 2\n10.0.0.1/32 00:00:00:00:00:01\n0.0.0.0/0 00:00:00:00:00:fe\n', A));
  t.equal(rt.nextHop(0x08080808), 0x08080808, 'gateway 0.0.0.0 → the destination itself');
  t.equal(rt.portOf(0x08080808), 'dpdk0');
  t.equal(arp.lookup(rt.nextHop(0x08080808)), 0xfe, 'the /0 ARP entry answers for it');
  t.equal(arp.lookup(0x0a000001), 1, '/32 beats /0');
});

t.test('RouteTable and ArpTable lookups allocate nothing', async (t) => {
  const rt = new RouteTable(parseRouteConf('ROUTES 2\n10.1.0.0/16 shm0\n198.18.0.254/0 shm0\n', R, ['shm0']), [{ name: 'shm0', addr: 0xc6120001, prefix: 24 }]);
  const arp = new ArpTable([{ addr: 0xc61200fe, prefix: 32, mac: 0x0200c61200fe }, { addr: 0x0a010000, prefix: 16, mac: 0x02000a010000 }]);
  const run = (n: number): number => {
    let sum = 0; // a local, not a captured variable: V8 boxes doubles stored in closures
    for (let i = 0; i < n; i++) {
      const dst = (0x0a010000 + (i & 0xff)) | 0;
      sum += rt.lookup(dst) + rt.nextHop(0x08080808 | 0) + rt.nextHop(dst) + arp.lookup(0xc61200fe | 0) + arp.lookup(dst);
      if (rt.portOf(dst) === null) return -1;
    }
    return sum;
  };
  let sum = run(200_000); // warm up: let V8 optimise
  // As test/stack/tcp/no-alloc.test.ts: steady state, no collection and under a byte per lookup in the best of three rounds.
  const N = 1_000_000;
  let best = Infinity;
  await heapRounds(() => {
    sum = run(N);
  }, (r, index) => {
    t.comment(`round ${index + 1}: heap grew ${r.heapGrowth} bytes over ${N} iterations, ${r.collections} collections`);
    if (r.collections === 0) best = Math.min(best, r.heapGrowth / N);
    return best < 1;
  });
  t.ok(sum > 0, 'lookups found routes and MACs');
  t.ok(best < 1, `no collection and under 1 byte per iteration of six lookups (best: ${best})`);
});

t.test('RouteTable: an explicit route wins over an implicit route of the same length', async (t) => {
  const ports = [{ name: 'shm0', addr: 0xc6120001, prefix: 24 }, { name: 'shm1', addr: 0x0a000001, prefix: 8 }];
  const rt = new RouteTable([{ addr: 0xc6120000, prefix: 24, port: 'shm1', gateway: 0 }], ports);
  t.equal(rt.portOf(0xc6120005), 'shm1');
  // A /0 parsed from route.conf: the gateway is its ip.
  const gw = new RouteTable(parseRouteConf('ROUTES 1\n198.18.0.1/0 shm0\n', R, ['shm0']), ports);
  t.equal(gw.nextHop(0x01020304), 0xc6120001);
  t.equal(gw.nextHop(0xc6120007), 0xc6120007, 'on-link still direct');
});
