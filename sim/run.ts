/**
 * `npm run sim -- --seeds N [--from S] [--seed S] [--jobs J]`: the seeded scenarios over worker
 * threads. Seeds S .. S+N-1 (default from 1) are dealt round-robin to J workers (default: the CPUs);
 * `--seed S` runs that one seed alone. Progress goes to stderr (a bar on a TTY, a line every few
 * seconds otherwise); totals, wall time, the ranges the scenarios covered, the connections that
 * failed legitimately (a retry limit reached with every answer lost, as the frames showed) and, for
 * each failing seed, the command that reproduces it go to stdout. Exit status 1 on any failure.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { reproduction, runScenario, type ScenarioResult } from './scenario.ts';
import { wholeNumberArg } from './args.ts';

interface Job {
  from: number;
  count: number;
  stride: number;
}

/** What a worker reports: counts as it goes, every failure, and the ranges it covered at the end. */
type Message =
  | { kind: 'progress'; done: number }
  | { kind: 'failure'; result: ScenarioResult }
  | { kind: 'done'; ranges: Ranges; virtualMs: number; bytes: number; outcomes: Record<string, number>; excused: Record<string, number> };

/** Smallest and largest value seen of each numeric scenario parameter, and the values of the others. */
type Ranges = Record<string, [number, number] | string[]>;

function widen(ranges: Ranges, key: string, v: number | string | boolean): void {
  if (typeof v === 'number') {
    const r = (ranges[key] ??= [v, v]) as [number, number];
    if (v < r[0]) r[0] = v;
    if (v > r[1]) r[1] = v;
  } else {
    const r = (ranges[key] ??= []) as string[];
    if (!r.includes(String(v))) r.push(String(v));
  }
}

function merge(into: Ranges, from: Ranges): void {
  for (const [k, v] of Object.entries(from)) {
    if (typeof v[0] === 'number') {
      widen(into, k, v[0]);
      widen(into, k, v[1]);
    } else {
      for (const x of v as string[]) widen(into, k, x);
    }
  }
}

function formatRange(v: [number, number] | string[]): string {
  if (typeof v[0] !== 'number') return (v as string[]).sort().join(' | ');
  const f = (x: number): string => (Number.isInteger(x) ? x.toLocaleString('en') : x.toPrecision(3));
  return `${f(v[0])} .. ${f(v[1] as number)}`;
}

function describeFailure(r: ScenarioResult): string {
  const p = r.params;
  const i = p.impairments;
  return `FAIL seed ${r.seed}: reproduce with \`${reproduction(r.seed)}\`\n` +
    `  ${p.connections} connections, loss ${i.loss.toFixed(3)}, dup ${i.duplicate.toFixed(3)}, reorder ${i.reorder.toFixed(3)}, ` +
    `corrupt ${i.corrupt.toFixed(3)}, delay ${i.delayMs.toFixed(1)} ms, jitter ${i.jitterMs.toFixed(1)} ms, ` +
    `bandwidth ${i.bandwidthBps ? `${(i.bandwidthBps / 1e6).toFixed(1)} Mbit/s` : 'unlimited'}, ${p.cc}, sack ${p.sack}, ` +
    `mtu ${p.mtu}, rcvbuf ${p.rcvbuf}, sndbuf ${p.sndbuf}, time-wait ${p.timeWaitMs} ms\n` +
    `  ${r.failure.split('\n').join('\n  ')}`;
}

async function main(): Promise<void> {
  const single = process.argv.includes('--seed');
  const from = single ? wholeNumberArg('seed', 1) : wholeNumberArg('from', 1);
  const seeds = single ? 1 : wholeNumberArg('seeds', 1000);
  const jobs = Math.max(1, Math.min(wholeNumberArg('jobs', availableParallelism()), seeds || 1));
  const started = performance.now();
  const doneBy = new Array<number>(jobs).fill(0);
  const failures: ScenarioResult[] = [];
  const ranges: Ranges = {};
  const outcomes: Record<string, number> = {};
  const excused: Record<string, number> = {};
  let virtualMs = 0;
  let bytes = 0;
  let finished = 0;
  const tty = process.stderr.isTTY;
  let lastReport = started;
  const report = (force: boolean): void => {
    const now = performance.now();
    if (!force && now - lastReport < (tty ? 200 : 10_000)) return;
    lastReport = now;
    const done = doneBy.reduce((a, b) => a + b, 0);
    const rate = done / ((now - started) / 1000);
    const eta = rate > 0 ? Math.round((seeds - done) / rate) : 0;
    const tail = `${done.toLocaleString('en')}/${seeds.toLocaleString('en')} seeds, ${rate.toFixed(1)}/s, ${failures.length} failed, eta ${eta} s`;
    if (tty) {
      const width = 30;
      const filled = Math.round((width * done) / (seeds || 1));
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${tail}  `);
      if (force) process.stderr.write('\n');
    } else {
      process.stderr.write(`sim: ${tail}\n`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, (_, j) => new Promise<void>((resolve, reject) => {
    const job: Job = { from: from + j, count: Math.floor(seeds / jobs) + (j < seeds % jobs ? 1 : 0), stride: jobs };
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: job });
    w.on('message', (m: Message) => {
      if (m.kind === 'progress') {
        doneBy[j] = m.done;
        report(false);
      } else if (m.kind === 'failure') {
        failures.push(m.result);
        if (tty) process.stderr.write('\n');
        process.stderr.write(`FAIL seed ${m.result.seed}: ${reproduction(m.result.seed)}\n`);
      } else {
        merge(ranges, m.ranges);
        for (const [k, v] of Object.entries(m.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
        for (const [k, v] of Object.entries(m.excused)) excused[k] = (excused[k] ?? 0) + v;
        virtualMs += m.virtualMs;
        bytes += m.bytes;
        finished++;
      }
    });
    w.on('error', reject);
    w.on('exit', () => resolve());
  })));
  report(true);
  const seconds = (performance.now() - started) / 1000;
  console.log(`seeds ${from} .. ${from + seeds - 1}: ${seeds - failures.length} passed, ${failures.length} failed, ` +
    `in ${seconds.toFixed(1)} s wall (${(seeds / seconds).toFixed(1)} seeds/s, ${jobs} jobs); ` +
    `${(virtualMs / 3_600_000).toFixed(1)} h virtual, ${(bytes / 2 ** 20).toFixed(1)} MiB verified`);
  console.log('scenario ranges:');
  for (const [k, v] of Object.entries(ranges)) console.log(`  ${k.padEnd(24)} ${formatRange(v)}`);
  console.log('connection endings (opener/acceptor):');
  for (const [k, v] of Object.entries(outcomes).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(24)} ${v.toLocaleString('en')}`);
  console.log('connections both sides meant to end cleanly that failed with every answer lost (checked frame by frame):');
  if (Object.keys(excused).length === 0) console.log('  none');
  for (const [k, v] of Object.entries(excused).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(24)} ${v.toLocaleString('en')}`);
  failures.sort((a, b) => a.seed - b.seed);
  for (const r of failures) console.log(describeFailure(r));
  if (finished !== jobs) console.log(`FAIL: ${jobs - finished} worker(s) died`);
  process.exitCode = failures.length > 0 || finished !== jobs ? 1 : 0;
}

function work(job: Job): void {
  const ranges: Ranges = {};
  const outcomes: Record<string, number> = {};
  const excused: Record<string, number> = {};
  let virtualMs = 0;
  let bytes = 0;
  let lastPost = performance.now();
  for (let i = 0; i < job.count; i++) {
    const r = runScenario(job.from + i * job.stride);
    const p = r.params;
    for (const [k, v] of Object.entries(p.impairments)) widen(ranges, k, v);
    for (const k of ['connections', 'cc', 'sack', 'mtu', 'rcvbuf', 'sndbuf', 'timeWaitMs'] as const) widen(ranges, k, p[k]);
    widen(ranges, 'virtual ms per seed', r.virtualMs);
    widen(ranges, 'bytes per seed', r.bytes);
    for (const [k, v] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
    for (const e of r.excused) {
      const kind = e.split(': ')[1]; // "conn #N: connect timed out: ..."
      excused[kind] = (excused[kind] ?? 0) + 1;
    }
    virtualMs += r.virtualMs;
    bytes += r.bytes;
    if (!r.ok) parentPort!.postMessage({ kind: 'failure', result: r } satisfies Message);
    const now = performance.now();
    if (now - lastPost > 100 || i === job.count - 1) {
      lastPost = now;
      parentPort!.postMessage({ kind: 'progress', done: i + 1 } satisfies Message);
    }
  }
  parentPort!.postMessage({ kind: 'done', ranges, virtualMs, bytes, outcomes, excused } satisfies Message);
}

if (isMainThread) await main();
else work(workerData as Job);
