/** mtcp.conf, arp.conf and route.conf: values, defaults, and every error naming file and line. */
import t from 'tap';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMtcpConf, parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { ArpTable, parseArpConf } from '../../src/config/arp-conf.ts';
import { parseRouteConf, RouteTable } from '../../src/config/route-conf.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { formatIpv4, formatMac, parseCidr, parseIpv4, parseMac, prefixMask } from '../../src/config/addr.ts';

const BASE = 'port = shm0\nshm0.addr = 198.18.0.1/24\n';

/** The ConfigError `fn` throws (or null). */
function configError(fn: () => unknown): ConfigError | null {
  try {
    fn();
  } catch (e) {
    return e instanceof ConfigError ? e : null;
  }
  return null;
}

t.test('addresses', async (t) => {
  t.equal(parseIpv4('198.18.0.1'), 0xc6120001);
  t.equal(parseIpv4('255.255.255.255'), 0xffffffff);
  for (const bad of ['198.18.0', '198.18.0.256', '1.2.3.4.5', ' 1.2.3.4', 'a.b.c.d', '']) t.equal(parseIpv4(bad), -1, bad);
  t.equal(formatIpv4(0xc6120001), '198.18.0.1');
  t.equal(parseMac('02:00:c6:12:00:01'), 0x0200c6120001);
  t.equal(parseMac('02:00:c6:12:00'), -1);
  t.equal(formatMac(0x0200c6120001), '02:00:c6:12:00:01');
  t.same(parseCidr('198.18.0.0/15'), { addr: 0xc6120000, prefix: 15 });
  t.equal(parseCidr('198.18.0.0/33'), null);
  t.equal(prefixMask(0), 0);
  t.equal(prefixMask(32), 0xffffffff);
  t.equal(prefixMask(24), 0xffffff00);
});

t.test('defaults and every key', async (t) => {
  const c = parseMtcpConf(BASE, 'a.conf');
  t.same([c.io, c.numCores, c.coreMask, c.numMemCh, c.maxConcurrency, c.maxNumBuffers, c.rcvbuf, c.sndbuf, c.tcpTimeoutSec, c.tcpTimewaitSec, c.cc, c.mtu, c.shmSlots],
    ['shm', 1, 1, 4, 10000, 10000, 8192, 8192, 30, 0, 'reno', 1500, 1024]);
  t.same(c.ports, [{ name: 'shm0', addr: 0xc6120001, prefix: 24, mac: 0x0200c6120001, macGiven: false, device: '' }], 'MAC derived from the address');
  const full = parseMtcpConf(`# an mTCP-style file
io = sim          # trailing comment
num_cores = 2
core_mask = 0x6
num_mem_ch = 2
port = dpdk0
dpdk0.addr = 198.18.0.1/24
dpdk0.mac = 02:00:00:00:00:aa
max_concurrency = 500
max_num_buffers = 600
rcvbuf = 16384
tcp_timeout = -1
tcp_timewait = 5
cc = reno
mtu = 9000
shm_slots = 4096
stat_print = dpdk0

`, 'full.conf');
  t.same([full.io, full.numCores, full.coreMask, full.numMemCh, full.maxConcurrency, full.maxNumBuffers, full.tcpTimeoutSec, full.tcpTimewaitSec, full.mtu, full.shmSlots],
    ['sim', 2, 6, 2, 500, 600, -1, 5, 9000, 4096]);
  t.same([full.rcvbuf, full.sndbuf], [16384, 16384], 'sndbuf defaults to rcvbuf');
  t.equal(parseMtcpConf(`${BASE}sndbuf = 1024`, 'x').rcvbuf, 1024, 'rcvbuf defaults to sndbuf');
  t.same(full.ports.map((p) => [p.name, p.mac, p.prefix]), [['dpdk0', 0x0200000000aa, 24]]);
  t.same(full.statPrint, ['dpdk0']);
});

t.test('every mtcp.conf error names the file and line', async (t) => {
  const cases: [string, string, number][] = [
    ['unknown key', `${BASE}\nbogus = 1`, 4],
    ['duplicate key', `${BASE}rcvbuf = 100\nrcvbuf = 200`, 4],
    ['no =', `${BASE}rcvbuf 100`, 3],
    ['no value', `${BASE}rcvbuf =`, 3],
    ['not an integer', `${BASE}rcvbuf = 12k`, 3],
    ['rcvbuf below 64', `${BASE}rcvbuf = 63`, 3],
    ['num_cores 0', `${BASE}num_cores = 0`, 3],
    ['io = netmap with a libnetmap ring suffix', `io = netmap\n${BASE}shm0.device = eth0^`, 4],
    ['unknown io', `io = bogus\n${BASE}`, 1],
    ['unknown cc', `${BASE}cc = vegas`, 3],
    ['port without address', 'port = shm0 shm1\nshm0.addr = 198.18.0.1/24', 1],
    ['address for an unlisted port', `${BASE}shm9.addr = 198.18.0.9/24`, 3],
    ['bad cidr', 'port = shm0\nshm0.addr = 198.18.0.1', 2],
    ['bad mac', `${BASE}shm0.mac = zz:00:00:00:00:00`, 3],
    ['core_mask with too few cores', `${BASE}num_cores = 3\ncore_mask = 0x3`, 4],
    ['bad core_mask', `${BASE}core_mask = xyz`, 3],
    ['shm_slots not a power of two', `${BASE}shm_slots = 1000`, 3],
    ['stat_print of an unknown port', `${BASE}stat_print = eth9`, 3],
    ['mtu out of range', `${BASE}mtu = 100`, 3],
  ];
  for (const [name, text, line] of cases) {
    t.test(name, async (t) => {
      const err = (() => {
        try {
          parseMtcpConf(text, 'bad.conf');
        } catch (e) {
          return e;
        }
        return null;
      })();
      t.ok(err instanceof ConfigError, 'a ConfigError');
      const ce = err as ConfigError;
      t.equal(ce.file, 'bad.conf');
      t.equal(ce.line, line);
      t.match(ce.message, /^bad\.conf(:\d+)?: .+; expected .+/);
    });
  }
});

t.test('arp.conf', async (t) => {
  const e = parseArpConf('# neighbours\nARP_ENTRY 2\n198.18.0.2/32 02:00:00:00:00:02\n\n# a subnet\n198.19.0.0/16 02:00:00:00:00:03\n', 'arp.conf');
  t.same(e, [{ addr: 0xc6120002, prefix: 32, mac: 0x020000000002 }, { addr: 0xc6130000, prefix: 16, mac: 0x020000000003 }]);
  const table = new ArpTable(e);
  t.equal(table.lookup(0xc6120002), 0x020000000002);
  t.equal(table.lookup(0xc6131234), 0x020000000003, 'prefix entries match their subnet');
  t.equal(table.lookup(0xc6120003), -1);
  const errs: [string, string, number][] = [
    ['fewer lines than the count', 'ARP_ENTRY 2\n198.18.0.2/32 02:00:00:00:00:02', 2],
    ['more lines than the count', 'ARP_ENTRY 1\n198.18.0.2/32 02:00:00:00:00:02\n198.18.0.3/32 02:00:00:00:00:03', 3],
    ['bad header', 'ARP_ENTRIES 1\n198.18.0.2/32 02:00:00:00:00:02', 1],
    ['bad line', 'ARP_ENTRY 1\n198.18.0.2 02:00:00:00:00:02', 2],
    ['bad mac', 'ARP_ENTRY 1\n198.18.0.2/32 02:00:00:00:00', 2],
    ['empty file', '# nothing\n', 0],
  ];
  for (const [name, text, line] of errs) {
    const err = configError(() => parseArpConf(text, 'arp.conf'));
    t.equal(err?.file, 'arp.conf', name);
    t.equal(err?.line, line, `${name}: line`);
  }
});

t.test('route.conf and longest-prefix match', async (t) => {
  const routes = parseRouteConf('ROUTES 2\n198.18.5.0/24 shm0\n198.18.0.254/0 shm0\n', 'route.conf', ['shm0']);
  t.same(routes[1], { addr: 0, prefix: 0, port: 'shm0', gateway: 0xc61200fe }, '/0 names the gateway');
  const table = new RouteTable(routes, [{ name: 'shm0', addr: 0xc6120001, prefix: 16 }]);
  t.equal(table.nextHop(0xc6120007), 0xc6120007, 'the port subnet is directly connected');
  t.equal(table.nextHop(0xc6120507), 0xc6120507, 'longest prefix wins');
  t.equal(table.nextHop(0x08080808), 0xc61200fe, 'everything else goes to the gateway');
  t.equal(table.portOf(0x08080808), 'shm0');
  const none = new RouteTable([], [{ name: 'shm0', addr: 0xc6120001, prefix: 24 }]);
  t.equal(none.nextHop(0x08080808), -1, 'no route');
  t.equal(configError(() => parseRouteConf('ROUTES 1\n198.18.0.0/24 eth7', 'route.conf', ['shm0']))?.line, 2, 'unknown port');
  t.equal(configError(() => parseRouteConf('ROUTES 2\n198.18.0.0/24 shm0', 'route.conf', ['shm0']))?.line, 2, 'count mismatch');
  t.equal(configError(() => parseRouteConf('ROUTES 0\n198.18.0.0/24 shm0', 'route.conf', ['shm0']))?.line, 2, 'extra line');
});

t.test('loadMtcpConf reads config/arp.conf and config/route.conf beside it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mtcp-conf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'mtcp.conf'), BASE);
  writeFileSync(join(dir, 'config/arp.conf'), 'ARP_ENTRY 1\n198.18.0.2/32 02:00:00:00:00:02\n');
  writeFileSync(join(dir, 'config/route.conf'), 'ROUTES 1\n198.18.0.254/0 shm0\n');
  const c = loadMtcpConf(join(dir, 'mtcp.conf'));
  t.equal(c.arp.length, 1);
  t.equal(c.routes.length, 1);
  writeFileSync(join(dir, 'missing.conf'), `${BASE}arp_conf = nowhere.conf\n`);
  t.throws(() => loadMtcpConf(join(dir, 'missing.conf')), ConfigError, 'an explicit arp_conf must exist');
  writeFileSync(join(dir, 'config/route.conf'), 'ROUTES 1\n198.18.0.254 shm0\n');
  t.match(configError(() => loadMtcpConf(join(dir, 'mtcp.conf')))?.file, /route\.conf$/, 'errors in route.conf name route.conf');
  t.throws(() => loadMtcpConf(join(dir, 'absent.conf')), ConfigError, 'a missing mtcp.conf');
  t.doesNotThrow(() => loadMtcpConf(new URL('../../mtcp.conf', import.meta.url).pathname), 'the shipped mtcp.conf loads');
});
