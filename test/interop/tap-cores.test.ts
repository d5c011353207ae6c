/**
 * One TAP shared by two cores (and, for the one-core path, by one): the kernel, in a namespace this test makes,
 * opens connections to an echo server running on two pinned workers
 * (runOnCores). Whichever core reads a frame from the TAP steers it to the
 * core RSS picks, so each core accepts its share and sees nothing of the
 * other's connections. The namespace and the TAP are deleted at the end.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { runOnCores } from '../../src/mtcp/cores.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { bundle } from '../helpers/bundle.ts';
import { inNamespace, ip, namespace } from '../helpers/netns.ts';
import { testNeeding } from '../helpers/prerequisites.ts';

const CONNECTIONS = 300;
const missing = process.getuid?.() !== 0 ? 'not root' : !existsSync('/dev/net/tun') ? 'no /dev/net/tun'
  : spawnSync('ip', ['-V']).status !== 0 ? 'no ip (iproute2)' : null;

/** The kernel's client: CONNECTIONS connections, 16 at a time, each echoing one line. Prints { ok, failed }. */
const CLIENT = `
const net = require('node:net');
let started = 0, ok = 0, failed = 0;
const one = () => {
  if (started >= ${CONNECTIONS}) return;
  started++;
  const s = net.connect({ host: '198.18.9.2', port: 7 });
  let got = '';
  s.setTimeout(10000, () => s.destroy(new Error('timeout')));
  s.on('connect', () => s.write('hello\\n'));
  s.on('data', (d) => { got += d; if (got === 'hello\\n') s.end(); });
  s.on('close', () => { if (got === 'hello\\n') ok++; else failed++; if (ok + failed === ${CONNECTIONS}) console.log(JSON.stringify({ ok, failed })); else one(); });
  s.on('error', () => {});
};
for (let i = 0; i < 16; i++) one();
`;

for (const cores of [2, 1]) testNeeding(t, `${cores} core(s) on one TAP: the kernel's connections are spread by RSS and every one is served`, missing, async (t) => {
  const dir = await bundle('tap-cores', ['src/mtcp/core-worker.ts', 'test/mtcp/fixtures/core-app.ts']);
  const ns = `i6tapc${process.pid}-${cores}`;
  const ifname = `i6t${cores}x${process.pid}`.slice(0, 15);
  const { run: inNs } = namespace(t, ns);
  const cfg = parseMtcpConf([`io = tap`, `port = ${ifname}`, `${ifname}.addr = 198.18.9.2/24`, `num_cores = ${cores}`, 'max_concurrency = 1024',
    'max_num_buffers = 1024'].join('\n'), '<tap>');
  const runtime = new MtcpRuntime(cfg);
  const shared = inNamespace(ns, () => runtime.share()); // the TAP is made in the namespace
  t.equal(shared.tap!.queues, cores);
  t.equal(shared.tap!.fabric === null, cores === 1, 'a fabric between cores only with several');
  t.teardown(() => runtime.destroy());
  const run = runOnCores(runtime, pathToFileURL(join(dir, 'test/mtcp/fixtures/core-app.js')), {
    entry: 'echo', data: { port: 7 }, workerUrl: pathToFileURL(join(dir, 'src/mtcp/core-worker.js')),
  });
  t.teardown(() => run.stop());
  await run.ready;
  ip('-n', ns, 'addr', 'add', '198.18.9.1/24', 'dev', ifname);
  ip('-n', ns, 'link', 'set', ifname, 'up');

  const client = await inNs(process.execPath, ['-e', CLIENT], 120_000);
  t.equal(client.code, 0, client.stderr);
  t.same(JSON.parse(client.stdout.toString().trim()), { ok: CONNECTIONS, failed: 0 }, 'every connection echoed');
  run.stop();
  const results = (await run.done) as { core: number; accepted: number; received: number; noSocketDrops: number }[];
  for (const c of results) {
    t.ok(c.accepted > 0, `core ${c.core} accepted ${c.accepted}`);
    t.equal(c.received, c.accepted * 6, `core ${c.core}: one line per connection it accepted`);
    t.equal(c.noSocketDrops, 0, `core ${c.core}: no segment of the other core's connections`);
  }
  t.equal(results.reduce((n, c) => n + c.accepted, 0), CONNECTIONS, 'the cores\' counts add up');
  runtime.destroy();
  t.not(spawnSync('ip', ['-n', ns, 'link', 'show', ifname]).status, 0, 'the TAP is gone with its descriptor');
});
