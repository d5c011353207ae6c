/**
 * epwget: mTCP's HTTP load generator on mtcp-ts.
 *   mtcp-ts epwget IP[:port]/path total_requests -f mtcp.conf [-N cores] [-c concurrency] [-o outfile] [--json]
 * Opens up to `concurrency` connections at a time, each fetching the path
 * once (as mTCP's epwget), until `total_requests` have completed or failed.
 * It runs -N cores, or the config's num_cores without -N (as mTCP's epwget);
 * with more than one, one pinned worker per core takes an equal share of the
 * requests and of the concurrency, as mTCP's epwget splits them. Prints a line
 * per second and core as mTCP does (connections, MB read and written,
 * completions, mean and max response time, errors), a progress bar on an
 * interactive terminal (one core), and a summary (JSON with --json). -o saves a body.
 */
import { writeFileSync } from 'node:fs';
import { parseIpv4 } from '../src/config/addr.ts';
import { createEpollEvents, MTCP_EPOLLERR, MTCP_EPOLLHUP, MTCP_EPOLLIN, MTCP_EPOLLOUT, MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_MOD } from '../src/epoll/events.ts';
import {
  mtcp_close, mtcp_connect, mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno, mtcp_getsockopt, mtcp_init_rss, mtcp_read,
  mtcp_setsock_nonblock, mtcp_socket, mtcp_write,
} from '../src/mtcp/api.ts';
import { AF_INET, SO_ERROR, SOCK_STREAM, SOL_SOCKET } from '../src/mtcp/constants.ts';
import type { MtcpContext } from '../src/mtcp/context.ts';
import type { CoreEntryOptions } from '../src/mtcp/cores.ts';
import { EAGAIN, ECONNREFUSED, ECONNRESET, EINPROGRESS, errnoName, ETIMEDOUT } from '../src/stack/errno.ts';
import {
  coreCount, integer, parse, runAppOnCores, share, SILENT_PEER_MS, silentPeer, startStack, stopSignal, stopStack, str, UsageError,
} from './lib/app.ts';

export const USAGE = 'mtcp-ts epwget IP[:port]/path total_requests -f mtcp.conf [-N cores] [-c concurrency] [-o outfile] [--json]';

const EVENTS = 1024;

export interface WgetSummary {
  requests: number;
  completed: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  bytesRead: number;
  bytesWritten: number;
  meanResponseUs: number;
  maxResponseUs: number;
  status: Record<string, number>;
  /** Failed requests by cause: refused, timed out, reset, closed early, bad response, not finished (the run ended first), ... */
  errorCauses: Record<string, number>;
}

/** What a failed connection's errno (SO_ERROR, or a call's) is called in epwget's error counts. */
const ERRNO_CAUSES: Record<number, string> = { [ECONNREFUSED]: 'refused', [ETIMEDOUT]: 'timed out', [ECONNRESET]: 'reset' };

function causeOf(errno: number): string {
  return ERRNO_CAUSES[errno] ?? errnoName(errno);
}

export async function epwget(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    f: { type: 'string' }, N: { type: 'string' }, c: { type: 'string' }, o: { type: 'string' }, json: { type: 'boolean' },
  }, true);
  if (positionals.length !== 2) throw new UsageError('expected IP[:port]/path and total_requests');
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?(\/.*)?$/.exec(positionals[0]);
  const ip = m ? parseIpv4(m[1]) : -1;
  if (!m || ip < 0) throw new UsageError(`${positionals[0]}: expected IP[:port]/path, the IP in dotted form`);
  const port = integer(m[2], 'port', 1, 65535, 80);
  const path = m[3] ?? '/';
  const total = integer(positionals[1], 'total_requests', 1, Number.MAX_SAFE_INTEGER, 0);
  const cores = coreCount(str(values.N), str(values.f));
  const concurrency = integer(str(values.c), '-c', 1, 1 << 20, 100);
  const keepBody = str(values.o) !== undefined;
  const signal = stopSignal();
  let summary: WgetSummary;
  let lastBody: Uint8Array | null = null;
  let silence = '';
  if (cores > 1) {
    const data: WgetCoreData = {
      ip, port, path, host: m[1], keepBody, totals: share(total, cores), concurrencies: share(concurrency, cores).map((c) => Math.max(c, 1)),
    };
    const results = (await runAppOnCores(str(values.f), cores, 'epwget', 'epwgetCore', data, signal)) as WgetRun[];
    summary = combine(results.map((r) => r.summary));
    lastBody = results.find((r) => r.lastBody)?.lastBody ?? null;
    silence = results.find((r) => r.silence)?.silence ?? '';
  } else {
    const mctx = startStack(str(values.f), 0, 1);
    try {
      ({ summary, lastBody, silence } = await run(mctx, 0, ip, port, path, m[1], total, concurrency, keepBody, process.stderr.isTTY, signal));
    } finally {
      await stopStack(mctx);
    }
  }
  const outfile = str(values.o);
  if (outfile && lastBody) writeFileSync(outfile, lastBody);
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const causes = Object.entries(summary.errorCauses).map(([cause, n]) => `${cause}: ${n}`).join(', ');
    process.stdout.write(`[ TOTAL ] requests: ${summary.requests}, completes: ${summary.completed}, errors: ${summary.errors}${causes ? ` (${causes})` : ''}, ` +
      `${summary.requestsPerSecond.toFixed(0)} requests/s, read: ${(summary.bytesRead / 1e6).toFixed(2)} MB, ` +
      `resp_time avg: ${summary.meanResponseUs.toFixed(0)} us, max: ${summary.maxResponseUs.toFixed(0)} us\n`);
  }
  if (silence) process.stderr.write(`epwget: ${silence}\n`);
  return summary.errors === 0 && summary.completed === total ? 0 : 1;
}

/** The cores' summaries as one. */
function combine(all: WgetSummary[]): WgetSummary {
  const sum = (f: (s: WgetSummary) => number): number => all.reduce((a, s) => a + f(s), 0);
  const completed = sum((s) => s.completed);
  const seconds = Math.max(...all.map((s) => s.seconds));
  const status: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.status)) status[k] = (status[k] ?? 0) + v;
  const errorCauses: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.errorCauses)) errorCauses[k] = (errorCauses[k] ?? 0) + v;
  return {
    requests: sum((s) => s.requests), completed, errors: sum((s) => s.errors), seconds, requestsPerSecond: completed / seconds,
    bytesRead: sum((s) => s.bytesRead), bytesWritten: sum((s) => s.bytesWritten),
    meanResponseUs: completed ? sum((s) => s.meanResponseUs * s.completed) / completed : 0,
    maxResponseUs: Math.max(...all.map((s) => s.maxResponseUs)), status, errorCauses,
  };
}

/** What every core of a -N run is given: the target, and its share of the requests and concurrency by core. */
interface WgetCoreData {
  ip: number;
  port: number;
  path: string;
  host: string;
  keepBody: boolean;
  totals: number[];
  concurrencies: number[];
}

interface WgetRun {
  summary: WgetSummary;
  lastBody: Uint8Array | null;
  /** Why the run stopped early because nothing answered (silentPeer), or ''. */
  silence: string;
}

/** One core of `epwget -N`: its share of the requests on its context (runOnCores calls it in the core's worker). */
export async function epwgetCore(mctx: MtcpContext, core: number, { signal, data }: CoreEntryOptions): Promise<WgetRun> {
  const d = data as WgetCoreData;
  // As mTCP's epwget: connections from this core to the server come back to this core.
  if (mtcp_init_rss(mctx, 0, 1, d.ip, d.port) < 0) throw new Error(`mtcp_init_rss: ${errnoName(mtcp_errno())}`);
  return run(mctx, core, d.ip, d.port, d.path, d.host, d.totals[core], d.concurrencies[core], d.keepBody && core === 0, false, signal);
}

/** Where a flow is: its socket id indexes the run's per-flow arrays. */
const enum Phase { Free, Connecting, Sending, Head, Body }

/** Largest response head read (bytes). */
const MAX_HEAD = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * One core's run. Flow state lives in typed arrays indexed by socket id and the response head is
 * parsed from the read buffer's bytes, so a request allocates nothing of its own beyond the bytes
 * of a head split across reads and, with -o, the body kept.
 */
async function run(
  mctx: MtcpContext, core: number, ip: number, port: number, path: string, host: string, total: number, concurrency: number,
  keepBody: boolean, tty: boolean, signal: AbortSignal,
): Promise<WgetRun> {
  const ep = mtcp_epoll_create(mctx, EVENTS);
  const events = createEpollEvents(EVENTS);
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: mtcp-ts epwget\r\nConnection: close\r\n\r\n`);
  const buf = Buffer.allocUnsafe(64 * 1024);
  const cap = mctx.sockets.capacity;
  const phase = new Uint8Array(cap);
  const startedAt = new Float64Array(cap);
  const statusOf = new Uint16Array(cap);
  /** Body bytes expected (Infinity without Content-Length: read to the end) and read. */
  const expect = new Float64Array(cap);
  const got = new Float64Array(cap);
  /** A head split across reads: its bytes so far. */
  const partialHeads = new Map<number, Buffer>();
  /** With -o: each flow's body chunks. */
  const bodies = keepBody ? new Map<number, Buffer[]>() : null;
  const head: ResponseHead = { status: 0, contentLength: -1 };
  const statusCounts = new Uint32Array(1000);
  const ev = { events: 0, data: { sockid: 0, ptr: null } };
  const err = { value: 0 };
  const errorCauses: Record<string, number> = {};
  const t0 = performance.now();
  let silence = '';
  let inFlight = 0;
  let started = 0;
  let completed = 0;
  let errors = 0;
  let bytesRead = 0;
  let bytesWritten = 0;
  let respSum = 0;
  let respMax = 0;
  let lastBody: Buffer | null = null;
  // Per-second counters, printed as mTCP's epwget prints them.
  let sec = { connects: 0, read: 0, written: 0, completes: 0, respSum: 0, respMax: 0, errors: 0 };
  let nextReport = t0 + 1000;

  const open = (): void => {
    const id = mtcp_socket(mctx, AF_INET, SOCK_STREAM, 0);
    started++;
    if (id < 0) {
      failed(causeOf(mtcp_errno()));
      return;
    }
    mtcp_setsock_nonblock(mctx, id);
    if (mtcp_connect(mctx, id, { sin_family: AF_INET, sin_addr: ip, sin_port: port }) < 0 && mtcp_errno() !== EINPROGRESS) {
      const cause = causeOf(mtcp_errno());
      mtcp_close(mctx, id);
      failed(cause);
      return;
    }
    inFlight++;
    phase[id] = Phase.Connecting;
    startedAt[id] = performance.now();
    got[id] = 0;
    if (bodies) bodies.set(id, []);
    ev.events = MTCP_EPOLLOUT;
    ev.data.sockid = id;
    mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, id, ev);
  };
  const failed = (cause: string): void => {
    errors++;
    sec.errors++;
    errorCauses[cause] = (errorCauses[cause] ?? 0) + 1;
  };
  /** End a flow: completed when `cause` is '', else failed for that cause. */
  const finish = (id: number, cause: string): void => {
    inFlight--;
    phase[id] = Phase.Free;
    partialHeads.delete(id);
    mtcp_close(mctx, id);
    const body = bodies?.get(id);
    bodies?.delete(id);
    if (cause) {
      failed(cause);
      return;
    }
    const us = (performance.now() - startedAt[id]) * 1000;
    completed++;
    sec.completes++;
    respSum += us;
    sec.respSum += us;
    if (us > respMax) respMax = us;
    if (us > sec.respMax) sec.respMax = us;
    statusCounts[statusOf[id]]++;
    if (body) lastBody = Buffer.concat(body);
  };
  /** Take `n` response bytes of flow `id` from `buf`; false when the response is malformed. */
  const consume = (id: number, n: number): boolean => {
    let data = buf.subarray(0, n);
    if (phase[id] === Phase.Head) {
      const before = partialHeads.get(id);
      if (before) data = Buffer.concat([before, data]);
      const end = data.indexOf(HEAD_END);
      if (end < 0) {
        if (data.length > MAX_HEAD) return false;
        partialHeads.set(id, before ? data : Buffer.from(data));
        return true;
      }
      partialHeads.delete(id);
      if (!parseHead(data, end, head)) return false;
      statusOf[id] = head.status;
      expect[id] = head.contentLength < 0 ? Infinity : head.contentLength;
      phase[id] = Phase.Body;
      data = data.subarray(end + HEAD_END.length);
    }
    got[id] += data.length;
    if (data.length > 0) bodies?.get(id)!.push(Buffer.from(data));
    return true;
  };
  const report = (now: number): void => {
    const done = completed + errors;
    const line = `[CPU ${core}] connect: ${sec.connects}, read: ${(sec.read / 1e6).toFixed(2)} MB, write: ${(sec.written / 1e6).toFixed(2)} MB, ` +
      `completes: ${sec.completes} (resp_time avg: ${sec.completes ? (sec.respSum / sec.completes).toFixed(0) : 0}, max: ${sec.respMax.toFixed(0)} us), errors: ${sec.errors}`;
    if (tty) {
      const width = 30;
      const filled = Math.round((width * done) / total);
      process.stderr.write(`\r${line}\n[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    } else {
      process.stderr.write(`${line}\n`);
    }
    sec = { connects: 0, read: 0, written: 0, completes: 0, respSum: 0, respMax: 0, errors: 0 };
    nextReport = now + 1000;
  };

  while (!signal.aborted && completed + errors < total) {
    while (inFlight < concurrency && started < total) open();
    const n = await mtcp_epoll_wait(mctx, ep, events, EVENTS, 100);
    for (let i = 0; i < n; i++) {
      const id = events[i].data.sockid;
      if (phase[id] === Phase.Free) continue;
      const e = events[i].events;
      if (phase[id] === Phase.Connecting) {
        err.value = 0;
        mtcp_getsockopt(mctx, id, SOL_SOCKET, SO_ERROR, err);
        if (e & (MTCP_EPOLLERR | MTCP_EPOLLHUP) || err.value !== 0) {
          finish(id, err.value !== 0 ? causeOf(err.value) : 'hung up');
          continue;
        }
        phase[id] = Phase.Sending;
        sec.connects++;
      }
      if (phase[id] === Phase.Sending) {
        const w = mtcp_write(mctx, id, request, request.length);
        if (w < 0 && mtcp_errno() === EAGAIN) continue;
        if (w !== request.length) {
          finish(id, w < 0 ? causeOf(mtcp_errno()) : 'request cut short');
          continue;
        }
        phase[id] = Phase.Head;
        bytesWritten += w;
        sec.written += w;
        ev.events = MTCP_EPOLLIN;
        ev.data.sockid = id;
        mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, id, ev);
        continue;
      }
      for (;;) {
        const r = mtcp_read(mctx, id, buf, buf.length);
        if (r > 0) {
          bytesRead += r;
          sec.read += r;
          if (!consume(id, r)) {
            finish(id, 'bad response');
            break;
          }
          if (phase[id] === Phase.Body && got[id] >= expect[id]) {
            finish(id, '');
            break;
          }
          continue;
        }
        if (r < 0 && mtcp_errno() === EAGAIN) break;
        // End of stream: complete only when a response without Content-Length is read to its end.
        if (r < 0) finish(id, causeOf(mtcp_errno()));
        else finish(id, phase[id] === Phase.Body && expect[id] === Infinity ? '' : 'closed before the whole response');
        break;
      }
    }
    const now = performance.now();
    if (now >= nextReport) report(now);
    // Nothing at all came back, not even an ARP reply: waiting for the connections' retries would only say so later.
    if (completed === 0 && now - t0 >= SILENT_PEER_MS && (silence = silentPeer(mctx, host)) !== '') break;
  }
  report(performance.now()); // the last, partial second
  if (tty) process.stderr.write('\n');
  for (let id = 0; id < cap; id++) if (phase[id] !== Phase.Free) mtcp_close(mctx, id);
  // Requests the run ended before (SIGINT, or a silent peer) count as errors too, under their own cause.
  const unfinished = total - completed - errors;
  if (unfinished > 0) errorCauses[silence ? 'no answer' : 'not finished'] = unfinished;
  const seconds = (performance.now() - t0) / 1000;
  const status: Record<string, number> = {};
  statusCounts.forEach((count, code) => count > 0 && (status[code] = count));
  return {
    summary: {
      requests: total, completed, errors: errors + unfinished, seconds,
      requestsPerSecond: completed / seconds, bytesRead, bytesWritten,
      meanResponseUs: completed ? respSum / completed : 0, maxResponseUs: respMax, status, errorCauses,
    },
    lastBody,
    silence,
  };
}

/** A response head's status and Content-Length (-1: none). */
interface ResponseHead {
  status: number;
  contentLength: number;
}

const HTTP_1 = Buffer.from('HTTP/1.');
const CONTENT_LENGTH = Buffer.from('content-length:');
const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;

const isDigit = (b: number): boolean => b >= 48 && b <= 57;

/**
 * Parse the head in bytes [0, end) into `out`: the status line `HTTP/1.x NNN` and a Content-Length header (RFC 9112 §4, §6.3; the field name case-insensitive,
 * RFC 9110 §5.1). False for a malformed head.
 */
function parseHead(b: Buffer, end: number, out: ResponseHead): boolean {
  // 'HTTP/1.' then 0 or 1, a space and three digits.
  if (end < 12 || b.compare(HTTP_1, 0, HTTP_1.length, 0, HTTP_1.length) !== 0 || (b[7] !== 48 && b[7] !== 49) || b[8] !== SP) return false;
  if (!isDigit(b[9]) || !isDigit(b[10]) || !isDigit(b[11])) return false;
  out.status = (b[9] - 48) * 100 + (b[10] - 48) * 10 + (b[11] - 48);
  out.contentLength = -1;
  for (let line = b.indexOf(LF, 12) + 1; line > 0 && line < end; line = b.indexOf(LF, line) + 1) {
    if (!fieldNameIs(b, line, end, CONTENT_LENGTH)) continue;
    let i = line + CONTENT_LENGTH.length;
    while (i < end && (b[i] === SP || b[i] === HTAB)) i++;
    let length = 0;
    const first = i;
    while (i < end && isDigit(b[i])) length = length * 10 + (b[i++] - 48);
    while (i < end && (b[i] === SP || b[i] === HTAB)) i++;
    if (i === first || (i < end && b[i] !== CR) || length > Number.MAX_SAFE_INTEGER) return false;
    // Two different lengths make the response's framing unknown (RFC 9112 §6.3 item 5).
    if (out.contentLength >= 0 && out.contentLength !== length) return false;
    out.contentLength = length;
  }
  return true;
}

/** Does the header line at `at` start with `name` (lower case), ignoring the case of its letters? */
function fieldNameIs(b: Buffer, at: number, end: number, name: Buffer): boolean {
  if (at + name.length > end) return false;
  for (let k = 0; k < name.length; k++) {
    const c = name[k];
    const x = b[at + k];
    if (x !== c && !(c >= 97 && c <= 122 && x === c - 32)) return false;
  }
  return true;
}
