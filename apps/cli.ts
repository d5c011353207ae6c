#!/usr/bin/env node
/**
 * `mtcp-ts <app> [args]`: the example applications.
 *   mtcp-ts epserver -p www_dir -f mtcp.conf [-N cores] [-c core] [-b backlog] [--port 80]
 *   mtcp-ts epwget IP[:port]/path total_requests -f mtcp.conf [-N cores] [-c concurrency] [-o outfile] [--json]
 *   mtcp-ts perf send|recv IP PORT SECONDS -f mtcp.conf [-N 1] [--json]
 *   mtcp-ts echo server PORT -f mtcp.conf [-N cores] | echo client IP PORT -f mtcp.conf [-N cores] [-c n] [-s size] [-t seconds] [--json]
 *   mtcp-ts pair <server app and args> -- <client app and args>
 * `pair` runs two apps in two worker threads joined by one shm wire (the
 * embedded default connects threads of one process): the client runs to its
 * end, then the server is stopped; the exit status is the client's.
 */
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ShmWire } from '../src/io/shm.ts';
import { epserver, USAGE as EPSERVER } from './epserver.ts';
import { echo, USAGE as ECHO } from './echo.ts';
import { epwget, USAGE as EPWGET } from './epwget.ts';
import { perf, USAGE as PERF } from './perf.ts';
import { coresOf, runApp, type PairMessage, type PairWorkerData } from './lib/app.ts';

const APPS: Record<string, [string, (argv: string[]) => Promise<number>]> = {
  epserver: [EPSERVER, epserver],
  epwget: [EPWGET, epwget],
  perf: [PERF, perf],
  echo: [ECHO, echo],
};
const USAGE = `mtcp-ts <app> [args]\n  ${EPSERVER}\n  ${EPWGET}\n  ${PERF}\n  ${ECHO}\n  mtcp-ts pair <server app and args> -- <client app and args>`;

/** Longest `pair` waits for its server app to say it listens before starting the client anyway, ms. */
const PAIR_LISTEN_WAIT_MS = 10_000;

function app(argv: string[]): Promise<number> {
  const entry = APPS[argv[0]];
  if (!entry) {
    process.stderr.write(`mtcp-ts: ${argv[0] === undefined ? 'no app given' : `unknown app ${JSON.stringify(argv[0])}`}\nusage: ${USAGE}\n`);
    return Promise.resolve(2);
  }
  return runApp(argv[0], entry[0], () => entry[1](argv.slice(1)));
}

/** Run server and client apps in two threads on one shm wire. */
async function pair(argv: string[]): Promise<number> {
  const cut = argv.indexOf('--');
  if (cut <= 0 || cut === argv.length - 1) {
    process.stderr.write(`mtcp-ts pair: expected <server app and args> -- <client app and args>\nusage: ${USAGE}\n`);
    return 2;
  }
  // A queue per core at each end: each side's -N, or its config's num_cores.
  const wire = ShmWire.create({ slots: 4096, queues: [coresOf(argv.slice(0, cut)), coresOf(argv.slice(cut + 1))] }).share();
  const self = fileURLToPath(import.meta.url);
  const start = (args: string[], port: 0 | 1): { worker: Worker; done: Promise<number>; listening: Promise<void> } => {
    const worker = new Worker(self, { workerData: { argv: args, shm: { wire, port } } satisfies PairWorkerData });
    let listened!: () => void;
    const listening = new Promise<void>((resolve) => (listened = resolve));
    const done = new Promise<number>((resolve, reject) => {
      worker.on('message', (m: PairMessage) => (m.kind === 'listening' ? listened() : resolve(m.code)));
      worker.once('error', reject);
      worker.once('exit', (code) => resolve(code === 0 ? 0 : 1));
    });
    done.then(listened, listened);
    return { worker, done, listening };
  };
  const { worker: server, done: serverDone, listening } = start(argv.slice(0, cut), 0);
  // The client starts once the server listens on every core it runs (a SYN to a core not yet listening is
  // refused), or has ended; a server app that never says so gets PAIR_LISTEN_WAIT_MS.
  await Promise.race([listening, new Promise((r) => setTimeout(r, PAIR_LISTEN_WAIT_MS).unref())]);
  const { done: clientDone } = start(argv.slice(cut + 1), 1);
  const stop = (): void => server.postMessage('stop');
  process.once('SIGINT', stop);
  const code = await clientDone;
  stop();
  const serverCode = await serverDone;
  return code !== 0 ? code : serverCode;
}

if (isMainThread) {
  const argv = process.argv.slice(2);
  process.exitCode = argv[0] === 'pair' ? await pair(argv.slice(1)) : await app(argv);
} else {
  const code = await app((workerData as PairWorkerData).argv);
  parentPort!.postMessage({ kind: 'exit', code } satisfies PairMessage);
  process.exit(code);
}
