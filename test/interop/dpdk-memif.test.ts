/**
 * Two processes, each with its own mtcp-ts stack, joined by DPDK's memif virtual device (shared
 * memory plus a control socket): the echo app serves in a child process (memif role=server), this
 * process is the client (role=client) and echoes 64 connections x 1 MiB, sha256 checked; then
 * SIGINT stops the server cleanly. Each process starts its own EAL (its own --file-prefix).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { dpdkUnavailable } from '../../src/io/dpdk.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { buildCli } from '../helpers/cli.ts';
import { echoClient } from '../helpers/echo-client.ts';
import { testNeeding } from '../helpers/prerequisites.ts';
import { tempDir } from '../helpers/tmp.ts';

const SERVER = '198.18.9.1';
const CLIENT = '198.18.9.2';

testNeeding(t, 'echo between two processes over DPDK memif', dpdkUnavailable(), async (t) => {
  const dir = tempDir(t, 'mtcpts-memif-');
  const socket = join(dir, 'memif.sock');
  const conf = (ip: string, role: string): string => [
    'io = dpdk', 'port = m0', `m0.addr = ${ip}/24`, `m0.device = net_memif0,role=${role},socket=${socket},socket-abstract=no,id=0`,
    'max_concurrency = 256', 'max_num_buffers = 256', 'rcvbuf = 65536', 'sndbuf = 65536', 'tcp_timeout = 30',
  ].join('\n');
  writeFileSync(join(dir, 'server.conf'), conf(SERVER, 'server'));

  const server = spawn(process.execPath, [await buildCli(), 'echo', 'server', '7', '-f', join(dir, 'server.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(server, 'exit');
  t.teardown(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });
  let stderr = '';
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    server.stderr.on('data', () => stderr.includes('serving on port 7') && resolve());
    server.once('exit', (code) => reject(new Error(`echo server exited with ${code}: ${stderr}`)));
  });
  t.ok(existsSync(socket), 'the memif server made its control socket');

  const client = new MtcpRuntime(parseMtcpConf(conf(CLIENT, 'client'), '<memif client>')).createContext(0);
  t.teardown(() => client.stop());
  const t0 = performance.now();
  const out = await echoClient(client, 0xc6120901, 7, 64, 1 << 20, 120_000);
  const seconds = (performance.now() - t0) / 1000;
  t.comment(`2 x 64 MiB echoed in ${seconds.toFixed(1)} s (${((128 * 8) / seconds).toFixed(0)} Mbit/s of payload both ways)`);
  t.same(out.errors.slice(0, 5), [], 'no connection failed');
  t.equal(out.completed, 64, 'every connection echoed its 1 MiB');
  t.equal(out.mismatches, 0, 'sha256 of what came back equals what was sent');
  t.equal(client.stack.tcp.sndPool.inUse + client.stack.tcp.rcvPool.inUse, 0, 'client: buffers back in their pools');
  client.stop();
  await client.closed;

  server.kill('SIGINT');
  const [code, signal] = await exited;
  t.equal(code, 0, 'SIGINT stops the server with status 0', { stderr, signal });
  t.match(stderr, /echo: stopped/, 'the server says it stopped', { stderr });
  t.notMatch(stderr, /Error|at .*\(/, 'no stack trace', { stderr });
  t.notOk(existsSync(socket), 'the stopped port removed its socket');
});
