/**
 * The mtcp-ts command as a user runs it (a child process of the bundled CLI):
 * usage errors and bad configs exit 2 with a message and no stack trace,
 * `pair` runs epwget against epserver on one shm wire, SIGINT stops cleanly.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { buildCli } from '../helpers/cli.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

const dir = tempDir(t, 'mtcp-cli-');
const www = join(dir, 'www');
mkdirSync(www);
writeFileSync(join(www, 'index.html'), 'hello\n');
const serverConf = `${root}mtcp.conf`;
const clientConf = `${root}config/client.conf`;

t.test('the CLI', async (t) => {
  const cli = await buildCli();
  const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  t.test('an unknown app, a bad flag, a missing argument: status 2, the usage, no stack trace', async (t) => {
    for (const args of [['nosuchapp'], ['epserver', '-p', www, '-f', serverConf, '--bogus'], ['epwget', '198.18.0.1/', '-f', clientConf], ['epserver', '-f', serverConf],
      ['perf', 'send', '198.18.0.1', '5001', '1', '-f', clientConf, '--bogus'], ['perf', 'fetch', '198.18.0.1', '5001', '1', '-f', clientConf],
      ['echo', 'server', '7', '-f', serverConf, '-x'], ['echo', 'client', '198.18.0.1', '7', '-f', clientConf, '-c', 'many']]) {
      const r = run(...args);
      t.equal(r.status, 2, args.join(' '));
      t.match(r.stderr, /usage: /);
      t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  t.test('a bad config: status 2 and a message naming the file and line', async (t) => {
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'io = shm\nport = shm0\nshm0.addr = 198.18.0.1/24\nmax_concurrency = lots\n');
    const r = run('epserver', '-p', www, '-f', bad);
    t.equal(r.status, 2);
    t.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*4`), 'the file and line 4');
    t.match(r.stderr, /max_concurrency/);
    t.notMatch(r.stderr, /\n\s+at /);
    for (const args of [['epwget', '198.18.0.1/', '10'], ['perf', 'recv', '198.18.0.1', '5001', '1'], ['echo', 'server', '7']]) {
      const r = run(...args, '-f', bad);
      t.equal(r.status, 2, `${args[0]}: status 2`);
      t.match(r.stderr, /max_concurrency/, `${args[0]}: names the bad key`);
      t.notMatch(r.stderr, /\n\s+at /, `${args[0]}: no stack trace`);
    }
    const missing = run('epwget', '198.18.0.1/', '10', '-f', join(dir, 'nope.conf'));
    t.equal(missing.status, 2);
    t.match(missing.stderr, /nope\.conf/);
  });

  t.test('pair: epwget fetches from epserver, per-second lines and a JSON summary', async (t) => {
    const r = run('pair', 'epserver', '-p', www, '-f', serverConf, '--', 'epwget', '198.18.0.1/index.html', '2000', '-f', clientConf, '-c', '100', '--json', '-o', join(dir, 'out.html'));
    t.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { completed: number; errors: number; status: Record<string, number>; bytesRead: number };
    t.equal(summary.completed, 2000);
    t.equal(summary.errors, 0);
    t.same(summary.status, { 200: 2000 });
    t.equal(readFileSync(join(dir, 'out.html'), 'utf8'), 'hello\n', '-o saved a body');
    t.match(r.stderr, /\[CPU 0\] connect: \d+, read: [\d.]+ MB, write: [\d.]+ MB, completes: \d+ \(resp_time avg: \d+, max: \d+ us\), errors: 0/, 'mTCP-style lines');
    t.match(r.stderr, /epserver: serving/);
    t.match(r.stderr, /epserver: stopped/);
    const missing = run('pair', 'epserver', '-p', www, '-f', serverConf, '--', 'epwget', '198.18.0.1/missing', '100', '-f', clientConf, '--json');
    t.equal(missing.status, 0);
    t.same((JSON.parse(missing.stdout.trim()) as { status: Record<string, number> }).status, { 404: 100 }, 'a missing file is 404');
  });

  t.test('pair: perf moves bulk data and both sides count the same bytes; echo reports round trips', async (t) => {
    const r = run('pair', 'perf', 'recv', '198.18.0.1', '5001', '5', '-f', serverConf, '--', 'perf', 'send', '198.18.0.1', '5001', '1', '-f', clientConf, '--json');
    t.equal(r.status, 0, r.stderr);
    const sent = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!) as { mode: string; bytes: number; mbps: number };
    t.equal(sent.mode, 'send');
    const recv = /\[ TOTAL \] recv: ([\d.]+) MB/.exec(r.stdout);
    t.ok(recv, 'the receiver printed its total');
    t.equal(Number(recv![1]), Number((sent.bytes / 1e6).toFixed(1)), 'received what was sent');
    t.ok(sent.mbps > 0, `${sent.mbps.toFixed(0)} Mbit/s`);
    t.match(r.stderr, /perf recv: [\d.]+ Mbit\/s/, 'a line per second');
    const e = run('pair', 'echo', 'server', '7', '-f', serverConf, '--', 'echo', 'client', '198.18.0.1', '7', '-f', clientConf, '-c', '4', '-t', '1', '--json');
    t.equal(e.status, 0, e.stderr);
    const sum = JSON.parse(e.stdout.trim().split('\n').pop()!) as { requests: number; p50Us: number; p99Us: number; p999Us: number; errors: number };
    t.ok(sum.requests > 100, `${sum.requests} round trips`);
    t.ok(sum.p50Us > 0 && sum.p50Us <= sum.p99Us && sum.p99Us <= sum.p999Us, 'p50 <= p99 <= p999');
    t.equal(sum.errors, 0);
    const bad = run('perf', 'sideways', '198.18.0.1', '1', '1', '-f', clientConf);
    t.equal(bad.status, 2);
    t.match(bad.stderr, /usage: mtcp-ts perf/);
  });

  t.test('-N 2: epserver and epwget each run a pinned worker per core; every request served, the cores\' counts add up', async (t) => {
    const r = run('pair', 'epserver', '-p', www, '-f', serverConf, '-N', '2', '--', 'epwget', '198.18.0.1/index.html', '3001', '-f', clientConf,
      '-N', '2', '-c', '64', '--json');
    t.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { requests: number; completed: number; errors: number; status: Record<string, number> };
    t.same([summary.requests, summary.completed, summary.errors, summary.status], [3001, 3001, 0, { 200: 3001 }], 'the cores\' summaries combined');
    t.match(r.stderr, /^\[CPU 0\] connect: \d+/m, 'epwget core 0 reports');
    t.match(r.stderr, /^\[CPU 1\] connect: \d+/m, 'epwget core 1 reports');
    const accepted = [...r.stderr.matchAll(/epserver: \[CPU (\d)\] (\d+) connections accepted/g)].map((m) => [Number(m[1]), Number(m[2])]);
    t.same(accepted.map((a) => a[0]).sort(), [0, 1], 'both server cores report');
    t.ok(accepted.every((a) => a[1] > 0), `each took a share: ${accepted.map((a) => a[1]).join(' + ')}`);
    t.equal(accepted.reduce((n, a) => n + a[1], 0), 3001, 'and together every connection');
    t.match(r.stderr, /epserver: \[CPU 1\] serving/);
    const bad = run('epserver', '-p', www, '-f', serverConf, '-N', '2', '-c', '1');
    t.equal(bad.status, 2, '-c with -N is a usage error');
    t.match(bad.stderr, /-c picks the core of a one-core run/);
    const tooMany = run('epserver', '-p', www, '-f', serverConf, '-N', '129');
    t.equal(tooMany.status, 2);
    t.match(tooMany.stderr, /-N must be an integer from 1 to 128/);
  });

  t.test('epserver -N 2 with stat_print: per-core and total lines every second; SIGINT stops every core, status 0', async (t) => {
    const conf = join(dir, 'stat.conf');
    writeFileSync(conf, `${readFileSync(serverConf, 'utf8')}\nstat_print = shm0\n`);
    const child = spawn(process.execPath, [cli, 'epserver', '-p', www, '-f', conf, '-N', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    await new Promise<void>((resolve) => child.stderr.on('data', (d: string) => {
      stderr += d;
      // A whole report with every core in it (a first one, while the cores still start, may have only the total).
      if (/\[CPU 0\] shm0 flows[^]*\[CPU 1\] shm0 conns[^]*\[ ALL \] shm0 conns/.test(stderr)) resolve();
    }));
    child.kill('SIGINT');
    const [code] = await new Promise<[number | null]>((r) => child.once('exit', (c) => r([c])));
    t.equal(code, 0);
    t.match(stderr, /^\[CPU 0\] shm0 flows: +0, RX: +\d+\(pps\)/m, 'core 0\'s network line');
    t.match(stderr, /^\[CPU 1\] shm0 conns opened: +0\/s, accepted: +0\/s/m, 'core 1\'s TCP line');
    t.match(stderr, /^\[ ALL \] shm0 flows:/m, 'the total');
    t.match(stderr, /epserver: \[CPU 0\] 0 connections accepted/);
    t.match(stderr, /epserver: \[CPU 1\] 0 connections accepted/);
    t.match(stderr, /epserver: stopped/);
    t.notMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  t.test('SIGINT stops epserver cleanly: status 0, no stack trace', async (t) => {
    const child = spawn(process.execPath, [cli, 'epserver', '-p', www, '-f', serverConf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    await new Promise<void>((resolve) => child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('serving')) resolve();
    }));
    child.kill('SIGINT');
    const [code] = await new Promise<[number | null]>((r) => child.once('exit', (c) => r([c])));
    t.equal(code, 0);
    t.match(stderr, /epserver: stopped/);
    t.notMatch(stderr, /\n\s+at /);
  });
});
