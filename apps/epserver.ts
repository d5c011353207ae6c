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
}

class FileCache {
  readonly #files = new Map<string, Buffer>();
  #bytes = 0;
  constructor(readonly root: string) {}

  /** The file for a URL path: a Buffer, 404, or 403 for a path outside the root. */
  get(urlPath: string): Buffer | 404 | 403 {
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
    if (hit) return hit;
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
    }
    return hit;
  }
}

const STATUS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 431: 'Request Header Fields Too Large', 505: 'HTTP Version Not Supported' };

function response(status: number, body: Buffer | string, keepAlive: boolean, head: boolean): Buffer[] {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const headers = `HTTP/1.1 ${status} ${STATUS[status]}\r\nServer: mtcp-ts epserver\r\nContent-Length: ${b.length}\r\n` +
    `Connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  return head ? [Buffer.from(headers)] : [Buffer.from(headers), b];
}

/** Answer every complete request in conn.input; returns false when the connection must close after the output. */
function answer(cache: FileCache, conn: Conn): void {
  for (;;) {
    const end = conn.input.indexOf('\r\n\r\n');
    if (end < 0) {
      if (conn.input.length > MAX_HEAD) {
        conn.output.push(...response(431, 'request head too large\n', false, false));
        conn.closeAfter = true;
        conn.input = Buffer.alloc(0);
      }
      return;
    }
    const head = conn.input.subarray(0, end).toString('latin1');
    conn.input = conn.input.subarray(end + 4);
    const lines = head.split('\r\n');
    const m = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(lines[0]);
    if (!m) {
      conn.output.push(...response(400, 'bad request line\n', false, false));
      conn.closeAfter = true;
      return;
    }
    const [, method, target, minor] = m;
    const connection = lines.find((l) => /^connection:/i.test(l))?.slice(11).trim().toLowerCase() ?? '';
    const keepAlive = minor === '1' ? connection !== 'close' : connection === 'keep-alive';
    // A body (Content-Length) is not expected on GET and HEAD; anything else is refused and the connection closed.
    if (method !== 'GET' && method !== 'HEAD') {
      conn.output.push(...response(405, 'only GET and HEAD\n', false, false));
      conn.closeAfter = true;
      return;
    }
    const file = cache.get(target);
    const status = typeof file === 'number' ? file : 200;
    const body = typeof file === 'number' ? `${status} ${STATUS[status]}\n` : file;
    conn.output.push(...response(status, body, keepAlive, method === 'HEAD'));
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
  /** Send what is queued; returns false when the connection closed. */
  const flush = (id: number, c: Conn): boolean => {
    while (c.output.length > 0) {
      const b = c.output[0];
      const n = mtcp_write(mctx, id, b.subarray(c.outOff), b.length - c.outOff);
      if (n < 0) {
        if (mtcp_errno() !== EAGAIN) {
          close(id);
          return false;
        }
        ev.events = MTCP_EPOLLIN | MTCP_EPOLLOUT;
        ev.data.sockid = id;
        mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, id, ev);
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
    ev.events = MTCP_EPOLLIN;
    ev.data.sockid = id;
    mtcp_epoll_ctl(mctx, ep, MTCP_EPOLL_CTL_MOD, id, ev);
    return true;
  };

  while (!signal.aborted) {
    const n = await mtcp_epoll_wait(mctx, ep, events, EVENTS, 100);
    for (let i = 0; i < n; i++) {
      const id = events[i].data.sockid;
      if (id === ls) {
        for (let c; (c = mtcp_accept(mctx, ls, null)) >= 0;) {
          conns.set(c, { input: Buffer.alloc(0), output: [], outOff: 0, closeAfter: false });
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
            c.input = c.input.length === 0 ? Buffer.from(buf.subarray(0, r)) : Buffer.concat([c.input, buf.subarray(0, r)]);
            continue;
          }
          eof = r === 0 || mtcp_errno() !== EAGAIN;
          break;
        }
        if (!c.closeAfter) answer(cache, c);
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

