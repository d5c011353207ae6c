/**
 * One pinned worker thread per core, as mTCP applications run one pthread per
 * core: the main thread calls mtcp_init once, then runOnCores starts a worker
 * for each core. Each worker pins itself to its CPU (mtcp_core_affinitize, the
 * k-th CPU of core_mask), makes the context of its core on the shared runtime
 * (its own queue, flow table, pools, timers and epoll), imports the
 * application's module and calls its per-core entry:
 *
 *   export async function main(mctx, core, { signal, data }) { ... }
 *
 * The entry returns when `signal` aborts (SIGINT, or stop()); the worker then
 * closes the context's sockets, stops it, and reports the entry's result.
 *
 * The module must share mtcp-ts's module instances with the worker: import
 * 'mtcp-ts' (the package's dist), or bundle it together with
 * src/mtcp/core-worker.ts (esbuild splitting), never a second copy.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type MessagePort } from 'node:worker_threads';
import { maskCpus } from '../config/mtcp-conf.ts';
import { errnoName } from '../stack/errno.ts';
import {
  mtcp_attach, mtcp_core_affinitize, mtcp_create_context, mtcp_destroy, mtcp_destroy_context, mtcp_errno,
} from './api.ts';
import type { MtcpContext } from './context.ts';
import type { MtcpRuntime, MtcpShared } from './runtime.ts';
import type { StatsReport } from './stats.ts';

/** What a per-core entry receives besides its context and core number. */
export interface CoreEntryOptions {
  /** Aborts when the run is asked to stop (SIGINT or CoreRun.stop()): return soon after. */
  signal: AbortSignal;
  /** CoreRunOptions.data, as structured-cloned into the worker. */
  data: unknown;
}

/** A module's per-core entry. Its result (structured-cloneable) is reported to the main thread. */
export type CoreEntry = (mctx: MtcpContext, core: number, options: CoreEntryOptions) => unknown;

export interface CoreRunOptions {
  /** The entry's export name (default 'main'). */
  entry?: string;
  /** Passed to every core's entry (structured-cloned). */
  data?: unknown;
  /** The built worker boot, dist/src/mtcp/core-worker.js; found above this module's file by default. */
  workerUrl?: URL | string;
  /** Stop every core on SIGINT (default true). */
  sigint?: boolean;
  /** After a stop request, how long a core may take to return before the run fails (default 5000 ms). */
  stopTimeoutMs?: number;
}

/** A core's failure, reported in the main thread: `core` says which. */
export class CoreError extends Error {
  constructor(
    readonly core: number,
    message: string,
    /** The stack of the error inside the worker, when there was one. */
    readonly workerStack = '',
  ) {
    super(`core ${core}: ${message}`);
    this.name = 'CoreError';
  }
}

export interface CoreRun {
  /** Resolves when every core is ready: pinned, its context made, its entry called and past its first await. */
  readonly ready: Promise<void>;
  /** Each core's entry result, by core, once all returned and stopped; rejects with a CoreError when one fails. */
  readonly done: Promise<unknown[]>;
  /** Ask every core to stop (what SIGINT does): their signals abort. */
  stop(): void;
  /** Every core's counters and their total, as the cores last published them. */
  stats(): StatsReport;
}

/** What the main thread tells a core's worker. */
export interface CoreWorkerData {
  shared: MtcpShared;
  core: number;
  /** The CPU to pin to. */
  cpu: number;
  moduleUrl: string;
  entry: string;
  data: unknown;
}

/** What a core's worker tells the main thread. */
type CoreMessage =
  | { kind: 'ready' }
  | { kind: 'done'; result: unknown }
  | { kind: 'error'; message: string; stack: string };

/**
 * A file of the built package, `rel` from the bundle root: the first
 * directory above `fromUrl`'s file that holds it (dist/ from dist/chunks/ or
 * dist/src/...). Throws a clear error when there is none (running from
 * TypeScript sources that were never built).
 */
export function builtFile(fromUrl: string, rel: string): URL {
  const start = dirname(fileURLToPath(fromUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, rel))) return pathToFileURL(join(dir, rel));
    if (dirname(dir) === dir) break;
  }
  throw new Error(`${rel} is not built above ${start}: run \`npm run build\` (worker threads need JavaScript on Node 20)`);
}

/**
 * Start one pinned worker per core of `runtime` (made by mtcp_init or `new
 * MtcpRuntime`), each running `moduleUrl`'s per-core entry on its context.
 */
export function runOnCores(runtime: MtcpRuntime, moduleUrl: URL | string, opts: CoreRunOptions = {}): CoreRun {
  const shared = runtime.share();
  const cores = runtime.config.numCores;
  const cpus = maskCpus(runtime.config.coreMask);
  // Each core is pinned to a CPU of its own: say before starting any which core cannot be, and why.
  const present = availableParallelism();
  const missing = cpus.slice(0, cores).findIndex((cpu) => cpu >= present);
  if (missing >= 0) {
    const done = Promise.reject(new CoreError(missing, `num_cores = ${cores} pins core k to the k-th CPU of core_mask ` +
      `0x${runtime.config.coreMask.toString(16)}, and core ${missing}'s CPU ${cpus[missing]} is not one of this machine's ${present} ` +
      `(0-${present - 1}): lower num_cores (or -N), or choose a core_mask of CPUs that exist`));
    done.catch(() => {}); // the caller's await sees it; nothing is left unhandled if it awaits `ready` first
    return { ready: Promise.resolve(), done, stop: () => {}, stats: () => runtime.stats() };
  }
  const workerUrl = opts.workerUrl ?? builtFile(import.meta.url, 'src/mtcp/core-worker.js');
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
  const workers: Worker[] = [];
  const results: unknown[] = new Array<unknown>(cores).fill(undefined);
  const readies: Promise<void>[] = [];
  const finished: Promise<void>[] = [];
  /** Per core: its worker reported its end (done or error) or exited. */
  const ended = new Array<boolean>(cores).fill(false);
  let failure: CoreError | null = null;
  let stopping = false;
  let stopTimer: NodeJS.Timeout | null = null;

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const w of workers) w.postMessage('stop');
    stopTimer = setTimeout(() => {
      for (const [core, w] of workers.entries()) {
        if (ended[core]) continue;
        failure ??= new CoreError(core, `did not stop within ${stopTimeoutMs} ms of the stop request`);
        void w.terminate();
      }
    }, stopTimeoutMs);
    stopTimer.unref();
  };
  const fail = (err: CoreError): void => {
    failure ??= err;
    stop();
  };

  for (let core = 0; core < cores; core++) {
    const data: CoreWorkerData = {
      shared, core, cpu: cpus[core], moduleUrl: String(moduleUrl), entry: opts.entry ?? 'main', data: opts.data,
    };
    const w = new Worker(workerUrl, { workerData: data });
    workers.push(w);
    readies.push(new Promise<void>((resolve) => {
      w.on('message', (m: CoreMessage) => {
        if (m.kind === 'ready') resolve();
      });
      w.once('exit', () => resolve());
    }));
    finished.push(new Promise<void>((resolve) => {
      w.on('message', (m: CoreMessage) => {
        if (m.kind === 'done') {
          ended[core] = true;
          results[core] = m.result;
        } else if (m.kind === 'error') {
          ended[core] = true;
          fail(new CoreError(core, m.message, m.stack));
        }
      });
      w.on('error', (err: Error) => {
        ended[core] = true;
        fail(new CoreError(core, err.message, err.stack ?? ''));
      });
      w.once('exit', (code) => {
        // A worker stops its context before it ends; one terminated or crashed could not, so its core is freed here.
        runtime.releaseCoreOfEndedWorker(core);
        if (!ended[core]) fail(new CoreError(core, `its worker exited with code ${code} before its entry returned`));
        ended[core] = true;
        resolve();
      });
    }));
  }

  const onSigint = (): void => stop();
  if (opts.sigint ?? true) process.once('SIGINT', onSigint);
  const done = Promise.all(finished).then(() => {
    process.removeListener('SIGINT', onSigint);
    if (stopTimer) clearTimeout(stopTimer);
    if (failure) throw failure;
    return results;
  });
  // A failed run rejects `done`; `ready` settles either way, so waiting on it alone never hangs.
  const ready = Promise.all(readies).then(() => {});
  return { ready, done, stop, stats: () => runtime.stats() };
}

/** The body of a core's worker (src/mtcp/core-worker.ts runs it with its workerData and parentPort). */
export async function runCoreWorker(d: CoreWorkerData, port: MessagePort): Promise<void> {
  const ac = new AbortController();
  const onMessage = (m: unknown): void => {
    if (m === 'stop') ac.abort();
  };
  port.on('message', onMessage);
  let mctx: MtcpContext | null = null;
  let reply: CoreMessage;
  try {
    if (mtcp_attach(d.shared) < 0) throw new Error(`mtcp_attach failed: ${errnoName(mtcp_errno())}`);
    if (mtcp_core_affinitize(d.cpu) < 0) throw new Error(`cannot pin its thread to CPU ${d.cpu}: ${errnoName(mtcp_errno())}`);
    mctx = mtcp_create_context(d.core);
    if (!mctx) throw new Error(`mtcp_create_context failed: ${errnoName(mtcp_errno())}`);
    const mod = (await import(d.moduleUrl)) as Record<string, unknown>;
    const entry = mod[d.entry];
    if (typeof entry !== 'function') throw new Error(`${d.moduleUrl} exports no function \`${d.entry}\``);
    const running = (entry as CoreEntry)(mctx, d.core, { signal: ac.signal, data: d.data });
    // Ready once the entry's synchronous start (a listen, say) is done.
    port.postMessage({ kind: 'ready' } satisfies CoreMessage);
    reply = { kind: 'done', result: await running };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply = { kind: 'error', message: e.message, stack: e.stack ?? '' };
  }
  // Sockets closed and the context stopped before the main thread hears the core is done.
  if (mctx) {
    mtcp_destroy_context(mctx);
    await mctx.closed;
  }
  mtcp_destroy();
  port.off('message', onMessage);
  port.postMessage(reply);
}
