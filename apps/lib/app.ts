/**
 * What every example app shares: its setup from `-f conf` (mtcp_init and one
 * context, on the wire the config selects or the one a `pair` run hands it),
 * usage errors with a non-zero exit, and a clean stop on SIGINT.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { workerData, parentPort, isMainThread } from 'node:worker_threads';
import { mtcp_create_context, mtcp_destroy, mtcp_destroy_context, mtcp_init } from '../../src/mtcp/api.ts';
import type { MtcpContext } from '../../src/mtcp/context.ts';
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

/** mtcp_init from `conf` and a context on `core`; the wire is the pair's when this runs in a pair worker. */
export function startStack(conf: string | undefined, core: number): MtcpContext {
  if (!conf) throw new UsageError('-f conf is required');
  const pair = !isMainThread && (workerData as PairWorkerData | null)?.shm ? (workerData as PairWorkerData).shm : undefined;
  if (mtcp_init(conf, pair ? { shm: pair } : {}) < 0) throw new UsageError(`bad configuration ${conf} (see the message above)`);
  const mctx = mtcp_create_context(core);
  if (!mctx) {
    mtcp_destroy();
    throw new StartError(`could not start core ${core} (see the message above)`);
  }
  return mctx;
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

/** Run an app's main: usage errors print the message and the usage and give status 2. */
export async function runApp(name: string, usage: string, main: () => Promise<number>): Promise<number> {
  try {
    return await main();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message}\nusage: ${usage}\n`);
      return 2;
    }
    if (err instanceof StartError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
