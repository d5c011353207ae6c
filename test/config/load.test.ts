/** loadMtcpConf: reading mtcp.conf and the arp.conf / route.conf beside it from real files. */
import t, { type Test } from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.ts';
import { loadMtcpConf, sideFilesLine } from '../../src/config/mtcp-conf.ts';
import { EINVAL, ENOENT } from '../../src/stack/errno.ts';
import { expectConfigError } from './fixtures/expect-error.ts';

const MTCP = 'io = shm\nport = shm0\nshm0.addr = 198.18.0.1/24\n';
const ARP = 'ARP_ENTRY 1\n198.18.0.2/32 02:00:c6:12:00:02\n';
const ROUTE = 'ROUTES 1\n198.18.0.254/0 shm0\n';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'mtcp-conf-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('config/arp.conf and config/route.conf beside mtcp.conf are loaded', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'mtcp.conf'), MTCP);
  writeFileSync(join(dir, 'config', 'arp.conf'), ARP);
  writeFileSync(join(dir, 'config', 'route.conf'), ROUTE);
  const c = loadMtcpConf(join(dir, 'mtcp.conf'));
  t.equal(c.file, join(dir, 'mtcp.conf'));
  t.same(c.arp, [{ addr: 0xc6120002, prefix: 32, mac: 0x0200c6120002 }]);
  t.same(c.routes, [{ addr: 0, prefix: 0, port: 'shm0', gateway: 0xc61200fe }]);
  t.same(c.sideFiles.map((f) => [f.key, f.named, f.entries]), [['arp_conf', false, 1], ['route_conf', false, 1]], 'both found beside it');
  t.match(sideFilesLine(c), /config\/arp\.conf \(1 ARP entry, found beside it\); config\/route\.conf \(1 route, found beside it\)/);
});

t.test('without config/ the tables stay empty', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'mtcp.conf'), MTCP);
  const c = loadMtcpConf(join(dir, 'mtcp.conf'));
  t.same(c.arp, []);
  t.same(c.routes, []);
});

t.test('only one of the two present', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'mtcp.conf'), MTCP);
  writeFileSync(join(dir, 'config', 'route.conf'), ROUTE);
  const c = loadMtcpConf(join(dir, 'mtcp.conf'));
  t.same(c.arp, []);
  t.equal(c.routes.length, 1);
});

t.test('explicit arp_conf / route_conf paths, relative to mtcp.conf', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'neigh.conf'), 'ARP_ENTRY 1\n10.0.0.2/32 02:00:0a:00:00:02\n');
  writeFileSync(join(dir, 'routes.txt'), 'ROUTES 1\n10.9.0.0/16 shm0\n');
  writeFileSync(join(dir, 'mtcp.conf'), `${MTCP}arp_conf = etc/neigh.conf\nroute_conf = ${join(dir, 'routes.txt')}\n`);
  const c = loadMtcpConf(join(dir, 'mtcp.conf'));
  t.same(c.arp, [{ addr: 0x0a000002, prefix: 32, mac: 0x02000a000002 }]);
  t.same(c.routes, [{ addr: 0x0a090000, prefix: 16, port: 'shm0', gateway: 0 }]);
  t.same(c.sideFiles.map((f) => [f.key, f.named]), [['arp_conf', true], ['route_conf', true]]);
});

t.test('an explicit arp_conf or route_conf that does not exist is an error', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'mtcp.conf');
  writeFileSync(path, `${MTCP}arp_conf = nope/arp.conf\n`);
  expectConfigError(t, () => loadMtcpConf(path), path, 4, /arp_conf = nope\/arp\.conf does not exist/, 'missing arp_conf names its line');
  writeFileSync(path, `route_conf = missing.conf\n# routes above\n${MTCP}`);
  expectConfigError(t, () => loadMtcpConf(path), path, 1, /route_conf = missing\.conf does not exist \(.*missing\.conf\)/, 'missing route_conf names its line and the resolved path');
  // A default config/arp.conf that is absent is fine, an explicit one is not, even when the default exists.
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'arp.conf'), ARP);
  writeFileSync(path, `${MTCP}\narp_conf = config/arp.con\n`);
  expectConfigError(t, () => loadMtcpConf(path), path, 5, /arp_conf = config\/arp\.con does not exist/, 'a typo is not covered by the default');
});

t.test('errors in the side files name the side file and line', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'config'));
  const path = join(dir, 'mtcp.conf');
  writeFileSync(path, MTCP);
  const arp = join(dir, 'config', 'arp.conf');
  writeFileSync(arp, 'ARP_ENTRY 1\n# c\n198.18.0.2/32 zz:00:c6:12:00:02\n');
  expectConfigError(t, () => loadMtcpConf(path), arp, 3, /bad MAC address/, 'arp.conf bad MAC');
  rmSync(arp);
  const route = join(dir, 'routes.conf');
  writeFileSync(route, 'ROUTES 1\n10.0.0.0/8 eth0\n');
  writeFileSync(path, `${MTCP}route_conf = routes.conf\n`);
  expectConfigError(t, () => loadMtcpConf(path), route, 2, /unknown port `eth0`/, 'a named route.conf with an unknown port');
});

t.test('a route.conf found beside mtcp.conf that routes by another port is skipped, and the side-files line says so', async (t) => {
  // The repository's config/route.conf routes by shm0; a tap.conf written beside it must not fail on it, nor use it unsaid.
  const dir = tempDir(t);
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'arp.conf'), ARP);
  writeFileSync(join(dir, 'config', 'route.conf'), ROUTE);
  const path = join(dir, 'tap.conf');
  writeFileSync(path, 'io = tap\nport = tap0\ntap0.addr = 198.18.7.2/24\n');
  const c = loadMtcpConf(path);
  t.same(c.routes, [], 'no route from it');
  t.equal(c.arp.length, 1, 'config/arp.conf names no port: it is used');
  t.match(sideFilesLine(c), /config\/arp\.conf \(1 ARP entry, found beside it\); skipped config\/route\.conf: it routes by shm0, not a port of this file/);
  writeFileSync(path, 'io = tap\nport = tap0\ntap0.addr = 198.18.7.2/24\nroute_conf = config/route.conf\n');
  expectConfigError(t, () => loadMtcpConf(path), join(dir, 'config', 'route.conf'), 2, /unknown port `shm0`/, 'named, the same file is an error');
});

t.test('a missing mtcp.conf carries ENOENT; a bad line EINVAL', async (t) => {
  const dir = tempDir(t);
  const errnoOfLoad = (path: string): number | null => {
    try {
      loadMtcpConf(path);
    } catch (e) {
      return (e as ConfigError).errno;
    }
    return null;
  };
  t.equal(errnoOfLoad(join(dir, 'absent.conf')), ENOENT);
  writeFileSync(join(dir, 'bad.conf'), 'bogus = 1\n');
  t.equal(errnoOfLoad(join(dir, 'bad.conf')), EINVAL);
});

t.test('without side files the line says so', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'mtcp.conf'), MTCP);
  t.match(sideFilesLine(loadMtcpConf(join(dir, 'mtcp.conf'))), /mtcp\.conf: no arp\.conf or route\.conf$/);
});

/**
 * `fn()`, as user and group nobody when this process runs as root (CI does), where permission bits do not
 * stop reads; root is back when it returns.
 */
function withoutRoot<T>(fn: () => T): T {
  if (process.geteuid?.() !== 0) return fn();
  process.setegid!(65534);
  process.seteuid!(65534);
  try {
    return fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
  }
}

t.test('a missing or unreadable mtcp.conf is a ConfigError', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'absent.conf');
  expectConfigError(t, () => loadMtcpConf(missing), missing, 0, /cannot read the file \(ENOENT\)/, 'missing file');
  expectConfigError(t, () => loadMtcpConf(dir), dir, 0, /cannot read the file \(EISDIR\)/, 'a directory');
  const locked = join(dir, 'locked.conf');
  writeFileSync(locked, MTCP);
  chmodSync(locked, 0o000);
  expectConfigError(t, () => withoutRoot(() => loadMtcpConf(locked)), locked, 0, /cannot read the file \(EACCES\)/, 'no read permission');
  chmodSync(locked, 0o644);
});

t.test('the shipped mtcp.conf, config/arp.conf and config/route.conf load', async (t) => {
  const path = new URL('../../mtcp.conf', import.meta.url).pathname;
  const c = loadMtcpConf(path);
  t.equal(c.io, 'shm');
  t.same(c.ports, [{ name: 'shm0', addr: 0xc6120001, prefix: 24, mac: 0x0200c6120001, macGiven: true, device: '' }]);
  t.equal(c.numCores, 1);
  t.equal(c.cc, 'reno');
  t.equal(c.mtu, 1500);
  t.ok(c.arp.length >= 1, 'the sample arp.conf has entries');
  t.ok(c.routes.length >= 1, 'the sample route.conf has routes');
  t.ok(c.routes.every((r) => r.port === 'shm0'), 'routes use the sample port');
});

t.test('a syntax error in mtcp.conf names mtcp.conf and the line', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'mtcp.conf');
  writeFileSync(path, `${MTCP}\n# x\nnum_cores = many\n`);
  expectConfigError(t, () => loadMtcpConf(path), path, 6, /num_cores = many is not an integer/, 'bad integer');
});

t.test('an unreadable arp.conf / route.conf beside mtcp.conf is a ConfigError too', async (t) => {
  // The config/arp.conf path exists but is a directory: reading it fails (EISDIR).
  const dir = tempDir(t);
  const path = join(dir, 'mtcp.conf');
  writeFileSync(path, MTCP);
  const arp = join(dir, 'config', 'arp.conf');
  mkdirSync(arp, { recursive: true });
  let err: unknown = null;
  try {
    loadMtcpConf(path);
  } catch (e) {
    err = e;
  }
  t.type(err, ConfigError, 'default config/arp.conf that cannot be read');
  rmSync(arp, { recursive: true });
  const route = join(dir, 'routes');
  mkdirSync(route);
  writeFileSync(path, `${MTCP}route_conf = routes\n`);
  err = null;
  try {
    loadMtcpConf(path);
  } catch (e) {
    err = e;
  }
  t.type(err, ConfigError, 'explicit route_conf that cannot be read');
});
