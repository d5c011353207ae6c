/**
 * The interop suite, run over each real link (TAP, DPDK af_packet): our stack on one side, the
 * Linux kernel's TCP in a network namespace the test makes on the other, where the kernel has
 * 198.18.7.1 and we have 198.18.7.2. ping reaches us; curl and wrk fetch from our servers (sha256
 * checked); bulk both ways with half-close; refusals and a reset both ways; 5% loss each way; our
 * client fetches from nginx; tshark reads our capture. A link needs root and tools: what is missing
 * fails the tests in CI and skips them elsewhere (test/helpers/prerequisites.ts).
 */
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { MtcpConfig } from '../../src/config/mtcp-conf.ts';
import type { MtcpContext } from '../../src/mtcp/context.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { connect, createServer, MtcpAgent, type Server } from '../../src/net/index.ts';
import { buildCli } from './cli.ts';
import { inNamespace, type Run } from './netns.ts';
import { commandMissing, testNeeding } from './prerequisites.ts';
import { badFrameArgs } from './tshark.ts';
import { tempDir } from './tmp.ts';

export const KERNEL = '198.18.7.1';
export const US = '198.18.7.2';

/** One test's two ends: the kernel's namespace, and our port on the link. */
export interface LinkEnds {
  /** The kernel's namespace, and a way to run a command in it. */
  ns: string;
  run: Run;
  /** Our port's mtcp.conf lines (io, port, address, device). */
  portLines: string[];
  /** A context on our port with these further mtcp.conf lines, stopped when the test ends. */
  context(lines: string[], label: string): MtcpContext;
  /** Call once our stack runs: connects the link to the kernel's side where that needs our port to exist. */
  started(): void;
  /** Start a process that runs our stack (it sees our port the way a context in this process does). */
  spawnOurs(cmd: string, args: string[], options: SpawnOptions): ChildProcess;
}

export interface Link {
  /** For test names: 'TAP', 'DPDK af_packet'. */
  label: string;
  /** What this link needs and this machine lacks (null when nothing). */
  missing(): string | null;
  /** Make both ends for one test (`suffix` keeps names apart); everything is removed when the test ends. */
  open(t: { teardown(fn: () => unknown): void }, suffix: string): LinkEnds;
}

/**
 * Our stack's context on `conf` (its ports opened from namespace `ns` when given: a DPDK port opens an
 * interface there), stopped when the test ends.
 */
export function contextForTest(t: { teardown(fn: () => unknown): void }, conf: MtcpConfig, ns?: string): MtcpContext {
  const open = (): MtcpContext => new MtcpRuntime(conf).createContext(0);
  const mctx = ns ? inNamespace(ns, open) : open();
  t.teardown(async () => {
    mctx.stop();
    await mctx.closed;
  });
  return mctx;
}

/** Tools every link's tests use on the kernel's side. */
export function toolsMissing(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'no `ip netns`';
  return commandMissing('curl') ?? commandMissing('ping') ?? commandMissing('python3');
}

/**
 * node:http on our stack at `us`:80 serves 1 KiB and 1 MiB of random bytes; the kernel's curl fetches
 * both (sha256 checked) and is refused on port 81. The server is closed at the end.
 */
export async function curlFromUs(t: Test, mctx: MtcpContext, run: Run, us: string): Promise<void> {
  const files: Record<string, Buffer> = { '/1k': randomBytes(1024), '/1m': randomBytes(1 << 20) };
  const app = http.createServer((req, res) => {
    const body = files[req.url ?? ''];
    res.statusCode = body ? 200 : 404;
    if (body) res.setHeader('content-length', body.length);
    res.end(body);
  });
  const server = createServer({ mctx }, (s) => app.emit('connection', s)).listen(80, us);
  await once(server, 'listening');
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  for (const [path, body] of Object.entries(files)) {
    const r = await run('curl', ['-sS', '--max-time', '20', `http://${us}${path}`]);
    t.equal(r.code, 0, `curl ${path}: ${r.stderr}`);
    t.equal(sha(r.stdout), sha(body), `curl ${path}: sha256 matches`);
  }
  const refused = await run('curl', ['-sS', '--max-time', '10', `http://${us}:81/`]);
  t.equal(refused.code, 7, 'curl to a closed port: connection refused (exit 7)');
  app.closeAllConnections();
  server.close();
}

/**
 * Both ways on one connection with a half-close between: our server at `us`:9001 reads each connection to
 * its end (`uploaded()`: the sha256 of what arrived), then answers `answer` and closes. The kernel's side
 * is halfCloseClient.
 */
export async function halfCloseServer(mctx: MtcpContext, us: string, answer: Buffer): Promise<{ server: Server; uploaded(): string }> {
  let uploaded = '';
  const server = createServer({ mctx, allowHalfOpen: true }, (s) => {
    const h = createHash('sha256');
    s.on('data', (d: Buffer) => h.update(d));
    s.on('end', () => {
      uploaded = h.digest('hex');
      s.end(answer);
    });
  }).listen(9001, us);
  await once(server, 'listening');
  return { server, uploaded: () => uploaded };
}

/**
 * halfCloseServer's peer, a python3 program for the kernel's side: sends `bytes` random bytes to `us`:9001,
 * half-closes, reads to the end; prints the sha256 it sent, the sha256 it read and how many bytes it read.
 */
export function halfCloseClient(us: string, bytes: number): string {
  return `
import hashlib, os, socket
data = os.urandom(${bytes})
s = socket.create_connection(('${us}', 9001))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
h = hashlib.sha256(); n = 0
while True:
    b = s.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
print(hashlib.sha256(data).hexdigest(), h.hexdigest(), n)
`;
}

/**
 * The suite over `link`: `main` runs everything but the loss test, `loss` only the loss test (its own
 * file, so each file stays within tap's per-file timeout).
 */
export function interopSuite(link: Link, part: 'main' | 'loss' = 'main'): void {
  const why = link.missing();
  const main = part === 'main';
  if (main) testNeeding(t, `our stack over ${link.label} against the kernel in a namespace`, why, async (t) => {
    const { ns, run, context, started } = link.open(t, 'a');
    const capture = join(tempDir(t, 'mtcpts-cap-'), 'tap.pcapng');
    const mctx = context(['max_concurrency = 1024', 'max_num_buffers = 1024', 'rcvbuf = 65536', 'sndbuf = 65536',
      'tcp_timeout = 30', `capture = ${capture}`], '<interop test>');
    started();

    const ping = await run('ping', ['-c', '3', '-W', '2', US]);
    t.equal(ping.code, 0, 'ping reaches our stack');
    t.match(ping.stdout.toString(), /3 received/);

    await curlFromUs(t, mctx, run, US);

    // The other way: the kernel serves, we fetch.
    const dir = tempDir(t, 'mtcpts-www-');
    const kernelFile = randomBytes(1 << 20);
    writeFileSync(join(dir, 'file.bin'), kernelFile);
    const py = spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', '8000', '--bind', KERNEL, '--directory', dir], { stdio: 'ignore' });
    t.teardown(() => {
      py.kill('SIGTERM');
    });
    const agent = new MtcpAgent({ mctx });
    const fetch = (): Promise<Buffer> => new Promise((resolve, reject) => {
      http.get({ host: KERNEL, port: 8000, path: '/file.bin', agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      }).on('error', reject);
    });
    let got: Buffer | null = null;
    for (let i = 0; i < 50 && !got; i++) {
      got = await fetch().catch(async () => {
        await new Promise((r) => setTimeout(r, 200)); // python3 still starting
        return null;
      });
    }
    t.ok(got, 'fetched from the kernel\'s server');
    t.equal(createHash('sha256').update(got!).digest('hex'), createHash('sha256').update(kernelFile).digest('hex'), 'sha256 matches');
    agent.destroy();

    const c = connect({ mctx, port: 9, host: KERNEL });
    const [err] = await once(c, 'error') as [NodeJS.ErrnoException];
    t.equal(err.code, 'ECONNREFUSED', 'the kernel refuses a closed port');

    // tshark reads our capture of all of this: no malformed frame, no bad IP or TCP checksum.
    await testNeeding(t, 'tshark reads our capture', commandMissing('tshark'), async (t) => {
        const all = spawnSync('tshark', ['-r', capture, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', maxBuffer: 1 << 26 });
        t.equal(all.status, 0, 'tshark reads the capture');
        const frames = all.stdout.trim().split('\n').length;
        const bad = spawnSync('tshark', badFrameArgs(capture), { encoding: 'utf8', maxBuffer: 1 << 26 });
        t.equal(bad.status, 0, bad.stderr);
        const offending = bad.stdout.trim();
        t.equal(offending, '', `of ${frames} frames, none malformed or with a bad checksum${offending ? `; tshark reports: ${offending.split('\n').slice(0, 5).join(' | ')}` : ''}`);
        if (offending) {
          // Keep the evidence: the offending frames in full.
          const detail = spawnSync('tshark', [...badFrameArgs(capture), '-V', '-x'], { encoding: 'utf8', maxBuffer: 1 << 26 });
          t.comment(detail.stdout.slice(0, 6000));
        }
    });
  });

  if (main) testNeeding(t, `epserver over ${link.label}: the kernel's curl and wrk, 100 MiB intact, SIGINT`, why, async (t) => {
    const { run, portLines, started, spawnOurs } = link.open(t, 'e');
    const dir = tempDir(t, 'mtcpts-ep-');
    const www = join(dir, 'www');
    mkdirSync(www);
    const big = randomBytes(100 << 20);
    writeFileSync(join(www, 'big.bin'), big);
    writeFileSync(join(www, 'index.html'), '<h1>over a real link</h1>\n');
    const conf = join(dir, 'link.conf');
    writeFileSync(conf, [...portLines,
      'max_concurrency = 4096', 'max_num_buffers = 4096', 'rcvbuf = 65536', 'sndbuf = 262144', 'tcp_timeout = 30'].join('\n'));
    const cli = await buildCli();
    const server = spawnOurs(process.execPath, [cli, 'epserver', '-p', www, '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.teardown(() => {
      server.kill('SIGKILL');
    });
    let stderr = '';
    server.stderr!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      server.stderr!.on('data', (d: string) => {
        stderr += d;
        if (stderr.includes('serving')) resolve();
      });
      server.once('exit', () => reject(new Error(`epserver exited: ${stderr}`)));
    });
    started();

    const index = await run('curl', ['-sS', '--max-time', '20', `http://${US}/`]);
    t.equal(index.stdout.toString(), '<h1>over a real link</h1>\n', 'curl gets index.html');
    const escape = await run('curl', ['-sS', '--path-as-is', '-o', '/dev/null', '-w', '%{http_code}', `http://${US}/../link.conf`]);
    t.equal(escape.stdout.toString(), '403', 'no way out of www_dir');
    const t0 = performance.now();
    const whole = await run('curl', ['-sS', '--max-time', '120', `http://${US}/big.bin`], 180_000);
    const secs = (performance.now() - t0) / 1000;
    t.equal(whole.code, 0, whole.stderr);
    t.equal(createHash('sha256').update(whole.stdout).digest('hex'), createHash('sha256').update(big).digest('hex'),
      `100 MiB intact (${((100 * 8) / secs).toFixed(0)} Mbit/s)`);
    await testNeeding(t, 'wrk -c 100 -d 10s against epserver', commandMissing('wrk'), async (t) => {
        const w = await run('wrk', ['-t1', '-c100', '-d10s', `http://${US}/index.html`], 60_000);
        const text = w.stdout.toString();
        t.equal(w.code, 0, w.stderr);
        t.notMatch(text, /Socket errors|Non-2xx/, 'wrk: no socket error, no non-2xx response');
        t.comment(`wrk -c 100 -d 10s:\n${text}`);
    });
    server.kill('SIGINT');
    const [code] = await once(server, 'exit') as [number | null];
    t.equal(code, 0, 'SIGINT: clean exit');
    t.match(stderr, /epserver: stopped/);
  });

  if (main) testNeeding(t, 'bulk both ways with half-close, and a kernel reset surfaces as ECONNRESET', why, async (t) => {
    const { ns, context, started } = link.open(t, 'b');
    const mctx = context(['max_concurrency = 64', 'max_num_buffers = 64', 'rcvbuf = 262144', 'sndbuf = 262144', 'tcp_timeout = 60'], '<interop bulk>');
    started();
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const py = (code: string): ReturnType<typeof spawn> => spawn('ip', ['netns', 'exec', ns, 'python3', '-c', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const output = (p: ReturnType<typeof spawn>): Promise<string> => new Promise((resolve) => {
      let out = '';
      p.stdout!.setEncoding('utf8');
      p.stdout!.on('data', (d: string) => (out += d));
      p.once('exit', () => resolve(out));
    });

    // Kernel to us: the kernel sends 20 MiB and half-closes; we read to the end, then answer 20 MiB and close.
    const answer = randomBytes(20 << 20);
    const { server, uploaded } = await halfCloseServer(mctx, US, answer);
    const client = py(halfCloseClient(US, 20 << 20));
    const [sentSha, gotSha, gotLen] = (await output(client)).trim().split(' ');
    t.equal(uploaded(), sentSha, 'kernel to us: 20 MiB intact after its half-close');
    t.equal(Number(gotLen), answer.length);
    t.equal(gotSha, sha(answer), 'us to kernel on the same connection: 20 MiB intact, then our close');
    server.close();

    // Us to kernel: we send 20 MiB and half-close; the kernel answers with the digest and closes.
    const kserver = py(`
import hashlib, socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('${KERNEL}', 9002)); l.listen(1)
print('ready', flush=True)
c, _ = l.accept()
h = hashlib.sha256()
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b)
c.sendall(h.hexdigest().encode()); c.close()
`);
    await new Promise<void>((resolve) => kserver.stdout!.once('data', () => resolve()));
    const payload = randomBytes(20 << 20);
    const c = connect({ mctx, port: 9002, host: KERNEL, allowHalfOpen: true });
    let reply = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (reply += d));
    const ended = once(c, 'end');
    c.end(payload);
    await ended;
    t.equal(reply, sha(payload), 'us to kernel: 20 MiB intact after our half-close, answered on the same connection');

    // A reset from the kernel: its process dies with our data unread, the kernel sends RST.
    const sleeper = py(`
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('${KERNEL}', 9003)); l.listen(1)
print('ready', flush=True)
c, _ = l.accept()
print('accepted', flush=True)
time.sleep(60)
`);
    await new Promise<void>((resolve) => sleeper.stdout!.once('data', () => resolve()));
    const r = connect({ mctx, port: 9003, host: KERNEL });
    await once(r, 'connect');
    r.write(Buffer.alloc(1000, 1)); // never read by the sleeper
    await new Promise<void>((resolve) => sleeper.stdout!.once('data', () => resolve()));
    await new Promise((res) => setTimeout(res, 100));
    const failed = once(r, 'error') as Promise<[NodeJS.ErrnoException]>;
    sleeper.kill('SIGKILL'); // `ip netns exec` execs python3: this PID is the peer process
    const [err] = await failed;
    t.equal(err.code, 'ECONNRESET', 'the killed peer\'s reset reaches the application as ECONNRESET');
  });

  if (!main) testNeeding(t, 'with 5% of frames lost each way (impair = loss=0.05), 100 MiB each way arrives intact', why, async (t) => {
    const { ns, context, started } = link.open(t, 'l');
    const mctx = context(['max_concurrency = 64', 'max_num_buffers = 64', 'rcvbuf = 1048576', 'sndbuf = 1048576', 'tcp_timeout = 120',
      'impair = loss=0.05'], '<interop loss>');
    started();
    // The round trip for the closing note's Mathis bound: our connections' smoothed RTT, sampled during the transfer
    // (an idle ping would measure how long the idle loop sleeps).
    const tcp = mctx.stack.tcp;
    const srtts: number[] = [];
    const sampler = setInterval(() => {
      for (let id = 0; id < tcp.tcb.capacity; id++) if (tcp.tcb.inUse(id) !== 0 && tcp.rtt.srtt(id) > 0) srtts.push(tcp.rtt.srtt(id));
    }, 100);
    t.teardown(() => clearInterval(sampler));
    const answer = randomBytes(100 << 20);
    const { server, uploaded } = await halfCloseServer(mctx, US, answer);
    const t0 = performance.now();
    const client = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', halfCloseClient(US, 100 << 20)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    client.stdout.setEncoding('utf8');
    client.stdout.on('data', (d: string) => (out += d));
    await once(client, 'exit');
    const secs = (performance.now() - t0) / 1000;
    const [sentSha, gotSha, gotLen] = out.trim().split(' ');
    t.equal(uploaded(), sentSha, 'kernel to us: 100 MiB intact');
    t.equal(Number(gotLen), answer.length);
    t.equal(gotSha, createHash('sha256').update(answer).digest('hex'), 'us to kernel: 100 MiB intact');
    const drv = (mctx.driver as unknown as { counters: { lostIn: number; lostOut: number } }).counters;
    t.ok(drv.lostIn > 0 && drv.lostOut > 0, `frames lost: ${drv.lostIn} in, ${drv.lostOut} out`);
    clearInterval(sampler);
    // Mathis et al.: MSS / RTT x 1.22 / sqrt(p), for one direction's loss p = 0.05, with the median RTT sampled.
    const rttMs = srtts.sort((a, b) => a - b)[srtts.length >> 1] ?? NaN;
    const mathis = (1448 / (rttMs / 1000)) * (1.22 / Math.sqrt(0.05));
    t.comment(`200 MiB with 5% loss each way in ${secs.toFixed(1)} s (${((200 * 1.048576) / secs).toFixed(2)} MB/s); ` +
      `${mctx.stack.stats.tcpRetransmits} retransmissions by us; our smoothed RTT ${rttMs.toFixed(2)} ms (median of samples), ` +
      `Mathis bound ${(mathis / 1e6).toFixed(1)} MB/s`);
    server.close();
  }, { timeout: 600_000 });

  if (main) testNeeding(t, 'our client fetches 1 KiB, 1 MiB and 100 MiB from nginx in the namespace (sha256)', why ?? commandMissing('nginx'), async (t) => {
    const { ns, context, started } = link.open(t, 'n');
    const mctx = context(['max_concurrency = 64', 'max_num_buffers = 64', 'rcvbuf = 1048576', 'sndbuf = 65536', 'tcp_timeout = 60'], '<interop nginx>');
    started();
    const dir = tempDir(t, 'mtcpts-nginx-');
    const www = join(dir, 'www');
    mkdirSync(www);
    const files: Record<string, Buffer> = { '1k': randomBytes(1024), '1m': randomBytes(1 << 20), '100m': randomBytes(100 << 20) };
    for (const [name, body] of Object.entries(files)) writeFileSync(join(www, name), body);
    writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process off; pid ${dir}/nginx.pid; error_log stderr;
events {} http { access_log off; server { listen ${KERNEL}:8080; root ${www}; } }
`);
    const nginx = spawn('ip', ['netns', 'exec', ns, 'nginx', '-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.teardown(() => {
      nginx.kill('SIGTERM'); // `ip netns exec` execs nginx: this PID is nginx
    });
    const agent = new MtcpAgent({ mctx, keepAlive: true });
    const get = (path: string): Promise<Buffer> => new Promise((resolve, reject) => {
      http.get({ host: KERNEL, port: 8080, path, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`status ${res.statusCode}`))));
      }).on('error', reject);
    });
    let ready = false;
    for (let i = 0; i < 50 && !ready; i++) {
      ready = await get('/1k').then(() => true, async () => {
        await new Promise((r) => setTimeout(r, 200)); // nginx still starting
        return false;
      });
    }
    t.ok(ready, 'nginx answers');
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    for (const [name, body] of Object.entries(files)) {
      const t0 = performance.now();
      const got = await get(`/${name}`);
      t.equal(sha(got), sha(body), `${name}: sha256 matches (${((got.length * 8) / ((performance.now() - t0) / 1000) / 1e6).toFixed(0)} Mbit/s)`);
    }
    agent.destroy();
  });
}
