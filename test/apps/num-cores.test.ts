/**
 * The apps take their core count from the config's num_cores, as mTCP's do,
 * unless -N says otherwise: a pair of configs with num_cores = 2 runs two
 * pinned cores per side without -N (epserver + epwget, echo server + echo
 * client); num_cores = 4 runs four cores where the machine has the CPUs and
 * is refused, before anything starts, with the reason where it has not; -N 1
 * runs a num_cores = 4 config on one core; perf, one connection, refuses
 * several cores.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir(t, 'mtcp-num-cores-');
const www = join(dir, 'www');
mkdirSync(www);
writeFileSync(join(www, 'index.html'), 'hello\n');

/** The shipped server or client config with `num_cores = n`. */
function withCores(file: string, n: number): string {
  const path = join(dir, `${n}-${file.replace(/\W/g, '_')}`);
  writeFileSync(path, readFileSync(join(root, file), 'utf8').replace(/^num_cores = 1$/m, `num_cores = ${n}`));
  return path;
}

const cpus = availableParallelism();

t.test('num_cores from the config', async (t) => {
  const cli = await buildCli();
  const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const server2 = withCores('mtcp.conf', 2);
  const client2 = withCores('config/client.conf', 2);
  const server4 = withCores('mtcp.conf', 4);
  const client4 = withCores('config/client.conf', 4);

  t.test('num_cores = 2, no -N: epserver and epwget each run two pinned cores; every request served', async (t) => {
    const r = run('pair', 'epserver', '-p', www, '-f', server2, '--', 'epwget', '198.18.0.1/index.html', '2001', '-f', client2, '-c', '32', '--json');
    t.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { completed: number; errors: number };
    t.same([summary.completed, summary.errors], [2001, 0]);
    t.match(r.stderr, /^\[CPU 1\] connect: \d+/m, 'epwget runs a second core');
    const accepted = [...r.stderr.matchAll(/epserver: \[CPU (\d)\] (\d+) connections accepted/g)].map((m) => Number(m[2]));
    t.equal(accepted.length, 2, 'epserver runs two cores');
    t.equal(accepted.reduce((a, b) => a + b, 0), 2001, `and they took every connection between them (${accepted.join(' + ')})`);
  });

  t.test('num_cores = 2, no -N: echo server and echo client each run two pinned cores', async (t) => {
    const r = run('pair', 'echo', 'server', '7', '-f', server2, '--', 'echo', 'client', '198.18.0.1', '7', '-f', client2, '-c', '8', '-t', '1', '--json');
    t.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { connections: number; requests: number; errors: number };
    t.equal(summary.connections, 8);
    t.ok(summary.requests > 0, `${summary.requests} round trips`);
    t.equal(summary.errors, 0);
    const accepted = [...r.stderr.matchAll(/echo: \[CPU (\d)\] (\d+) connections accepted/g)].map((m) => Number(m[2]));
    t.equal(accepted.length, 2, 'the echo server runs two cores');
    t.equal(accepted.reduce((a, b) => a + b, 0), 8, `and they took the client's 8 connections between them (${accepted.join(' + ')})`);
  });

  t.test('num_cores = 4: four cores where the machine has the CPUs, else a clear refusal before anything starts', async (t) => {
    const r = run('pair', 'epserver', '-p', www, '-f', server4, '--', 'epwget', '198.18.0.1/index.html', '1001', '-f', client4, '-c', '32', '--json');
    if (cpus >= 4) {
      t.equal(r.status, 0, r.stderr);
      t.equal([...r.stderr.matchAll(/epserver: \[CPU (\d)\] (\d+) connections accepted/g)].length, 4, 'epserver runs four cores');
      t.match(r.stderr, /^\[CPU 3\] connect: \d+/m, 'epwget runs four cores');
    } else {
      t.equal(r.status, 1, 'refused');
      t.match(r.stderr, new RegExp(`num_cores = 4 pins core k to the k-th CPU of core_mask 0xf, and core ${cpus}'s CPU ${cpus} is not one of this machine's ${cpus}`));
      t.match(r.stderr, /lower num_cores \(or -N\)/, 'and says what to do');
      t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
      t.notMatch(r.stderr, /serving/, 'no core started serving');
    }
  });

  t.test('-N 1 runs a num_cores = 4 config on one core', async (t) => {
    const r = run('pair', 'epserver', '-p', www, '-f', server4, '-N', '1', '--', 'epwget', '198.18.0.1/index.html', '501', '-f', client4, '-N', '1', '--json');
    t.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { completed: number; errors: number };
    t.same([summary.completed, summary.errors], [501, 0]);
    t.notMatch(r.stderr, /\[CPU 1\]/, 'one core on each side');
  });

  t.test('perf moves one connection: it refuses num_cores above 1, and -N 1 overrides', async (t) => {
    const r = run('perf', 'recv', '198.18.0.1', '5001', '1', '-f', server2);
    t.equal(r.status, 2);
    t.match(r.stderr, /sets num_cores = 2, but perf moves one connection, which one core carries: run it with -N 1/);
    const n = run('perf', 'recv', '198.18.0.1', '5001', '1', '-f', server2, '-N', '2');
    t.equal(n.status, 2);
    t.match(n.stderr, /-N 2: perf moves one connection/);
    const pair = run('pair', 'perf', 'recv', '198.18.0.1', '5001', '2', '-f', server2, '-N', '1', '--', 'perf', 'send', '198.18.0.1', '5001', '1', '-f', client2,
      '-N', '1', '--json');
    t.equal(pair.status, 0, pair.stderr);
  });
});
