/**
 * epserver: mTCP's epoll HTTP/1.1 file server on mtcp-ts.
 *   mtcp-ts epserver -p www_dir -f mtcp.conf [-N cores] [-c core] [-b backlog] [--port 80]
 * Serves GET and HEAD from www_dir with keep-alive and pipelining, a file
 * cache, Content-Length on every response, 404 for a missing file and 403 for
 * a path that would leave www_dir. It runs -N cores, or the config's
 * num_cores without -N (as mTCP's epserver): with more than one, one pinned
 * worker per core listens on the port (each takes the connections RSS brings
 * to its queue); -c serves just that core of the config's. Stops cleanly on SIGINT, printing each
 * core's frames and CPU time (frames per CPU-second).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { createEpollEvents, MTCP_EPOLLIN, MTCP_EPOLLOUT, MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_MOD } from '../src/epoll/events.ts';
import {
  mtcp_accept, mtcp_bind, mtcp_close, mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno, mtcp_listen,
  mtcp_read, mtcp_setsock_nonblock, mtcp_socket, mtcp_write,
} from '../src/mtcp/api.ts';
import { AF_INET, SOCK_STREAM } from '../src/mtcp/constants.ts';
import type { MtcpContext } from '../src/mtcp/context.ts';
import { EAGAIN, errnoName } from '../src/stack/errno.ts';
import type { CoreEntryOptions } from '../src/mtcp/cores.ts';
import { measureCoreLoad } from '../src/mtcp/thread-cpu.ts';
import { announceListening, coreCount, integer, parse, runAppOnCores, startStack, stopSignal, stopStack, str, UsageError } from './lib/app.ts';

export const USAGE = 'mtcp-ts epserver -p www_dir -f mtcp.conf [-N cores] [-c core] [-b backlog] [--port 80]';

/** Largest request head accepted (mTCP's HTTP_HEADER_LEN is 1,024; browsers send more). */
const MAX_HEAD = 16 * 1024;
/** Bytes of files kept in memory. */
const CACHE_BYTES = 256 << 20;
const EVENTS = 1024;

interface Conn {
  /** Request bytes not yet answered. */
  input: Buffer;
  /** Response bytes not yet sent. */
  output: Buffer[];
  outOff: number;
  /** Close once the output is sent. */
  closeAfter: boolean;
  /** MTCP_EPOLLOUT is in the socket's registered interest (output is waiting for room). */
  watchingOut: boolean;
}

const EMPTY = Buffer.alloc(0);
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/;
const CONNECTION = /\r\nconnection:[ \t]*([^\r]*)/i;
/** Targets remembered with their file (request targets map to files many to one; a hostile client must not grow it). */
const TARGETS_MAX = 4096;
/** Files up to this size are also kept as one buffer with their headers: one write per response. */
const WHOLE_MAX = 16 * 1024;

/** A cached file and its responses, built once. */
interface Served {
  body: Buffer;
  /** Headers for GET and HEAD, keep-alive and close. */
  headKeepAlive: Buffer;
  headClose: Buffer;
  /** Headers and body in one buffer (small files; null otherwise). */
  wholeKeepAlive: Buffer | null;
  wholeClose: Buffer | null;
}

class FileCache {
  readonly #files = new Map<string, Buffer>();
  /** Request targets already resolved to a cached file, with its ready-made responses. */
  readonly #targets = new Map<string, Served>();
  #bytes = 0;
  /** The last get() returned a file kept in the cache (a later change on disk is not seen, as for #files). */
  #cachedLast = false;
  constructor(readonly root: string) {}

  /** The cached file a target names, with its responses (undefined: not seen, or not cached; use get()). */
  served(target: string): Served | undefined {
    return this.#targets.get(target);
  }

  /** get(), and on a cached 200 remember the target's responses for served(). */
  resolve(target: string): Served | 404 | 403 {
    const file = this.get(target);
    if (typeof file === 'number') return file;
    const keepAlive = headers(200, file.length, true);
    const close = headers(200, file.length, false);
    const whole = file.length <= WHOLE_MAX;
    const served: Served = {
      body: file, headKeepAlive: keepAlive, headClose: close,
      wholeKeepAlive: whole ? Buffer.concat([keepAlive, file]) : null, wholeClose: whole ? Buffer.concat([close, file]) : null,
    };
    if (this.#targets.size < TARGETS_MAX && this.#cachedLast) this.#targets.set(target, served);
    return served;
  }

  /** The file for a URL path: a Buffer, 404, or 403 for a path outside the root. */
  get(urlPath: string): Buffer | 404 | 403 {
    this.#cachedLast = false;
    let rel: string;
    try {
      rel = decodeURIComponent(urlPath.split('?')[0]);
    } catch {
      return 404;
    }
    if (rel.includes('\0')) return 404;
    const full = normalize(join(this.root, rel));
    if (full !== this.root && !full.startsWith(this.root + sep)) return 403;
    let hit = this.#files.get(full);
    if (hit) {
      this.#cachedLast = true;
      return hit;
    }
    try {
      let path = full;
      if (statSync(path).isDirectory()) path = join(path, 'index.html');
      // Symbolic links may not lead out of the root either.
      const real = realpathSync(path);
      if (real !== this.root && !real.startsWith(this.root + sep)) return 403;
      hit = readFileSync(real);
    } catch {
      return 404;
    }
    if (this.#bytes + hit.length <= CACHE_BYTES) {
      this.#files.set(full, hit);
      this.#bytes += hit.length;
      this.#cachedLast = true;
    }
    return hit;
  }
}

const STATUS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 431: 'Request Header Fields Too Large', 505: 'HTTP Version Not Supported' };

function headers(status: number, length: number, keepAlive: boolean): Buffer {
  return Buffer.from(`HTTP/1.1 ${status} ${STATUS[status]}\r\nServer: mtcp-ts epserver\r\nContent-Length: ${length}\r\n` +
    `Connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`, 'latin1');
}

/** Queue an error response (a short text body). */
function respondError(conn: Conn, status: number, text: string, keepAlive: boolean, head: boolean): void {
  const b = Buffer.from(text);
  conn.output.push(headers(status, b.length, keepAlive));
  if (!head) conn.output.push(b);
}

/** Queue a file's response. */
function respondFile(conn: Conn, f: Served, keepAlive: boolean, head: boolean): void {
  if (head) conn.output.push(keepAlive ? f.headKeepAlive : f.headClose);
  else if (f.wholeKeepAlive !== null) conn.output.push(keepAlive ? f.wholeKeepAlive : f.wholeClose!);
  else conn.output.push(keepAlive ? f.headKeepAlive : f.headClose, f.body);
}

/**
 * Answer every complete request in conn.input (what is left is an incomplete head); sets closeAfter
 * when the connection must close after the output.
 */
function answer(cache: FileCache, conn: Conn): void {
  for (;;) {
    const end = conn.input.indexOf(HEAD_END);
    if (end < 0) {
      if (conn.input.length > MAX_HEAD) {
        respondError(conn, 431, 'request head too large\n', false, false);
        conn.closeAfter = true;
        conn.input = EMPTY;
      }
      return;
    }
    const head = conn.input.toString('latin1', 0, end);
    conn.input = conn.input.subarray(end + 4);
    const lineEnd = head.indexOf('\r\n');
    const m = REQUEST_LINE.exec(lineEnd < 0 ? head : head.slice(0, lineEnd));
    if (!m) {
      respondError(conn, 400, 'bad request line\n', false, false);
      conn.closeAfter = true;
      return;
    }
    const [, method, target, minor] = m;
    const c = lineEnd < 0 ? null : CONNECTION.exec(head);
    const connection = c ? c[1].trim().toLowerCase() : '';
    const keepAlive = minor === '1' ? connection !== 'close' : connection === 'keep-alive';
    // A body (Content-Length) is not expected on GET and HEAD; anything else is refused and the connection closed.
    if (method !== 'GET' && method !== 'HEAD') {
      respondError(conn, 405, 'only GET and HEAD\n', false, false);
      conn.closeAfter = true;
      return;
    }
    const file = cache.served(target) ?? cache.resolve(target);
    if (typeof file === 'number') respondError(conn, file, `${file} ${STATUS[file]}\n`, keepAlive, method === 'HEAD');
    else respondFile(conn, file, keepAlive, method === 'HEAD');
    if (!keepAlive) {
      conn.closeAfter = true;
      return;
    }
  }
}

export async function epserver(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    p: { type: 'string' }, f: { type: 'string' }, N: { type: 'string' }, c: { type: 'string' }, b: { type: 'string' },
    port: { type: 'string' },
  });
  const dir = str(values.p);
  if (!dir) throw new UsageError('-p www_dir is required');
  let root: string;
  try {
    root = realpathSync(dir);
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new UsageError(`-p ${dir}: ${(err as Error).message}`);
  }
  if (values.c !== undefined && integer(str(values.N), '-N', 1, 128, 1) > 1) {
    throw new UsageError('-c picks the core of a one-core run; with -N every core from 0 to N-1 runs');
  }
  // -c serves that one core of the config's (mTCP's one process per core); otherwise -N cores, or the config's num_cores.
  const cores = values.c !== undefined ? 1 : coreCount(str(values.N), str(values.f));
  const core = integer(str(values.c), '-c', 0, 127, 0);
  const backlog = integer(str(values.b), '-b', 1, 1 << 20, 4096);
  const port = integer(str(values.port), '--port', 1, 65535, 80);
  const signal = stopSignal();
  if (cores > 1) {
    const data: CoreData = { root, port, backlog };
    const results = (await runAppOnCores(str(values.f), cores, 'epserver', 'epserverCore', data, signal, announceListening)) as { core: number; accepted: number }[];
    for (const r of results) process.stderr.write(`epserver: [CPU ${r.core}] ${r.accepted} connections accepted\n`);
  } else {
    const mctx = startStack(str(values.f), core, values.c === undefined ? 1 : undefined);
    try {
      await serve(mctx, new FileCache(root), port, backlog, signal);
    } finally {
      await stopStack(mctx);
    }
  }
  process.stderr.write('epserver: stopped\n');
  return 0;
}

/** What every core of a -N run serves. */
interface CoreData {
  root: string;
  port: number;
  backlog: number;
}

/** One core of `epserver -N`: serves on its context until stopped (runOnCores calls it in the core's worker). */
export async function epserverCore(mctx: MtcpContext, core: number, { signal, data }: CoreEntryOptions): Promise<{ core: number; accepted: number }> {
  const d = data as CoreData;
  await serve(mctx, new FileCache(d.root), d.port, d.backlog, signal, `[CPU ${core}] `);
  return { core, accepted: mctx.stack.stats.tcpPassiveOpens };
}

async function serve(mctx: MtcpContext, cache: FileCache, port: number, backlog: number, signal: AbortSignal, tag = ''): Promise<void> {
  const ep = mtcp_epoll_create(mctx, EVENTS);
  const ls = mtcp_socket(mctx, AF_INET, SOCK_STREAM, 0);
  mtcp_setsock_nonblock(mctx, ls);
  if (mtcp_bind(mctx, ls, { sin_family: AF_INET, sin_addr: 0, sin_port: port }) < 0 || mtcp_listen(mctx, ls, backlog) < 0) {
    throw new UsageError(`cannot listen on port ${port}: ${errnoName(mtcp_errno())}`);
  }
  const ev = { events: MTCP_EPOLLIN, data: { sockid: ls, ptr: null } };
  mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, ls, ev);
  process.stderr.write(`epserver: ${tag}serving ${cache.root} on port ${port}\n`);
  announceListening();
  const load = measureCoreLoad(mctx.stack.stats);
  const conns = new Map<number, Conn>();
  const events = createEpollEvents(EVENTS);
  const buf = Buffer.allocUnsafe(64 * 1024);

  const close = (id: number): void => {
    conns.delete(id);
    mtcp_close(mctx, id);
  };
  /** Register `out` (wait for room to write) or not, when that changes. */
  const watchOut = (id: number, c: Conn, out: boolean): void => {
    if (c.watchingOut === out) return;
    c.watchingOut = out;
    ev.events = out ? MTCP_EPOLLIN | MTCP_EPOLLOUT : MTCP_EPOLLIN;
    ev.data.sockid = id;
    mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, id, ev);
  };
  /** Send what is queued; returns false when the connection closed. */
  const flush = (id: number, c: Conn): boolean => {
    while (c.output.length > 0) {
      const b = c.output[0];
      const n = mtcp_write(mctx, id, c.outOff === 0 ? b : b.subarray(c.outOff), b.length - c.outOff);
      if (n < 0) {
        if (mtcp_errno() !== EAGAIN) {
          close(id);
          return false;
        }
        watchOut(id, c, true);
        return true;
      }
      c.outOff += n;
      if (c.outOff === b.length) {
        c.output.shift();
        c.outOff = 0;
      }
    }
    if (c.closeAfter) {
      close(id);
      return false;
    }
    watchOut(id, c, false);
    return true;
  };

  while (!signal.aborted) {
    const n = await mtcp_epoll_wait(mctx, ep, events, EVENTS, 100);
    for (let i = 0; i < n; i++) {
      const id = events[i].data.sockid;
      if (id === ls) {
        for (let c; (c = mtcp_accept(mctx, ls, null)) >= 0;) {
          conns.set(c, { input: EMPTY, output: [], outOff: 0, closeAfter: false, watchingOut: false });
          ev.events = MTCP_EPOLLIN;
          ev.data.sockid = c;
          mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_ADD, c, ev);
        }
        continue;
      }
      const c = conns.get(id);
      if (!c) continue;
      if (events[i].events & MTCP_EPOLLIN) {
        let eof = false;
        for (;;) {
          const r = mtcp_read(mctx, id, buf, buf.length);
          if (r > 0) {
            if (c.closeAfter) continue; // the rest is not answered
            // Parsed in place: only an incomplete head left over is copied out of the shared read buffer.
            c.input = c.input.length === 0 ? buf.subarray(0, r) : Buffer.concat([c.input, buf.subarray(0, r)]);
            answer(cache, c);
            if (c.input.length > 0 && c.input.buffer === buf.buffer) c.input = Buffer.from(c.input);
            continue;
          }
          eof = r === 0 || mtcp_errno() !== EAGAIN;
          break;
        }
        if (eof) c.closeAfter = true;
      }
      flush(id, c);
    }
  }
  for (const id of conns.keys()) mtcp_close(mctx, id);
  mtcp_close(mctx, ls);
  const l = load();
  process.stderr.write(`epserver: ${tag}${l.frames} frames in and out in ${l.cpuSeconds.toFixed(3)} CPU s: ` +
    `${Math.round(l.framesPerCpuSecond)} frames per CPU-second\n`);
}

