/** mtcp.conf: every key, its default, and every error naming file and line. */
import t from 'tap';
import { defaultConfig, parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { expectConfigError } from './fixtures/expect-error.ts';

const F = '/etc/mtcp/mtcp.conf';
const BASE = 'port = shm0\nshm0.addr = 198.18.0.1/24\n';

t.test('defaults: only an address given', async (t) => {
  const c = parseMtcpConf('shm0.addr = 198.18.0.1/24\n', F);
  t.equal(c.file, F);
  t.equal(c.io, 'shm');
  t.equal(c.numCores, 1);
  t.equal(c.coreMask, 1);
  t.equal(c.numMemCh, 4);
  t.same(c.ports, [{ name: 'shm0', addr: 0xc6120001, prefix: 24, mac: 0x0200c6120001, macGiven: false, device: '' }], 'default port is <io>0');
  t.same(c.statPrint, []);
  t.equal(c.maxConcurrency, 10000);
  t.equal(c.maxNumBuffers, 10000);
  t.equal(c.rcvbuf, 8192);
  t.equal(c.sndbuf, 8192);
  t.equal(c.tcpTimeoutSec, 30);
  t.equal(c.tcpTimewaitSec, 0);
  t.equal(c.cc, 'reno');
  t.equal(c.mtu, 1500);
  t.equal(c.shmSlots, 1024);
  t.equal(c.arpConf, '');
  t.equal(c.routeConf, '');
  t.same(c.arp, []);
  t.same(c.routes, []);
  const d = defaultConfig();
  t.equal(d.maxConcurrency, 10000);
  t.equal(d.rcvbuf, 8192);
  t.equal(d.tcpTimeoutSec, 30);
  t.same(d.ports, []);
});

t.test('io = sim names the default port sim0', async (t) => {
  const c = parseMtcpConf('io = sim\nsim0.addr = 10.0.0.1/8\n', F);
  t.equal(c.io, 'sim');
  t.equal(c.ports[0].name, 'sim0');
  t.equal(c.ports[0].addr, 0x0a000001);
  t.equal(c.ports[0].mac, 0x02000a000001);
});

t.test('every key set', async (t) => {
  const text = [
    'io = sim',
    'num_cores = 4',
    'core_mask = 0xf0',
    'num_mem_ch = 2',
    'port = p0',
    'p0.addr = 198.18.0.1/24',
    'p0.mac = 0a:1b:2c:3d:4e:5f',
    'stat_print = p0',
    'max_concurrency = 500',
    'max_num_buffers = 600',
    'rcvbuf = 16384',
    'sndbuf = 4096',
    'tcp_timeout = 120',
    'tcp_timewait = 5',
    'cc = reno',
    'mtu = 9000',
    'shm_slots = 4096',
    'arp_conf = my/arp.conf',
    'route_conf = /abs/route.conf',
  ].join('\n');
  const c = parseMtcpConf(text, F);
  t.equal(c.io, 'sim');
  t.equal(c.numCores, 4);
  t.equal(c.coreMask, 0xf0);
  t.equal(c.numMemCh, 2);
  t.same(c.ports, [
    { name: 'p0', addr: 0xc6120001, prefix: 24, mac: 0x0a1b2c3d4e5f, macGiven: true, device: '' },
  ]);
  t.same(c.statPrint, ['p0']);
  t.equal(c.maxConcurrency, 500);
  t.equal(c.maxNumBuffers, 600);
  t.equal(c.rcvbuf, 16384);
  t.equal(c.sndbuf, 4096);
  t.equal(c.tcpTimeoutSec, 120);
  t.equal(c.tcpTimewaitSec, 5);
  t.equal(c.cc, 'reno');
  t.equal(c.mtu, 9000);
  t.equal(c.shmSlots, 4096);
  t.equal(c.arpConf, 'my/arp.conf');
  t.equal(c.routeConf, '/abs/route.conf');
});

t.test('num_cores sets the default core_mask; core_mask text forms', async (t) => {
  t.equal(parseMtcpConf(`${BASE}num_cores = 8\n`, F).coreMask, 0xff);
  t.equal(parseMtcpConf(`${BASE}num_cores = 3\ncore_mask = 7\n`, F).coreMask, 7, 'hex without 0x');
  t.equal(parseMtcpConf(`${BASE}num_cores = 2\ncore_mask = 0xA0\n`, F).coreMask, 0xa0, 'upper-case hex, non-contiguous');
  t.equal(parseMtcpConf(`${BASE}core_mask = 0xffffffff\n`, F).coreMask, 0xffffffff, 'eight hex digits');
  t.equal(parseMtcpConf(`${BASE}num_cores = 2\ncore_mask = 0x7\n`, F).coreMask, 7, 'more bits than cores is fine');
  t.equal(parseMtcpConf(`${BASE}num_cores = 40\ncore_mask = 0xfffffffffffff\n`, F).coreMask, 2 ** 52 - 1, '13 hex digits: cores 0..51');
  t.equal(parseMtcpConf(`${BASE}core_mask = 0X10\n`, F).coreMask, 0x10, '0X prefix');
  t.equal(parseMtcpConf(`${BASE}num_cores = 52\n`, F).coreMask, 2 ** 52 - 1, 'default mask for 52 cores is exact');
});

t.test('rcvbuf / sndbuf: one set → the other equals it', async (t) => {
  let c = parseMtcpConf(`${BASE}rcvbuf = 65536\n`, F);
  t.equal(c.rcvbuf, 65536);
  t.equal(c.sndbuf, 65536);
  c = parseMtcpConf(`${BASE}sndbuf = 1024\n`, F);
  t.equal(c.rcvbuf, 1024);
  t.equal(c.sndbuf, 1024);
  c = parseMtcpConf(BASE, F);
  t.equal(c.rcvbuf, 8192);
  t.equal(c.sndbuf, 8192);
});

t.test('tcp_timeout = -1 disables; tcp_timewait = 0', async (t) => {
  t.equal(parseMtcpConf(`${BASE}tcp_timeout = -1\n`, F).tcpTimeoutSec, -1);
  t.equal(parseMtcpConf(`${BASE}tcp_timeout = 1\n`, F).tcpTimeoutSec, 1);
  t.equal(parseMtcpConf(`${BASE}tcp_timewait = 0\n`, F).tcpTimewaitSec, 0);
});

t.test('port may follow its <port>.addr / .mac lines; stat_print may precede port', async (t) => {
  const c = parseMtcpConf('stat_print = b\nb.mac = 02:00:00:00:00:0b\nb.addr = 10.0.0.2/8\nport = b\n', F);
  t.same(c.ports.map((p) => p.name), ['b']);
  t.equal(c.ports[0].mac, 0x02000000000b);
  t.same(c.statPrint, ['b']);
});

t.test('an error message has the form file:line: problem; expected ...', async (t) => {
  let msg = '';
  try {
    parseMtcpConf(`${BASE}io = bogus\n`, F);
  } catch (e) {
    msg = (e as Error).message;
  }
  t.equal(msg, `${F}:3: unknown io = bogus; expected one of sim, shm, tap, dpdk, netmap`);
  try {
    parseMtcpConf(`${BASE}cc = vegas\n`, F);
  } catch (e) {
    msg = (e as Error).message;
  }
  t.match(msg, /^\/etc\/mtcp\/mtcp\.conf:3: unknown cc = vegas; expected one of reno, cubic/, 'lists the supported ones');
});

t.test('io = netmap: the port names the interface; <port>.device names a VALE port or pipe end instead', async (t) => {
  const c = parseMtcpConf('io = netmap\nport = eth0\neth0.addr = 198.18.0.1/24\n', F);
  t.equal(c.io, 'netmap');
  t.same(c.ports, [{ name: 'eth0', addr: 0xc6120001, prefix: 24, mac: 0x0200c6120001, macGiven: false, device: '' }]);
  t.equal(parseMtcpConf('io = netmap\nnetmap0.addr = 198.18.0.1/24\n', F).ports[0].name, 'netmap0', 'default port is netmap0');
  for (const device of ['vale0:a', 'eth0{1', 'eth0}1', 'netmap:eth0', 'veth-us', 'x'.repeat(63)]) {
    t.equal(parseMtcpConf(`io = netmap\nport = p0\np0.addr = 198.18.0.1/24\np0.device = ${device}\n`, F).ports[0].device, device, device);
  }
});

t.test('cc = cubic is accepted (this version has CUBIC, RFC 9438)', async (t) => {
  t.equal(parseMtcpConf(`${BASE}cc = cubic\n`, F).cc, 'cubic');
});

t.test('comments, blank lines, CRLF and spacing', async (t) => {
  const text = '# mtcp.conf\r\n\r\n   \r\nport=shm0   # the port\r\n\tshm0.addr =198.18.0.9/32\r\n# num_cores = 99\r\nnum_cores   =   2   \r\n';
  const c = parseMtcpConf(text, F);
  t.equal(c.numCores, 2);
  t.equal(c.ports[0].addr, 0xc6120009);
  t.equal(c.ports[0].prefix, 32);
});

t.test('an mTCP-style sample with io = shm', async (t) => {
  const text = `############### mtcp configuration file ###############

# The underlying I/O module you want to use. Please
# enable only one out of the two.
io = shm

# Number of memory channels per processor socket (dpdk-only)
num_mem_ch = 4

#------ DPDK ports -------#
port = dpdk0
dpdk0.addr = 10.0.0.5/24

# Maximum concurrency per core
max_concurrency = 10000

# Maximum number of socket buffers per core
# Set this to small value if there are many idle connections
max_num_buffers = 10000

# Receive buffer size of sockets
rcvbuf = 8192

# Send buffer size of sockets
sndbuf = 8192

# TCP timeout seconds
# (tcp_timeout = -1 can disable the timeout check)
tcp_timeout = 30

# TCP timewait seconds
tcp_timewait = 0

# Interface to print stats (please separate by space)
stat_print = dpdk0

# Number of CPU cores
num_cores = 8

#######################################################
`;
  const c = parseMtcpConf(text, 'mtcp.conf');
  t.equal(c.io, 'shm');
  t.equal(c.numCores, 8);
  t.equal(c.coreMask, 0xff);
  t.equal(c.numMemCh, 4);
  t.same(c.ports, [{ name: 'dpdk0', addr: 0x0a000005, prefix: 24, mac: 0x02000a000005, macGiven: false, device: '' }]);
  t.same(c.statPrint, ['dpdk0']);
  t.equal(c.maxConcurrency, 10000);
  t.equal(c.maxNumBuffers, 10000);
  t.equal(c.rcvbuf, 8192);
  t.equal(c.sndbuf, 8192);
  t.equal(c.tcpTimeoutSec, 30);
  t.equal(c.tcpTimewaitSec, 0);
});

t.test('every error names the file and line', async (t) => {
  const cases: [string, string, number, RegExp][] = [
    ['unknown key', `${BASE}\nfoo = 1\n`, 4, /unknown key `foo`/],
    ['unknown dotted key', `${BASE}shm0.gateway = 1.2.3.4\n`, 3, /unknown key `shm0\.gateway`/],
    ['duplicate key', `num_cores = 2\n${BASE}num_cores = 3\n`, 4, /duplicate key num_cores/],
    ['duplicate <port>.addr', `${BASE}shm0.addr = 198.18.0.2/24\n`, 3, /duplicate key shm0\.addr/],
    ['duplicate <port>.mac', `${BASE}shm0.mac = 02:00:00:00:00:01\n# x\nshm0.mac = 02:00:00:00:00:02\n`, 5, /duplicate key shm0\.mac/],
    ['missing =', `${BASE}num_cores 8\n`, 3, /has no `=`/],
    ['empty value', `# c\n${BASE}num_cores =   # nothing\n`, 4, /num_cores has no value/],
    ['non-integer 8.5', `${BASE}num_cores = 8.5\n`, 3, /not an integer/],
    ['non-integer 0x8', `${BASE}num_cores = 0x8\n`, 3, /not an integer/],
    ['non-integer 1e4', `${BASE}max_concurrency = 1e4\n`, 3, /not an integer/],
    ['non-integer word', `${BASE}rcvbuf = big\n`, 3, /not an integer/],
    ['num_cores 0', `${BASE}num_cores = 0\n`, 3, /out of range/],
    ['num_cores 129', `${BASE}num_cores = 129\n`, 3, /out of range/],
    ['num_mem_ch 17', `${BASE}num_mem_ch = 17\n`, 3, /out of range/],
    ['max_concurrency 0', `${BASE}max_concurrency = 0\n`, 3, /out of range/],
    ['max_num_buffers too big', `${BASE}max_num_buffers = 4194305\n`, 3, /out of range/],
    ['rcvbuf 63', `${BASE}rcvbuf = 63\n`, 3, /out of range/],
    ['sndbuf negative', `${BASE}sndbuf = -8192\n`, 3, /out of range/],
    ['mtu 575', `${BASE}mtu = 575\n`, 3, /out of range/],
    ['mtu 65536', `${BASE}mtu = 65536\n`, 3, /out of range/],
    ['tcp_timeout -2', `${BASE}tcp_timeout = -2\n`, 3, /out of range/],
    ['tcp_timewait -1', `${BASE}tcp_timewait = -1\n`, 3, /out of range/],
    ['io = dpdk without a device', `io = dpdk\n${BASE}`, 2, /io = dpdk: port shm0 has no device/],
    ['device without io = dpdk or netmap', `${BASE}shm0.device = net_tap0\n`, 3, /shm0\.device is for io = dpdk or netmap/],
    ['io = netmap with a libnetmap ring suffix', `io = netmap\n${BASE}shm0.device = eth0*\n`, 4, /shm0\.device = eth0\*; expected a netmap port/],
    ['io = netmap with a flag suffix', `io = netmap\n${BASE}shm0.device = eth0/x\n`, 4, /shm0\.device = eth0\/x/],
    ['io = netmap with a 64-character device', `io = netmap\n${BASE}shm0.device = ${'x'.repeat(64)}\n`, 4, /at most 63 characters/],
    ['io = netmap with two ports', 'io = netmap\nport = a b\na.addr = 10.0.0.1/8\nb.addr = 10.0.0.2/8\n', 2, /io = netmap takes one port per stack/],
    ['a second port, which no driver would use', 'port = shm0 shm1\nshm0.addr = 10.0.0.1/8\nshm1.addr = 10.0.0.2/8\n', 1, /port = shm0 shm1: io = shm takes one port per stack in this version, so shm1 would get no driver/],
    ['io = bogus', `${BASE}io = bogus\n`, 3, /unknown io = bogus/],
    ['cc = bogus', `${BASE}cc = bogus\n`, 3, /unknown cc = bogus/],
    ['cc = vegas', `${BASE}\n\ncc = vegas\n`, 5, /unknown cc = vegas/],
    ['cc = Reno (case matters)', `${BASE}cc = Reno\n`, 3, /unknown cc/],
    ['port without addr', `# ports\nport = shm0 shm1\nshm0.addr = 198.18.0.1/24\n`, 2, /port shm1 has no address/],
    ['default port without addr', 'num_cores = 1\n', 0, /port shm0 has no address/],
    ['addr for a port not listed', `${BASE}\nshm9.addr = 10.0.0.1/8\n`, 4, /shm9\.\* is given but shm9 is not in `port`/],
    ['mac for a port not listed', `${BASE}shm9.mac = 02:00:00:00:00:01\n`, 3, /shm9 is not in `port`/],
    ['bad cidr: no prefix', `port = shm0\n\nshm0.addr = 198.18.0.1\n`, 3, /shm0\.addr = 198\.18\.0\.1/],
    ['bad cidr: prefix 33', `port = shm0\nshm0.addr = 198.18.0.1/33\n`, 2, /shm0\.addr/],
    ['bad cidr: octet 256', `port = shm0\nshm0.addr = 198.18.0.256/24\n`, 2, /shm0\.addr/],
    ['bad cidr: hostname', `port = shm0\nshm0.addr = localhost/8\n`, 2, /shm0\.addr/],
    ['bad mac: five bytes', `${BASE}shm0.mac = 02:00:00:00:01\n`, 3, /shm0\.mac = 02:00:00:00:01/],
    ['bad mac: dashes', `${BASE}shm0.mac = 02-00-00-00-00-01\n`, 3, /shm0\.mac/],
    ['bad mac: not hex', `${BASE}shm0.mac = 02:00:00:00:00:zz\n`, 3, /shm0\.mac/],
    ['core_mask with too few bits', `${BASE}num_cores = 4\ncore_mask = 0x7\n`, 4, /core_mask = 0x7 has 3 cores but num_cores = 4/],
    ['core_mask 0', `${BASE}core_mask = 0\n`, 3, /has 0 cores/],
    ['bad core_mask text', `${BASE}core_mask = 0xg\n`, 3, /not a hex mask/],
    ['core_mask with 14 hex digits', `${BASE}core_mask = 0x12345678901234\n`, 3, /not a hex mask/],
    ['core_mask 0x alone', `${BASE}core_mask = 0x\n`, 3, /not a hex mask/],
    ['core_mask beyond 32 bits with too few set', `${BASE}num_cores = 3\ncore_mask = 0x10000000001\n`, 4, /has 2 cores but num_cores = 3/],
    ['no key before =', `${BASE}= 5\n`, 3, /has no key before `=`/],
    ['addr with a leading-zero octet (octal to inet_addr)', `port = shm0\nshm0.addr = 198.018.0.1/24\n`, 2, /shm0\.addr/],
    ['addr prefix with a leading zero', `port = shm0\nshm0.addr = 198.18.0.1/024\n`, 2, /shm0\.addr/],
    ['addr for an unlisted port, port given later', `shm9.addr = 10.0.0.1/8\n${BASE}`, 1, /shm9 is not in `port`/],
    ['stat_print before port, naming an unknown port', `stat_print = shm1\n${BASE}`, 1, /stat_print names unknown port `shm1`/],
    ['cc empty', `${BASE}cc =\n`, 3, /cc has no value/],
    ['core_mask negative', `${BASE}core_mask = -1\n`, 3, /not a hex mask/],
    ['shm_slots not a power of two', `${BASE}shm_slots = 1000\n`, 3, /shm_slots = 1000/],
    ['shm_slots below 64', `${BASE}shm_slots = 32\n`, 3, /out of range/],
    ['shm_slots above 65536', `${BASE}shm_slots = 131072\n`, 3, /out of range/],
    ['stat_print naming an unknown port', `${BASE}stat_print = shm0 dpdk0\n`, 3, /stat_print names unknown port `dpdk0`/],
    ['port listed twice', `port = shm0 shm0\nshm0.addr = 198.18.0.1/24\n`, 1, /listed twice/],
    ['bad port name', `port = shm-0\n`, 1, /bad port name `shm-0`/],
  ];
  for (const [name, text, line, msg] of cases) expectConfigError(t, () => parseMtcpConf(text, F), F, line, msg, name);
});
