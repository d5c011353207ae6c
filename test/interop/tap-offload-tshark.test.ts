/**
 * TAP with its offloads (src/io/tap.ts) as the kernel sees them once it has cut and checksummed our segments:
 * our stack on a TAP whose namespace routes to a client namespace over a veth with no offload on the router's
 * end (so the router segments and checksums in software); tshark captures there while 10 MiB go each way
 * and finds no bad checksum: the checksum seeds and segment headers we hand the kernel become correct frames.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { halfCloseClient, halfCloseServer } from '../helpers/interop-suite.ts';
import { ip, namespace } from '../helpers/netns.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { averageFrames, KERNEL, MTU_FRAME, tapEnds, tapOffloadMissing, toName, US } from '../helpers/tap-ends.ts';
import { badFrameArgs } from '../helpers/tshark.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROUTER = '198.18.9.1';
const CLIENT = '198.18.9.2';

testNeeding(t, 'tshark, behind a router that cuts and checksums in software, sees our offloaded segments as correct frames both ways', tapOffloadMissing() ?? commandMissing('tshark') ?? commandMissing('ethtool'), async (t) => {
  // us --TAP-- router (KERNEL) --veth, no offloads on the router's end-- client (CLIENT), routed via 198.18.9.0/24.
  const { ns: router, mctx } = tapEnds(t, ['rcvbuf = 1048576', 'sndbuf = 1048576'], KERNEL);
  const client = namespace(t, toName('cl'));
  ip('link', 'add', 'vto-r', 'netns', router, 'type', 'veth', 'peer', 'name', 'vto-c', 'netns', client.ns);
  ip('-n', router, 'addr', 'add', `${ROUTER}/24`, 'dev', 'vto-r');
  ip('-n', client.ns, 'addr', 'add', `${CLIENT}/24`, 'dev', 'vto-c');
  ip('-n', router, 'link', 'set', 'vto-r', 'up');
  ip('-n', client.ns, 'link', 'set', 'vto-c', 'up');
  ip('-n', client.ns, 'route', 'add', 'default', 'via', ROUTER);
  const sysctl = spawnSync('ip', ['netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'], { encoding: 'utf8' });
  t.equal(sysctl.status, 0, `the router forwards ${sysctl.stderr}`);
  // The router's veth hands on final frames: what our segments become once the kernel has cut and checksummed them.
  const off = spawnSync('ip', ['netns', 'exec', router, 'ethtool', '-K', 'vto-r', 'tx', 'off', 'tso', 'off', 'gso', 'off'], { encoding: 'utf8' });
  t.equal(off.status, 0, `the router's veth does no offload ${off.stderr}`);
  spawnSync('ip', ['netns', 'exec', client.ns, 'ethtool', '-K', 'vto-c', 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);

  const capture = join(tempDir(t, 'mtcpts-to-cap-'), 'routed.pcap');
  const dumper = spawn('ip', ['netns', 'exec', client.ns, 'tshark', '-q', '-i', 'vto-c', '-w', capture, '-f', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => {
    dumper.kill('SIGKILL');
  });
  await new Promise<void>((resolve) => {
    let err = '';
    dumper.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Capturing on')) resolve();
    });
    setTimeout(resolve, 5000);
  });

  const body = randomBytes(10 << 20);
  const { server, uploaded } = await halfCloseServer(mctx, US, body);
  const py = await client.run('python3', ['-c', halfCloseClient(US, 10 << 20)], 300_000);
  const [sentSha, gotSha, gotLen] = py.stdout.toString().trim().split(' ');
  t.equal(uploaded(), sentSha, 'client to us through the router: 10 MiB intact');
  t.equal(Number(gotLen), body.length, 'the client read all of it');
  t.equal(gotSha, createHash('sha256').update(body).digest('hex'), 'us to client through the router: 10 MiB intact');
  const frames = averageFrames(mctx);
  t.ok(frames.tx > MTU_FRAME, `we handed the router segments larger than a frame (average ${frames.tx.toFixed(0)} bytes)`);
  server.close();
  await new Promise((r) => setTimeout(r, 500));
  dumper.kill('SIGINT');
  await once(dumper, 'exit');

  // Every frame in full: tshark checks IP and TCP checksums; the client's kernel counted any bad one it dropped.
  const all = spawnSync('tshark', ['-r', capture, '-T', 'fields', '-e', 'frame.len'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  t.equal(all.status, 0, 'tshark reads the capture');
  const lens = all.stdout.trim().split('\n').map(Number);
  t.ok(lens.length > 5_000, `tshark read ${lens.length} frames`);
  t.ok(Math.max(...lens) <= MTU_FRAME, `every frame on the router's far side is at most ${MTU_FRAME} bytes (the router cut our segments)`);
  const bad = spawnSync('tshark', badFrameArgs(capture), { encoding: 'utf8', maxBuffer: 1 << 26 });
  t.equal(bad.status, 0, 'tshark filters the capture');
  t.equal(bad.stdout.trim(), '', 'no malformed frame, no bad IP or TCP checksum');
  const nstat = await client.run('nstat', ['-az', 'TcpInCsumErrors']);
  t.match(nstat.stdout.toString(), /TcpInCsumErrors\s+0\b/, 'the client\'s kernel found no bad TCP checksum');
}, { timeout: 600_000 });
