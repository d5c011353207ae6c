/**
 * mtcp_create_context's errno names the real cause: a core out of range is EINVAL, a core that already
 * has a context EEXIST, a setting the port cannot carry EINVAL, a missing DPDK (library or device) ENODEV,
 * a capture file that cannot be created the file system's errno. Each failure leaves nothing open behind.
 */
import t from 'tap';
import koffi from 'koffi';
import { join } from 'node:path';
import { mtcp_create_context, mtcp_destroy, mtcp_errno, mtcp_init, mtcp_runtime } from '../../src/mtcp/api.ts';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { dpdkUnavailable } from '../../src/io/dpdk.ts';
import { EEXIST, EINVAL, ENODEV, ENOENT, errnoName } from '../../src/stack/errno.ts';
import { SimWire } from '../../src/io/sim.ts';
import { config } from '../helpers/stacks.ts';
import { captureStderr } from '../helpers/stderr.ts';
import { tempDir } from '../helpers/tmp.ts';
import { BROADCAST, MAC_C, sendFrames } from '../io/fixtures/frames.ts';

/** How many open ports besides a probe's own receive a broadcast on `wire` (a failed context's port must not be one). */
function openPorts(wire: SimWire): number {
  const probe = wire.attach(MAC_C);
  const before = wire.stats.delivered;
  sendFrames(probe, BROADCAST, [1]);
  wire.advanceBy(1);
  probe.close();
  return wire.stats.delivered - before;
}

t.afterEach(() => mtcp_destroy());

t.test('a core out of range is EINVAL', async (t) => {
  t.equal(mtcp_init(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm', cores: 2 })), 0);
  for (const core of [2, -1, 0.5]) {
    const [, said] = await captureStderr(() => t.ok(mtcp_create_context(core) === null, `core ${core}: no context`));
    t.equal(errnoName(mtcp_errno()), 'EINVAL', `core ${core}: EINVAL`);
    t.match(said, /out of range: num_cores = 2/);
  }
});

t.test('a core that already has a context is EEXIST, and the first context keeps running', async (t) => {
  t.equal(mtcp_init(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' })), 0);
  const first = mtcp_create_context(0);
  t.ok(first);
  const [, said] = await captureStderr(() => t.ok(mtcp_create_context(0) === null, 'no second context'));
  t.equal(mtcp_errno(), EEXIST);
  t.match(said, /core 0 already has a context/);
  t.ok(first!.running, 'the first context is untouched');
  first!.stop();
  await first!.closed;
});

t.test('an mtu the port\'s frames cannot carry is EINVAL, and the port is given back', async (t) => {
  const conf = parseMtcpConf(['io = sim', 'port = sim0', 'sim0.addr = 198.18.0.1/24', 'mtu = 9000'].join('\n'), '<errno test>');
  const wire = new SimWire({ seed: 1 });
  t.equal(mtcp_init(conf, { sim: wire }), 0);
  const [, said] = await captureStderr(() => t.ok(mtcp_create_context(0) === null, 'no context'));
  t.equal(mtcp_errno(), EINVAL);
  t.match(said, /mtu 9000 does not fit the driver's 2048-byte frames/);
  t.equal(mtcp_runtime()!.contexts.size, 0);
  t.equal(openPorts(wire), 0, 'no port left open on the wire');
});

t.test('a capture file that cannot be created reports the file system\'s errno (ENOENT), and the port is given back', async (t) => {
  const dir = tempDir(t, 'mtcpts-errno-');
  const conf = parseMtcpConf(['io = sim', 'port = sim0', 'sim0.addr = 198.18.0.1/24', `capture = ${join(dir, 'no', 'such', 'dir.pcapng')}`].join('\n'), '<errno test>');
  const wire = new SimWire({ seed: 1 });
  t.equal(mtcp_init(conf, { sim: wire }), 0);
  for (const attempt of [1, 2]) {
    await captureStderr(() => t.ok(mtcp_create_context(0) === null, `attempt ${attempt}: no context`));
    t.equal(mtcp_errno(), ENOENT, `attempt ${attempt}: ENOENT (not EEXIST)`);
  }
  t.equal(openPorts(wire), 0, 'no port left open on the wire');
});

t.test('a missing DPDK library is ENODEV (not EEXIST), with what to install', async (t) => {
  // The real DPDK driver, runtime and API, with koffi unable to load DPDK's libraries, as on a host without
  // them (koffi is one CommonJS object shared by every importer; this process has not bound DPDK yet).
  const load = koffi.load;
  koffi.load = ((lib: string, ...rest: unknown[]) => {
    if (lib.startsWith('librte_')) throw new Error(`${lib}: cannot open shared object file`);
    return (load as (...a: unknown[]) => ReturnType<typeof koffi.load>)(lib, ...rest);
  }) as typeof koffi.load;
  t.teardown(() => {
    koffi.load = load;
  });
  const conf = parseMtcpConf(['io = dpdk', 'port = p0', 'p0.addr = 198.18.0.1/24', 'p0.device = net_null0'].join('\n'), '<errno test>');
  t.equal(mtcp_init(conf), 0);
  let made: unknown = null;
  const [, said] = await captureStderr(() => (made = mtcp_create_context(0)));
  t.ok(made === null, 'no context');
  t.equal(mtcp_errno(), ENODEV);
  t.match(said, /DPDK is not installed: cannot load librte_eal\.so\.23 \(on Debian or Ubuntu: apt-get install dpdk libdpdk-dev\)/);
});

// After the test above: this one binds the real DPDK libraries.
t.test('a DPDK device that does not exist is ENODEV', async (t) => {
  const missing = dpdkUnavailable();
  if (missing) {
    if (process.env.CI) t.fail(`CI must have DPDK: ${missing}`);
    else t.plan(0, `skipped: needs DPDK (${missing})`);
    return;
  }
  const conf = parseMtcpConf(['io = dpdk', 'port = p0', 'p0.addr = 198.18.0.1/24', `p0.device = net_nosuchdriver${process.pid}`].join('\n'), '<errno test>');
  t.equal(mtcp_init(conf), 0);
  let made: unknown = null;
  const [, said] = await captureStderr(() => (made = mtcp_create_context(0)));
  t.ok(made === null, 'no context');
  t.equal(mtcp_errno(), ENODEV, 'ENODEV');
  t.match(said, /DPDK has no port net_nosuchdriver\d+: probing/);
});
