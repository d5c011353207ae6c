/**
 * The scale bench: two stacks (server and client, each in its own pinned
 * worker thread, joined by the shm wire) with `max_concurrency` a little above
 * N, N connections established to 50 listening ports and left idle, then 1% of
 * them, chosen at random, echo a message, then all are closed. Between the
 * phases the main thread reads the process's resident memory, so the figure
 * per connection end is what the two stacks and their applications added for
 * N connections at both ends (2N ends), everything in one process.
 */
import { memoryUsage } from 'node:process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ShmWire } from '../../src/io/shm.ts';
import type { HeldAtEnd, ScaleWorkerCommand, ScaleWorkerReply, ScaleWorkerRequest, StackCounters } from '../scale-worker.ts';
import { CLIENT_IP, SERVER_IP } from './shm-pair.ts';

export interface ScaleFigures {
  connections: number;
  /** Both stacks up (threads started, configs read, contexts made, the server listening), s. */
  startupSeconds: number;
  /** From the first connect until the client saw every connection established and the server accepted them all, s. */
  establishSeconds: number;
  /** Resident memory the N idle connections added, divided by the 2N connection ends. */
  rssBytesPerEnd: number;
  /** Every chosen connection got its message back intact. */
  echoOk: boolean;
  /** Both stacks gave back every control block, buffer, range list, flow, timer and socket. */
  poolsEmpty: boolean;
  /** The process's resident memory after start-up and with every connection established, bytes. */
  rssStartedBytes: number;
  rssEstablishedBytes: number;
  /** Share of a CPU each stack's thread used while the connections sat idle. */
  idleCpuShare: { server: number; client: number };
  /** Each worker's V8 heap in use with every connection established, bytes. */
  heapBytes: { server: number; client: number };
  /** The connections that echoed, and how many got their message back. */
  echoed: { chosen: number; ok: number; seconds: number };
  /** What each stack still held after the close. */
  held: { server: HeldAtEnd; client: HeldAtEnd };
  closeSeconds: number;
}

const LISTENING_PORTS = 50;
/** How long the established connections are left idle before the echo. */
const IDLE_SECONDS = 5;
const BASE_PORT = 10000;
/** Socket ids beyond the connections: the listeners and the epoll instances. */
const SPARE_SOCKETS = 1024;

function conf(ip: string, mac: string, connections: number): string {
  return [
    'io = shm', 'port = shm0', `shm0.addr = ${ip}/24`, `shm0.mac = ${mac}`,
    `max_concurrency = ${connections + SPARE_SOCKETS}`, `max_num_buffers = ${connections + SPARE_SOCKETS}`,
    'rcvbuf = 1024', 'sndbuf = 1024',
    // Idle connections keep an idle timer armed (tcp_timeout), long enough to outlast the bench.
    'tcp_timeout = 600', 'tcp_timewait = 0', 'shm_slots = 4096',
  ].join('\n');
}

/** A worker whose replies are taken in order, by kind. */
class ScaleWorker {
  readonly #worker: Worker;
  readonly #replies: ScaleWorkerReply[] = [];
  #waiter: (() => void) | null = null;
  #failure: Error | null = null;

  constructor(req: ScaleWorkerRequest) {
    this.#worker = new Worker(fileURLToPath(new URL('../bench/scale-worker.js', import.meta.url)), { workerData: req });
    this.#worker.on('message', (m: ScaleWorkerReply) => {
      if (m.kind === 'error') this.#failure = new Error(`${req.role}: ${m.message}`);
      else this.#replies.push(m);
      this.#waiter?.();
    });
    const fail = (err: Error): void => {
      this.#failure ??= new Error(`${req.role}: ${err.stack ?? err.message}`);
      this.#waiter?.();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`exited with ${code}`)));
  }

  send(command: ScaleWorkerCommand): void {
    this.#worker.postMessage(command);
  }

  async next<K extends ScaleWorkerReply['kind']>(kind: K): Promise<Extract<ScaleWorkerReply, { kind: K }>> {
    for (;;) {
      const i = this.#replies.findIndex((m) => m.kind === kind);
      if (i >= 0) return this.#replies.splice(i, 1)[0] as Extract<ScaleWorkerReply, { kind: K }>;
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  async end(): Promise<void> {
    this.send('stop');
    await this.#worker.terminate();
  }
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

function everythingBack(h: HeldAtEnd): boolean {
  return Object.values(h).every((n) => n === 0);
}

export async function runScaleBench(connections: number, write: (text: string) => void): Promise<ScaleFigures> {
  const cpus = availableParallelism();
  const wire = ShmWire.create({ slots: 4096 }).share();
  const request = (role: 'server' | 'client', ip: string, mac: string): ScaleWorkerRequest => ({
    role, confText: conf(ip, mac, connections), wire, port: role === 'server' ? 0 : 1, cpu: role === 'server' ? 0 : 1 % cpus,
    connections, basePort: BASE_PORT, ports: LISTENING_PORTS, serverIp: SERVER_IP, window: 512, messageSize: 64, echoShare: 0.01,
    seed: 0x5ca1e,
  });
  const t0 = performance.now();
  const server = new ScaleWorker(request('server', SERVER_IP, '02:00:c6:12:00:01'));
  const client = new ScaleWorker(request('client', CLIENT_IP, '02:00:c6:12:00:02'));
  try {
    const [serverUp, clientUp] = await Promise.all([server.next('ready'), client.next('ready')]);
    const startupSeconds = seconds(t0);
    const rssStartedBytes = memoryUsage.rss();
    write(`  start-up          ${startupSeconds.toFixed(2)} s (two stacks, max_concurrency = ${connections + SPARE_SOCKETS}), ` +
      `RSS ${mib(rssStartedBytes)}\n`);

    const t1 = performance.now();
    client.send('connect');
    const [up, accepted] = await Promise.all([client.next('established'), server.next('established')]);
    const establishSeconds = seconds(t1);
    const rssEstablishedBytes = memoryUsage.rss();
    const rssBytesPerEnd = (rssEstablishedBytes - rssStartedBytes) / (2 * connections);
    write(`  established       ${up.count.toLocaleString('en-US')} in ${establishSeconds.toFixed(2)} s ` +
      `(${Math.round(up.count / establishSeconds).toLocaleString('en-US')}/s; ${up.failed} failed; the server accepted ${accepted.count.toLocaleString('en-US')})\n`);
    write(phase(connections, serverUp.counters, accepted.counters, clientUp.counters, up.counters));
    write(`  memory, idle      RSS ${mib(rssEstablishedBytes)} in all, ${Math.round(rssBytesPerEnd)} bytes per connection end; ` +
      `heap ${mib(accepted.heapBytes)} (server), ${mib(up.heapBytes)} (client)\n`);

    // Idle: what holding the connections costs when nothing happens (timers armed, the loops polling and sleeping).
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    server.send('report');
    client.send('report');
    const [serverIdle, clientIdle] = await Promise.all([server.next('report'), client.next('report')]);
    const idleCpu = (a: StackCounters, b: StackCounters): number => (b.cpuSeconds - a.cpuSeconds) / IDLE_SECONDS;
    const idleCpuShare = { server: idleCpu(accepted.counters, serverIdle.counters), client: idleCpu(up.counters, clientIdle.counters) };
    write(`  idle ${IDLE_SECONDS} s          CPU used: ${(idleCpuShare.server * 100).toFixed(1)}% (server), ${(idleCpuShare.client * 100).toFixed(1)}% (client); ` +
      `RSS ${mib(memoryUsage.rss())}\n`);

    const t2 = performance.now();
    client.send('echo');
    const echo = await client.next('echoed');
    const echoSeconds = seconds(t2);
    const echoOk = echo.ok === echo.chosen && up.count === connections;
    write(`  echo              ${echo.ok.toLocaleString('en-US')} of ${echo.chosen.toLocaleString('en-US')} random connections got their ` +
      `message back in ${echoSeconds.toFixed(2)} s: ${echoOk ? 'ok' : 'FAILED'}\n`);

    const t3 = performance.now();
    client.send('close');
    const [clientEnd, serverEnd] = await Promise.all([client.next('closed'), server.next('closed')]);
    const closeSeconds = seconds(t3);
    const poolsEmpty = everythingBack(clientEnd.held) && everythingBack(serverEnd.held);
    write(phase(connections, serverIdle.counters, serverEnd.counters, clientIdle.counters, clientEnd.counters));
    write(`  closed            in ${closeSeconds.toFixed(2)} s; pools back to empty: ${poolsEmpty ? 'yes' : 'NO'}` +
      `${poolsEmpty ? '' : ` (server holds ${JSON.stringify(serverEnd.held)}, client ${JSON.stringify(clientEnd.held)})`}\n`);
    return {
      connections, startupSeconds, establishSeconds, rssBytesPerEnd, echoOk, poolsEmpty, rssStartedBytes, rssEstablishedBytes,
      idleCpuShare, heapBytes: { server: accepted.heapBytes, client: up.heapBytes }, echoed: { chosen: echo.chosen, ok: echo.ok, seconds: echoSeconds },
      held: { server: serverEnd.held, client: clientEnd.held }, closeSeconds,
    };
  } finally {
    await Promise.all([server.end(), client.end()]);
  }
}

/** What each stack did in a phase: CPU time (per connection), frames, and what went wrong. */
function phase(connections: number, server0: StackCounters, server1: StackCounters, client0: StackCounters, client1: StackCounters): string {
  const side = (name: string, a: StackCounters, b: StackCounters): string => {
    const cpu = b.cpuSeconds - a.cpuSeconds;
    const drops = Object.entries(b.drops).map(([k, v]) => [k, v - (a.drops[k] ?? 0)]).filter(([, v]) => v !== 0);
    return `${name} CPU ${cpu.toFixed(2)} s (${((cpu * 1e6) / connections).toFixed(1)} µs per connection), ` +
      `${(b.framesIn - a.framesIn).toLocaleString('en-US')} frames in, ${(b.framesOut - a.framesOut).toLocaleString('en-US')} out, ` +
      `${b.retransmits - a.retransmits} retransmitted${drops.length ? `, dropped ${drops.map(([k, v]) => `${v} ${k}`).join(', ')}` : ''}`;
  };
  return `                    ${side('server', server0, server1)}\n                    ${side('client', client0, client1)}\n`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
