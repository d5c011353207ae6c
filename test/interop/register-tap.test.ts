/**
 * `node --import mtcp-ts/register`: unmodified node:http programs (test/interop/fixtures, which import
 * only node:http and each other) on a TAP interface our stack owns, against the kernel's TCP in a namespace this test
 * makes. The server: the kernel's curl fetches 1 KiB and 10 MiB (sha256 checked) and `wrk -c 100 -d 5s`
 * runs without an error; with num_cores = 2 it runs on two pinned workers, both serving, until SIGTERM;
 * the same file without --import serves on the kernel. The client: a program
 * fetching from the namespace over the stack exits by itself once done. The register module and its
 * chunks are bundled as the package's dist is, and found through the package name.
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, root } from '../helpers/bundle.ts';
import { appBody } from './fixtures/app-body.mjs';
import { moveToNamespace, namespace } from '../helpers/netns.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { tempDir } from '../helpers/tmp.ts';

const KERNEL = '198.18.61.1';
const US = '198.18.61.2';
const CLIENT_KERNEL = '198.18.62.1';
const CLIENT_US = '198.18.62.2';
const TWO_KERNEL = '198.18.64.1';
const TWO_US = '198.18.64.2';
const BIG = 10 << 20;
const APP = join(root, 'test/interop/fixtures/http-app.mjs');
const GET = join(root, 'test/interop/fixtures/http-get.mjs');

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const missing = process.getuid?.() !== 0 ? 'not root' : !existsSync('/dev/net/tun') ? 'no /dev/net/tun'
  : spawnSync('ip', ['netns', 'list']).status !== 0 ? 'no `ip netns`' : commandMissing('curl') ?? commandMissing('wrk');

/** A directory holding `mtcp-ts` (register and its chunks, bundled), so `--import mtcp-ts/register` resolves from it. */
async function registerPackage(): Promise<string> {
  const dir = await bundle('register-nf', ['src/register.ts', 'src/mtcp/core-worker.ts']);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'mtcp-ts', type: 'module', exports: { './register': './src/register.js' } }));
  return dir;
}

/** Lines of `child`'s stdout until one matches. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no line matching ${pattern} in 20 s; output: ${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.split('\n').find((l) => pattern.test(l));
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before printing ${pattern}: ${out}`)));
  });
}

function wrkErrors(out: string): { requests: number; errors: string[] } {
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const errors = out.split('\n').filter((l) => /Socket errors|Non-2xx/.test(l));
  return { requests, errors };
}

testNeeding(t, 'an unmodified node:http app on mtcp-ts with --import mtcp-ts/register, and on the kernel without', missing, async (t) => {
  const pkg = await registerPackage();
  const { ns, run } = namespace(t, `nf-reg-${process.pid}`);
  const ifname = `nfreg${process.pid % 100000}`;
  const dir = tempDir(t, 'mtcpts-register-');
  const conf = join(dir, 'mtcp.conf');
  writeFileSync(conf, ['io = tap', `port = ${ifname}`, `${ifname}.addr = ${US}/24`, 'max_concurrency = 512', 'max_num_buffers = 512',
    'rcvbuf = 65536', 'sndbuf = 65536'].join('\n'));
  const body = appBody(BIG);

  const server = spawn(process.execPath, ['--import', 'mtcp-ts/register', APP], {
    cwd: pkg, env: { ...process.env, MTCP_CONF: conf, PORT: '8080', BIG_BYTES: String(BIG) }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });
  const line = await waitForLine(server, /^listening/, 'the app on mtcp-ts');
  t.match(line, `"port":8080`, 'server.address() reports the port');
  // The stack made the TAP: hand it to the kernel's namespace.
  moveToNamespace(ifname, ns, KERNEL);

  const small = await run('curl', ['-sS', '--max-time', '20', `http://${US}:8080/`]);
  t.equal(small.code, 0, `curl 1 KiB: ${small.stderr}`);
  t.equal(sha(small.stdout), sha(body.subarray(0, 1024)), 'curl 1 KiB: sha256 matches');
  const big = await run('curl', ['-sS', '--max-time', '60', `http://${US}:8080/big`]);
  t.equal(big.code, 0, `curl 10 MiB: ${big.stderr}`);
  t.equal(sha(big.stdout), sha(body), 'curl 10 MiB: sha256 matches');
  const wrk = await run('wrk', ['-t', '2', '-c', '100', '-d', '5s', `http://${US}:8080/`], 60_000);
  t.equal(wrk.code, 0, wrk.stderr);
  const w = wrkErrors(wrk.stdout.toString());
  t.ok(w.requests > 0, `wrk -c 100 -d 5s: ${w.requests} requests`);
  t.same(w.errors, [], 'wrk: no socket error, no non-2xx answer');
  t.comment(wrk.stdout.toString().split('\n').filter((l) => /Requests\/sec|Latency/.test(l)).join('; '));

  // The client side, also unmodified: a GET from a kernel server in the namespace over a second TAP,
  // after which the program exits by itself.
  const www = tempDir(t, 'mtcpts-register-www-');
  writeFileSync(join(www, 'file'), body.subarray(0, 100_000));
  const kernelServer = spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', '8000', '--bind', '0.0.0.0', '--directory', www],
    { stdio: 'ignore' });
  t.teardown(() => {
    kernelServer.kill('SIGTERM');
  });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    up = (await run('curl', ['-sS', '-o', '/dev/null', '--max-time', '2', 'http://127.0.0.1:8000/file'])).code === 0;
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(up, 'the kernel\'s server in the namespace answers');
  const clientIf = `nfcli${process.pid % 100000}`;
  const clientConf = join(dir, 'client.conf');
  writeFileSync(clientConf, ['io = tap', `port = ${clientIf}`, `${clientIf}.addr = ${CLIENT_US}/24`].join('\n'));
  const client = spawn(process.execPath, ['--import', 'mtcp-ts/register', GET, `http://${CLIENT_KERNEL}:8000/file`], {
    cwd: pkg, env: { ...process.env, MTCP_CONF: clientConf }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (client.exitCode === null) client.kill('SIGKILL');
  });
  const chunks: Buffer[] = [];
  client.stdout!.on('data', (d: Buffer) => chunks.push(d));
  const clientExit = once(client, 'exit');
  // The program connects at once; its SYN waits on ARP and is retried until the TAP reaches the namespace.
  let made = false;
  for (let i = 0; i < 200 && !made; i++) {
    made = spawnSync('ip', ['link', 'show', clientIf]).status === 0;
    if (!made) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(made, 'the client program made its TAP');
  moveToNamespace(clientIf, ns, CLIENT_KERNEL);
  const [clientCode] = (await clientExit) as [number | null];
  t.equal(clientCode, 0, 'the client program exited by itself with status 0');
  t.equal(sha(Buffer.concat(chunks)), sha(body.subarray(0, 100_000)), 'the client program got the file intact');

  server.kill('SIGTERM');
  const [code] = (await once(server, 'exit')) as [number | null];
  t.equal(code, 0, 'the app exits by itself once its server has closed');

  // num_cores = 2: the program runs on two pinned workers, each listening on the stack; SIGTERM stops both.
  const twoIf = `nfreg2c${process.pid % 100000}`;
  const twoConf = join(dir, 'two-cores.conf');
  writeFileSync(twoConf, ['io = tap', `port = ${twoIf}`, `${twoIf}.addr = ${TWO_US}/24`, 'num_cores = 2', 'max_concurrency = 256',
    'max_num_buffers = 256', 'rcvbuf = 65536', 'sndbuf = 65536'].join('\n'));
  const two = spawn(process.execPath, ['--import', 'mtcp-ts/register', APP], {
    cwd: pkg, env: { ...process.env, MTCP_CONF: twoConf, PORT: '8080', BIG_BYTES: String(BIG) }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (two.exitCode === null) two.kill('SIGKILL');
  });
  let listening = 0;
  await new Promise<void>((resolve, reject) => {
    two.stdout!.on('data', (d: Buffer) => {
      listening += d.toString().split('\n').filter((l) => l.startsWith('listening')).length;
      if (listening === 2) resolve();
    });
    two.once('exit', (code) => reject(new Error(`the two-core app exited (${code}) with ${listening} cores listening`)));
  });
  t.equal(listening, 2, 'num_cores = 2: the program listens on both cores');
  moveToNamespace(twoIf, ns, TWO_KERNEL);
  const twoBig = await run('curl', ['-sS', '--max-time', '60', `http://${TWO_US}:8080/big`]);
  t.equal(twoBig.code, 0, `curl 10 MiB from two cores: ${twoBig.stderr}`);
  t.equal(sha(twoBig.stdout), sha(body), 'curl 10 MiB from two cores: sha256 matches');
  const many = await Promise.all(Array.from({ length: 16 }, () => run('curl', ['-sS', '--max-time', '20', `http://${TWO_US}:8080/`])));
  t.same(many.filter((r) => r.code !== 0 || sha(r.stdout) !== sha(body.subarray(0, 1024))).map((r) => r.stderr), [],
    '16 connections spread over the two cores: every answer intact');
  two.kill('SIGTERM');
  const [twoCode] = (await once(two, 'exit')) as [number | null];
  t.equal(twoCode, 0, 'SIGTERM stops both cores and the process exits with 0');

  // The same file without --import: node:net on the kernel (in the namespace, on its loopback).
  const kernel = spawn('ip', ['netns', 'exec', ns, process.execPath, APP], {
    env: { ...process.env, PORT: '8081', BIG_BYTES: String(BIG) }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (kernel.exitCode === null) kernel.kill('SIGKILL');
  });
  await waitForLine(kernel, /^listening/, 'the app on the kernel');
  const onKernel = await run('curl', ['-sS', '--max-time', '20', 'http://127.0.0.1:8081/big']);
  t.equal(onKernel.code, 0, onKernel.stderr);
  t.equal(sha(onKernel.stdout), sha(body), 'without --import: 10 MiB from the kernel, sha256 matches');
  kernel.kill('SIGTERM');
  await once(kernel, 'exit');
}, { timeout: 180_000 });
