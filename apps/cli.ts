#!/usr/bin/env node
/**
 * `mtcp-ts <app> [args]`: the example applications.
 *   mtcp-ts epserver -p www_dir -f mtcp.conf [-N cores] [-c core] [-b backlog] [--port 80]
 *   mtcp-ts epwget IP[:port]/path total_requests -f mtcp.conf [-N cores] [-c concurrency] [-o outfile] [--json]
 *   mtcp-ts perf send|recv IP PORT SECONDS -f mtcp.conf [-N 1] [--json]
 *   mtcp-ts echo server PORT -f mtcp.conf [-N cores] | echo client IP PORT -f mtcp.conf [-N cores] [-c n] [-s size] [-t seconds] [--json]
 *   mtcp-ts pair <server app and args> -- <client app and args>
 *   mtcp-ts --help | -h | help, mtcp-ts <app> --help, mtcp-ts --version
 * `pair` runs two apps in two worker threads joined by one shm wire (the
 * embedded default connects threads of one process): the client runs to its
 * end, then the server is stopped; the exit status is the client's. When
 * the server fails first (it cannot start, say), the client is stopped and the
 * status is the server's.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
const PAIR = 'mtcp-ts pair <server app and args> -- <client app and args>';
const USAGE = `mtcp-ts <app> [args], mTCP's example applications on mtcp-ts:
  ${EPSERVER}
      HTTP/1.1 file server (GET, HEAD, keep-alive)
  ${EPWGET}
      HTTP load generator: total_requests GETs, concurrency at a time
  ${PERF}
      bulk transfer for SECONDS, Mbit/s
  ${ECHO}
      echo server; echo client: round trips of size bytes, requests/s and latency
  ${PAIR}
      a server app and a client app in one process, on one shm wire (io = shm joins threads of one process only)
  mtcp-ts <app> --help     that app's usage
  mtcp-ts --version
Example: mtcp-ts pair epserver -p www -f mtcp.conf -- epwget 198.18.0.1/index.html 1000 -f config/client.conf`;

/** --help, -h and help: usage on stdout, status 0. */
const HELP = new Set(['--help', '-h', 'help']);

/** The version in the package.json of the mtcp-ts package this file belongs to (its source or its build). */
function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mtcp-ts' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/** Longest `pair` waits for its server app to say it listens before starting the client anyway, ms. */
const PAIR_LISTEN_WAIT_MS = 10_000;

function app(argv: string[]): Promise<number> {
  const entry = APPS[argv[0]];
  if (!entry) {
    process.stderr.write(`mtcp-ts: ${argv[0] === undefined ? 'no app given' : `unknown app ${JSON.stringify(argv[0])}`}\nusage: ${USAGE}\n`);
    return Promise.resolve(2);
  }
  if (argv.slice(1).some((a) => HELP.has(a) && a !== 'help')) {
    process.stdout.write(`usage: ${entry[0]}\n`);
    return Promise.resolve(0);
  }
  return runApp(argv[0], entry[0], () => entry[1](argv.slice(1)));
}

/** How long a side of a pair may take to stop once asked before its thread is terminated, ms. */
const PAIR_STOP_MS = 1000;

/**
 * Run server and client apps in two threads on one shm wire. The client runs to its end, then the server is stopped;
 * when the server fails first (it could not start, say), the client is stopped and the status is the server's.
 */
async function pair(argv: string[]): Promise<number> {
  if (argv.length === 1 && HELP.has(argv[0])) {
    process.stdout.write(`usage: ${PAIR}\n`);
    return 0;
  }
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
    const done = new Promise<number>((resolve) => {
      worker.on('message', (m: PairMessage) => (m.kind === 'listening' ? listened() : resolve(m.code)));
      worker.once('error', (err: Error) => {
        process.stderr.write(`mtcp-ts pair: ${args[0]}: ${err.stack ?? err.message}\n`);
        resolve(1);
      });
      worker.once('exit', (code) => resolve(code === 0 ? 0 : 1));
    });
    void done.then(listened);
    return { worker, done, listening };
  };
  /** Ask a side to stop; terminate its thread if it has not ended within PAIR_STOP_MS. Resolves to its status. */
  const stopSide = async (w: Worker, done: Promise<number>): Promise<number> => {
    w.postMessage('stop');
    const timer = setTimeout(() => void w.terminate(), PAIR_STOP_MS);
    try {
      return await done;
    } finally {
      clearTimeout(timer);
    }
  };
  const { worker: server, done: serverDone, listening } = start(argv.slice(0, cut), 0);
  // The client starts once the server listens on every core it runs (a SYN to a core not yet listening is
  // refused); a server app that never says so gets PAIR_LISTEN_WAIT_MS.
  const early = await Promise.race([
    serverDone, listening.then(() => null), new Promise<null>((r) => setTimeout(() => r(null), PAIR_LISTEN_WAIT_MS).unref()),
  ]);
  if (early !== null) {
    process.stderr.write(`mtcp-ts pair: the server side ended (status ${early}) before the client started\n`);
    return early || 1;
  }
  const { worker: client, done: clientDone } = start(argv.slice(cut + 1), 1);
  let stopping = false;
  const onSigint = (): void => {
    stopping = true;
    server.postMessage('stop');
    client.postMessage('stop');
  };
  process.once('SIGINT', onSigint);
  try {
    const first = await Promise.race([clientDone.then((code) => ({ side: 'client', code })), serverDone.then((code) => ({ side: 'server', code }))]);
    // A server may end on its own once its work is done (perf recv after the sender's close): only a failure stops the client.
    if (first.side === 'server' && first.code !== 0 && !stopping) {
      process.stderr.write(`mtcp-ts pair: the server side ended (status ${first.code}) while the client ran; stopping the client\n`);
      await stopSide(client, clientDone);
      return first.code;
    }
    const code = await clientDone;
    const serverCode = await stopSide(server, serverDone);
    return code !== 0 ? code : serverCode;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

if (isMainThread) {
  const argv = process.argv.slice(2);
  if (argv.length === 1 && HELP.has(argv[0])) process.stdout.write(`usage: ${USAGE}\n`);
  else if (argv.length === 1 && argv[0] === '--version') process.stdout.write(`mtcp-ts ${version()}\n`);
  else process.exitCode = argv[0] === 'pair' ? await pair(argv.slice(1)) : await app(argv);
} else {
  const code = await app((workerData as PairWorkerData).argv);
  parentPort!.postMessage({ kind: 'exit', code } satisfies PairMessage);
  process.exit(code);
}
