/**
 * `npm run fuzz -- --frames N [--seed S] [--jobs J]`: the fuzzer over worker
 * threads. Job j runs seed S + j with its share of the frames; progress goes
 * to stderr, the summary (frames, frames/s, drops by reason, failures with the
 * command that replays each) to stdout. Exit status 1 on any failure.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { fuzz, reproduction, type FuzzResult } from './fuzz.ts';
import { wholeNumberArg } from './args.ts';

interface Job {
  seed: number;
  frames: number;
}

type Message = { kind: 'progress'; fed: number } | { kind: 'done'; result: FuzzResult };

if (isMainThread) {
  const frames = wholeNumberArg('frames', 1_000_000);
  const seed = wholeNumberArg('seed', 1);
  const jobs = Math.max(1, Math.min(wholeNumberArg('jobs', availableParallelism()), frames || 1));
  const started = performance.now();
  const fed = new Array<number>(jobs).fill(0);
  const results: FuzzResult[] = [];
  let lastReport = 0;
  await Promise.all(Array.from({ length: jobs }, (_, j) => new Promise<void>((resolve, reject) => {
    const share = Math.floor(frames / jobs) + (j < frames % jobs ? 1 : 0);
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { seed: seed + j, frames: share } satisfies Job });
    w.on('message', (m: Message) => {
      if (m.kind === 'done') {
        results.push(m.result);
        return;
      }
      fed[j] = m.fed;
      const now = performance.now();
      if (now - lastReport > 2000) {
        lastReport = now;
        const total = fed.reduce((a, b) => a + b, 0);
        process.stderr.write(`fuzz: ${total.toLocaleString('en')} / ${frames.toLocaleString('en')} frames, ` +
          `${Math.round(total / ((now - started) / 1000)).toLocaleString('en')} frames/s\n`);
      }
    });
    w.on('error', reject);
    w.on('exit', () => resolve());
  })));
  const seconds = (performance.now() - started) / 1000;
  const total = results.reduce((a, r) => a + r.framesFed, 0);
  const drops: Record<string, number> = {};
  const families: Record<string, number> = {};
  const processedBy: Record<string, number> = {};
  for (const r of results) {
    for (const [k, v] of Object.entries(r.drops)) drops[k] = (drops[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.families)) families[k] = (families[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.processedByFamily)) processedBy[k] = (processedBy[k] ?? 0) + v;
  }
  const processed = results.reduce((a, r) => a + r.processed, 0);
  const verified = results.reduce((a, r) => a + r.bytesVerified, 0);
  console.log(`frames fed: ${total.toLocaleString('en')} in ${seconds.toFixed(1)} s (${Math.round(total / seconds).toLocaleString('en')} frames/s, ${jobs} jobs)`);
  console.log(`processed (not dropped): ${processed.toLocaleString('en')}; stream bytes verified: ${verified.toLocaleString('en')}`);
  console.log(`peak control blocks ${Math.max(...results.map((r) => r.maxActive))}, half-open ${Math.max(...results.map((r) => r.maxHalfOpen))}, ` +
    `ARP entries ${Math.max(...results.map((r) => r.maxArpEntries))}`);
  console.log('frames by family (of which processed, not dropped):');
  for (const [k, v] of Object.entries(families).sort((a, b) => b[1] - a[1])) {
    console.log(`  ${k.padEnd(22)} ${v.toLocaleString('en').padStart(12)} (${(processedBy[k] ?? 0).toLocaleString('en')})`);
  }
  console.log('drops by reason:');
  for (const [k, v] of Object.entries(drops).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(22)} ${v.toLocaleString('en')}`);
  const failed = results.filter((r) => r.failures.length > 0);
  if (results.length !== jobs) console.log(`FAIL: ${jobs - results.length} job(s) died`);
  for (const r of failed) {
    console.log(`FAIL (seed ${r.seed}, after ${r.framesFed} frames): reproduce with ${reproduction(r.seed, r.framesFed)}`);
    for (const f of r.failures) console.log(`  ${f}`);
  }
  if (failed.length === 0 && results.length === jobs) console.log('no escape, every drop counted under its reason, every stream intact');
  process.exitCode = failed.length > 0 || results.length !== jobs ? 1 : 0;
} else {
  const job = workerData as Job;
  const result = fuzz({ seed: job.seed, frames: job.frames, onProgress: (fed) => parentPort!.postMessage({ kind: 'progress', fed } satisfies Message) });
  parentPort!.postMessage({ kind: 'done', result } satisfies Message);
}
