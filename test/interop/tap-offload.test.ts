/**
 * TAP with its offloads (src/io/tap.ts: virtio-net headers, partial checksums, 64 KiB segments each way)
 * against the kernel in a namespace, each 1 GiB transfer printed beside the same transfer between two
 * kernel namespaces over a veth pair (the kernel's usual offloads on), measured in the same run:
 * - curl in the kernel's namespace fetches 1 GiB from node:http on our stack (sha256 checked);
 * - our client fetches 1 GiB from nginx in the kernel's namespace (sha256 checked).
 * The tests assert what arrived and that large segments moved, never a time. Every receiver pipes what
 * it gets to openssl in a process of its own, fast enough not to be what limits a transfer.
 */
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { createServer, MtcpAgent } from '../../src/net/index.ts';
import type { Run } from '../helpers/netns.ts';
import { ip, namespace } from '../helpers/netns.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { averageFrames, KERNEL, MTU_FRAME, tapEnds, tapOffloadMissing, toName, US } from '../helpers/tap-ends.ts';
import { tempDir } from '../helpers/tmp.ts';

/** The reference pair: a veth between two kernel namespaces. */
const REF_SERVER = '198.18.9.1';
const REF_CLIENT = '198.18.9.2';
/** 1 GiB, as BLOCK repeated BLOCKS times. */
const BLOCK = randomBytes(1 << 20);
const BLOCKS = 1024;
const GIB_SHA = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < BLOCKS; i++) h.update(BLOCK);
  return h.digest('hex');
})();

const missing = tapOffloadMissing() ?? commandMissing('openssl');

/** Two kernel namespaces joined by a veth pair with the kernel's usual offloads (REF_SERVER, REF_CLIENT). */
function referencePair(t: Test): { server: ReturnType<typeof namespace>; client: ReturnType<typeof namespace> } {
  const server = namespace(t, toName('rs'));
  const client = namespace(t, toName('rc'));
  ip('link', 'add', 'vto-s', 'netns', server.ns, 'type', 'veth', 'peer', 'name', 'vto-c', 'netns', client.ns);
  ip('-n', server.ns, 'addr', 'add', `${REF_SERVER}/24`, 'dev', 'vto-s');
  ip('-n', client.ns, 'addr', 'add', `${REF_CLIENT}/24`, 'dev', 'vto-c');
  ip('-n', server.ns, 'link', 'set', 'vto-s', 'up');
  ip('-n', client.ns, 'link', 'set', 'vto-c', 'up');
  return { server, client };
}

/** node:http serving BLOCK, BLOCKS times (the same code serves on our stack and on the kernel's). */
function gibHandler(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('content-length', BLOCK.length * BLOCKS);
  let sent = 0;
  const more = (): void => {
    while (sent < BLOCKS) {
      sent++;
      if (!res.write(BLOCK)) {
        res.once('drain', more);
        return;
      }
    }
    res.end();
  };
  more();
}

/** `curl <url> | openssl dgst -sha256` in a namespace: the digest, and the seconds it took. */
async function curlSha(run: Run, url: string): Promise<{ sha: string; seconds: number; stderr: string }> {
  const t0 = performance.now();
  const r = await run('sh', ['-c', `curl -sS --max-time 600 ${url} | openssl dgst -sha256 -r`], 660_000);
  return { sha: r.stdout.toString().split(' ')[0], seconds: (performance.now() - t0) / 1000, stderr: r.stderr };
}

/** Start `args` in a namespace and wait until `url` answers there. */
async function startServer(ns: string, run: Run, args: string[], url: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    if ((await run('curl', ['-s', '-I', '-o', '/dev/null', '--max-time', '1', url])).code === 0) return child; // HEAD: no body
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${args.join(' ')} did not answer at ${url}`);
}

const gbps = (seconds: number): number => (BLOCK.length * BLOCKS * 8) / seconds / 1e9;

testNeeding(t, 'curl fetches 1 GiB from node:http on our stack over TAP, beside the same between two kernel namespaces', missing, async (t) => {
  // The kernel's reference first: node:http in one namespace, curl in the other, over a veth.
  const ref = referencePair(t);
  const script = join(tempDir(t, 'mtcpts-to-'), 'serve.mjs');
  writeFileSync(script, `import http from 'node:http'; import { readFileSync } from 'node:fs';
const block = readFileSync(process.argv[2]); const blocks = ${BLOCKS};
http.createServer((req, res) => { res.setHeader('content-length', block.length * blocks); let sent = 0;
  const more = () => { while (sent < blocks) { sent++; if (!res.write(block)) { res.once('drain', more); return; } } res.end(); }; more();
}).listen(80, '${REF_SERVER}');
`);
  writeFileSync(`${script}.block`, BLOCK);
  const refServer = await startServer(ref.server.ns, ref.client.run, [process.execPath, script, `${script}.block`], `http://${REF_SERVER}/1g`);
  t.teardown(() => {
    refServer.kill('SIGKILL');
  });
  const kernel = await curlSha(ref.client.run, `http://${REF_SERVER}/1g`);
  t.equal(kernel.sha, GIB_SHA, `kernel to kernel: 1 GiB intact ${kernel.stderr}`);

  const { run, mctx } = tapEnds(t, ['rcvbuf = 4194304', 'sndbuf = 4194304']);
  const app = http.createServer(gibHandler);
  const server = createServer({ mctx }, (s) => app.emit('connection', s)).listen(80, US);
  await once(server, 'listening');
  const ours = await curlSha(run, `http://${US}/1g`);
  t.equal(ours.sha, GIB_SHA, `our stack to the kernel over TAP: 1 GiB intact ${ours.stderr}`);
  const frames = averageFrames(mctx);
  t.ok(frames.tx > MTU_FRAME, `we sent segments larger than a ${MTU_FRAME}-byte frame (average ${frames.tx.toFixed(0)} bytes)`);
  t.comment(`curl of 1 GiB from node:http: mtcp-ts over TAP ${gbps(ours.seconds).toFixed(2)} Gbit/s (${ours.seconds.toFixed(2)} s), ` +
    `kernel over veth ${gbps(kernel.seconds).toFixed(2)} Gbit/s (${kernel.seconds.toFixed(2)} s): ${(kernel.seconds / ours.seconds).toFixed(2)}x`);
  app.closeAllConnections();
  server.close();
}, { timeout: 900_000 });

testNeeding(t, 'our client fetches 1 GiB from nginx over TAP, beside curl doing the same between two kernel namespaces', missing ?? commandMissing('nginx'), async (t) => {
  const dir = tempDir(t, 'mtcpts-to-nginx-');
  const www = join(dir, 'www');
  mkdirSync(www);
  const fd = openSync(join(www, '1g'), 'w');
  for (let i = 0; i < BLOCKS; i++) writeSync(fd, BLOCK);
  closeSync(fd);
  const nginxIn = (ns: string, addr: string, run: Run, tag: string): Promise<ChildProcess> => {
    writeFileSync(join(dir, `nginx-${tag}.conf`), `daemon off; master_process off; pid ${dir}/nginx-${tag}.pid; error_log stderr;
events {} http { access_log off; sendfile on; server { listen ${addr}:8080; root ${www}; } }
`);
    return startServer(ns, run, ['nginx', '-c', join(dir, `nginx-${tag}.conf`), '-p', dir], `http://${addr}:8080/1g`);
  };

  const ref = referencePair(t);
  const refNginx = await nginxIn(ref.server.ns, REF_SERVER, ref.client.run, 'ref');
  t.teardown(() => {
    refNginx.kill('SIGTERM');
  });
  const kernel = await curlSha(ref.client.run, `http://${REF_SERVER}:8080/1g`);
  t.equal(kernel.sha, GIB_SHA, `kernel to kernel: 1 GiB intact ${kernel.stderr}`);

  const { ns, run, mctx } = tapEnds(t, ['rcvbuf = 4194304', 'sndbuf = 65536']);
  const nginx = await nginxIn(ns, KERNEL, run, 'tap');
  t.teardown(() => {
    nginx.kill('SIGTERM');
  });
  const agent = new MtcpAgent({ mctx, keepAlive: true });
  const t0 = performance.now();
  // The body goes to openssl in its own process, as curl's does: hashing on this thread would slow our stack.
  const hasher = spawn('openssl', ['dgst', '-sha256', '-r'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let digest = '';
  hasher.stdout.setEncoding('utf8');
  hasher.stdout.on('data', (d: string) => (digest += d));
  await new Promise<void>((resolve, reject) => {
    http.get({ host: KERNEL, port: 8080, path: '/1g', agent }, (res) => {
      res.pipe(hasher.stdin);
      res.on('end', () => resolve());
      res.on('error', reject);
    }).on('error', reject);
  });
  await once(hasher, 'exit');
  const sha = digest.split(' ')[0];
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  t.equal(sha, GIB_SHA, 'nginx to our client over TAP: 1 GiB intact');
  const frames = averageFrames(mctx);
  t.ok(frames.rx > MTU_FRAME, `we received the kernel's segments larger than a ${MTU_FRAME}-byte frame (average ${frames.rx.toFixed(0)} bytes)`);
  t.comment(`1 GiB from nginx: our client over TAP ${gbps(seconds).toFixed(2)} Gbit/s (${seconds.toFixed(2)} s), ` +
    `curl over veth ${gbps(kernel.seconds).toFixed(2)} Gbit/s (${kernel.seconds.toFixed(2)} s): ${(kernel.seconds / seconds).toFixed(2)}x`);
}, { timeout: 900_000 });
