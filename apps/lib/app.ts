/**
 * What every example app shares: its setup from `-f conf` (mtcp_init and one
 * context, on the wire the config selects or the one a `pair` run hands it),
 * usage errors with a non-zero exit, and a clean stop on SIGINT.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { workerData, parentPort, isMainThread } from 'node:worker_threads';
import { loadMtcpConf } from '../../src/config/mtcp-conf.ts';
import {
  mtcp_create_context, mtcp_destroy, mtcp_destroy_context, mtcp_init, mtcp_runtime, mtcp_setconf,
} from '../../src/mtcp/api.ts';
import type { MtcpContext } from '../../src/mtcp/context.ts';
import { builtFile, CoreError, runOnCores } from '../../src/mtcp/cores.ts';
import type { ShmWireShared } from '../../src/io/shm.ts';

/** A usage or configuration error: the app prints it and its usage, and exits with status 2. */
export class UsageError extends Error {}

/** The stack could not start (a port missing, a device refused): the app prints it and exits with status 1. */
export class StartError extends Error {}

/** How a `pair` run hands a worker its end of the shm wire. */
export interface PairWorkerData {
  argv: string[];
  shm: { wire: ShmWireShared; port: 0 | 1 };
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>, allowPositionals = false): Parsed {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true }) as Parsed;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

export function integer(value: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** The pair's end of the shm wire when this runs in a pair worker. */
function pairWire(): PairWorkerData['shm'] | undefined {
  return !isMainThread && (workerData as PairWorkerData | null)?.shm ? (workerData as PairWorkerData).shm : undefined;
}

/** What a `pair` worker tells the pair: its app listens on every core it runs (the client may start), or its exit status. */
export type PairMessage = { kind: 'listening' } | { kind: 'exit'; code: number };

/**
 * The app listens (on every core it runs): in a `pair` worker, tell the pair, which starts the client
 * then; a SYN that reached a core before it listened would be refused. Elsewhere (a core's worker,
 * a program of its own) nothing.
 */
export function announceListening(): void {
  if (pairWire()) parentPort?.postMessage({ kind: 'listening' } satisfies PairMessage);
}

/** mtcp_init from `conf`; the wire is the pair's when this runs in a pair worker. */
function initStack(conf: string | undefined): void {
  if (!conf) throw new UsageError('-f conf is required');
  const pair = pairWire();
  if (mtcp_init(conf, pair ? { shm: pair } : {}) < 0) throw new UsageError(`bad configuration ${conf} (see the message above)`);
}

/**
 * mtcp_init from `conf` and a context on `core` in this thread. `numCores`, when given, replaces the
 * config's num_cores (a one-core run of a config written for several: -N 1).
 */
export function startStack(conf: string | undefined, core: number, numCores?: number): MtcpContext {
  if (numCores !== undefined) mtcp_setconf({ num_cores: numCores });
  initStack(conf);
  const mctx = mtcp_create_context(core);
  if (!mctx) {
    mtcp_destroy();
    throw new StartError(`could not start core ${core} (see the message above)`);
  }
  return mctx;
}

/**
 * Several cores: mtcp_init with num_cores = cores, then one pinned worker
 * per core running the export `entry` of apps/<app>.js with `data`; `signal`
 * stops them all; `onReady` is called once every core has started (a server's
 * cores listen by then). Returns each core's result.
 */
export async function runAppOnCores(
  conf: string | undefined, cores: number, app: string, entry: string, data: unknown, signal: AbortSignal, onReady?: () => void,
): Promise<unknown[]> {
  mtcp_setconf({ num_cores: cores });
  initStack(conf);
  try {
    const run = runOnCores(mtcp_runtime()!, builtFile(import.meta.url, `apps/${app}.js`), { entry, data, sigint: false });
    signal.addEventListener('abort', () => run.stop(), { once: true });
    if (onReady) void run.ready.then(onReady);
    return await run.done;
  } finally {
    mtcp_destroy();
  }
}

/**
 * The cores an app runs, as mTCP's apps decide: `-N` when given, else the num_cores of its `-f` config;
 * 1 without a config, or when it cannot be read (the app reports that when it starts).
 */
export function coreCount(n: string | undefined, conf: string | undefined): number {
  if (n !== undefined) return integer(n, '-N', 1, 128, 1);
  if (conf === undefined) return 1;
  try {
    return loadMtcpConf(conf).numCores;
  } catch {
    return 1;
  }
}

/** `n` split into `parts` shares that differ by one at most, the larger first (mTCP's epwget splits requests and concurrency so). */
export function share(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, k) => Math.floor(n / parts) + (k < n % parts ? 1 : 0));
}

/** The cores an app's command line asks for (coreCount of its -N and -f), for a `pair` run to size the wire. */
export function coresOf(argv: string[]): number {
  const at = (flag: string): string | undefined => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  try {
    return coreCount(at('-N'), at('-f'));
  } catch {
    return 1; // a bad -N: the app reports it
  }
}

/** How long a client waits with nothing at all received (not even an ARP reply) before it says its peer is silent, ms. */
export const SILENT_PEER_MS = 3000;

/**
 * Why a client heard nothing from `host`, from its stack's counters: '' when any frame came back. Otherwise not even
 * an ARP reply arrived; on shm that means no stack at the other end of the wire, which joins threads of one process
 * only (hence `pair`).
 */
export function silentPeer(mctx: MtcpContext, host: string): string {
  const { rxFrames, txFrames } = mctx.stack.stats;
  if (rxFrames > 0) return '';
  const heard = `no answer from ${host}: no ARP reply (${txFrames} frames sent, none received)`;
  if (pairWire()) return `${heard}; the server side of the pair did not answer`;
  if (mtcp_runtime()?.config.io === 'shm') {
    return `${heard}; no peer on the shm wire: it joins threads of one process, so run the server and this client together: ` +
      '`mtcp-ts pair <server app and args> -- <this client\'s args>`';
  }
  return `${heard}; is the peer up, on this link, at that address?`;
}

export async function stopStack(mctx: MtcpContext): Promise<void> {
  mtcp_destroy_context(mctx);
  await mctx.closed;
  mtcp_destroy();
}

/**
 * A signal that fires on SIGINT or SIGTERM (or, in a pair worker, when the pair
 * stops this side): the app finishes its turn, closes its sockets and returns,
 * so its port is stopped and closed (a memif server removes its socket file).
 */
export function stopSignal(): AbortSignal {
  const ac = new AbortController();
  if (isMainThread) {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      ac.abort();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } else parentPort?.on('message', (m: unknown) => m === 'stop' && ac.abort());
  return ac.signal;
}

/**
 * Run an app's main: usage errors print the message and the usage and give
 * status 2; a core that failed prints which and why, and gives status 1.
 */
export async function runApp(name: string, usage: string, main: () => Promise<number>): Promise<number> {
  try {
    return await main();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message}\nusage: ${usage}\n`);
      return 2;
    }
    if (err instanceof StartError || err instanceof CoreError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
