/**
 * `MTCP_CONF=mtcp.conf node --import mtcp-ts/register app.js`: run an unmodified
 * Node program on mtcp-ts. This module starts the stack the config describes
 * and routes the program's node:net, node:http, node:https and node:tls
 * servers and clients through it for the addresses the config's port owns
 * (src/net/register.ts says which); everything else stays on the kernel.
 *
 * With num_cores = 1 the program runs in the main thread on one context. With
 * more, the main thread runs nothing of the program: it starts one pinned
 * worker per core (runOnCores), each with its context and its own copy of the
 * program (as mTCP runs one thread per core), and exits with the run once every
 * core has stopped (SIGINT or SIGTERM).
 *
 * Worker threads inherit the --import; there this module only exports the
 * per-core entry and starts nothing.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { mtcp_create_context, mtcp_init, mtcp_runtime } from './mtcp/api.ts';
import type { MtcpContext } from './mtcp/context.ts';
import { runOnCores, type CoreEntryOptions } from './mtcp/cores.ts';
import { routeNodeSockets } from './net/register.ts';

/** What each core's worker gets: the program and the arguments it was started with. */
interface ProgramData {
  argv: string[];
}

/** runOnCores' per-core entry: route this worker's sockets through its context, run the program, stop with the run. */
export async function runProgramOnCore(mctx: MtcpContext, _core: number, { signal, data }: CoreEntryOptions): Promise<void> {
  const { argv } = data as ProgramData;
  process.argv = [...argv];
  routeNodeSockets(mctx, mtcp_runtime()!.config);
  const stopped = new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }));
  await import(pathToFileURL(resolve(argv[1])).href);
  await stopped;
}

/**
 * process.execArgv without this module's --import: child processes (fork, cluster) inherit execArgv, and
 * run on the kernel rather than start a second stack on the port this process owns.
 */
function withoutRegister(execArgv: string[]): string[] {
  const isThis = (spec: string): boolean => spec === 'mtcp-ts/register' || pathToFileURL(resolve(spec)).href === import.meta.url;
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i];
    if (a === '--import' && i + 1 < execArgv.length && isThis(execArgv[i + 1])) i++;
    else if (!(a.startsWith('--import=') && isThis(a.slice('--import='.length)))) out.push(a);
  }
  return out;
}

function fail(message: string): never {
  process.stderr.write(`mtcp-ts/register: ${message}\n`);
  process.exit(1);
}

if (isMainThread) {
  const conf = process.env.MTCP_CONF;
  if (!conf) fail('set MTCP_CONF to the mtcp.conf to run on, e.g. MTCP_CONF=mtcp.conf node --import mtcp-ts/register app.js');
  if (mtcp_init(conf) < 0) fail(`cannot start the stack from ${conf} (the reason is above)`);
  const runtime = mtcp_runtime()!;
  process.execArgv = withoutRegister(process.execArgv);
  if (runtime.config.numCores === 1) {
    const mctx = mtcp_create_context(0) ?? fail(`cannot make the context of core 0 from ${conf} (the reason is above)`);
    routeNodeSockets(mctx, runtime.config);
  } else {
    if (process.argv[1] === undefined) fail(`num_cores = ${runtime.config.numCores} runs a program file on each core: give one (node --import mtcp-ts/register app.js)`);
    const run = runOnCores(runtime, import.meta.url, { entry: 'runProgramOnCore', data: { argv: process.argv } satisfies ProgramData });
    process.once('SIGTERM', () => run.stop());
    // The program's own main module must not run in this thread: hold it until the cores are done.
    const code = await run.done.then(() => 0, (err: Error) => {
      process.stderr.write(`mtcp-ts/register: ${err.message}\n`);
      return 1;
    });
    runtime.destroy();
    process.exit(code);
  }
}
