/**
 * runOnCores: one worker per core, each pinned to its CPU (as the kernel
 * reports in /proc/self/task/<tid>/status), each with the context of its core;
 * a core that throws is reported with its number; SIGINT stops every core
 * cleanly and the program exits 0.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CoreError, runOnCores } from '../../src/mtcp/cores.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { bundle } from '../helpers/bundle.ts';
import { testNeeding } from '../helpers/prerequisites.ts';
import { config, confText } from '../helpers/stacks.ts';

const cpus = availableParallelism();
const cores = Math.min(2, cpus);

const dir = await bundle('cores', ['src/mtcp/core-worker.ts', 'test/mtcp/fixtures/core-app.ts', 'test/mtcp/fixtures/sigint-main.ts']);
const workerUrl = pathToFileURL(join(dir, 'src/mtcp/core-worker.js'));
const app = pathToFileURL(join(dir, 'test/mtcp/fixtures/core-app.js'));

function runtime(): MtcpRuntime {
  return new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm', cores }));
}

/** The CPUs the main thread may run on (its task id is the process id). */
function mainThreadCpus(): string {
  return /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/self/task/${process.pid}/status`, 'utf8'))?.[1] ?? '?';
}

t.test('each core runs in its own thread, pinned to its CPU, on the context of its core', async (t) => {
  const before = mainThreadCpus();
  const run = runOnCores(runtime(), app, { entry: 'pinned', workerUrl });
  const results = (await run.done) as { core: number; tid: number; cpus: string; queue: number }[];
  t.equal(results.length, cores);
  for (const [k, r] of results.entries()) {
    t.equal(r.core, k);
    t.equal(r.cpus, String(k), `core ${k}: thread ${r.tid} may run on CPU ${r.cpus} only`);
    t.equal(r.queue, k, `core ${k} serves queue ${k}`);
    t.not(r.tid, process.pid, 'a thread of its own');
  }
  t.equal(new Set(results.map((r) => r.tid)).size, cores, 'one thread per core');
  t.equal(mainThreadCpus(), before, `the main thread is not pinned (${before})`);
});

testNeeding(t, 'core k runs on the k-th CPU of core_mask', cpus < 2 && 'a second CPU', async (t) => {
  const cfg = config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm', cores: 1 });
  cfg.coreMask = 0b10;
  const results = (await runOnCores(new MtcpRuntime(cfg), app, { entry: 'pinned', workerUrl }).done) as { cpus: string }[];
  t.same(results.map((r) => r.cpus), ['1'], 'core 0 on CPU 1');
}, { ciProvides: false });

t.test('a core that throws is reported with its core number; the other cores are stopped', async (t) => {
  const run = runOnCores(runtime(), app, { entry: 'throwsOnOne', workerUrl, data: { throwOn: cores - 1 } });
  const err = await run.done.then(() => null, (e: unknown) => e);
  t.type(err, CoreError);
  const ce = err as CoreError;
  t.equal(ce.core, cores - 1);
  t.equal(ce.message, `core ${cores - 1}: a failure on purpose`);
  t.match(ce.workerStack, /core-app\.js/, 'with the stack from the worker');
  await run.ready;
});

t.test('a module without the entry, or a missing module, is an error naming the core', async (t) => {
  const err = await runOnCores(runtime(), app, { entry: 'nope', workerUrl }).done.then(() => null, (e: unknown) => e);
  t.match((err as Error).message, /^core \d: .*core-app\.js exports no function `nope`$/);
  const missing = new URL('./missing.js', app);
  const err2 = await runOnCores(runtime(), missing, { workerUrl }).done.then(() => null, (e: unknown) => e);
  t.match((err2 as Error).message, /^core \d: Cannot find module/);
});

t.test('stop(): every core returns and closes its sockets', async (t) => {
  const run = runOnCores(runtime(), app, { entry: 'serve', workerUrl });
  await run.ready;
  run.stop();
  const results = (await run.done) as { core: number; socketsLeft: number }[];
  t.same(results.map((r) => [r.core, r.socketsLeft]), Array.from({ length: cores }, (_, k) => [k, 0]));
});

t.test('a core that ignores the stop request fails the run after stopTimeoutMs', async (t) => {
  const run = runOnCores(runtime(), app, { entry: 'ignoresStop', workerUrl, stopTimeoutMs: 300 });
  await run.ready;
  run.stop();
  const err = await run.done.then(() => null, (e: unknown) => e);
  t.type(err, CoreError);
  t.match((err as Error).message, /^core \d: did not stop within 300 ms of the stop request$/);
});

t.test('SIGINT in a program running the cores: every core stops cleanly, exit 0, no stack trace', async (t) => {
  const conf = join(tmpdir(), `mtcp-ts-cores-${process.pid}.conf`);
  writeFileSync(conf, confText('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm', cores }));
  t.teardown(() => writeFileSync(conf, ''));
  const child = spawn(process.execPath, [join(dir, 'test/mtcp/fixtures/sigint-main.js'), conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out === 'ready\n') child.kill('SIGINT');
  });
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.equal(code, 0, 'exit status 0');
  t.notMatch(err, /\n\s+at /, 'no stack trace on stderr');
  const lines = out.trim().split('\n');
  t.equal(lines[0], 'ready');
  const results = JSON.parse(lines[1]) as { core: number; socketsLeft: number }[];
  t.same(results.map((r) => [r.core, r.socketsLeft]), Array.from({ length: cores }, (_, k) => [k, 0]), 'every core returned with its sockets closed');
});

t.test('more cores than CPUs: refused before any worker starts, the CoreError naming the first core without a CPU', async (t) => {
  const n = Math.min(cpus + 1, 128);
  const run = runOnCores(new MtcpRuntime(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm', cores: n })), app, { entry: 'pinned', workerUrl });
  await run.ready;
  const err = await run.done.then(() => null, (e: unknown) => e);
  t.type(err, CoreError);
  t.equal((err as CoreError).core, cpus);
  t.match((err as CoreError).message, new RegExp(`num_cores = ${n} pins core k to the k-th CPU .*CPU ${cpus} is not one of this machine's ${cpus}`));
});
