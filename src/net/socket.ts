/**
 * A `node:net`-style Socket over an mtcp-ts connection: a stream.Duplex
 * whose reads and writes go to the context's TCP, driven by its epoll
 * (loop.ts). Backpressure works both ways: a full send buffer holds the
 * write callback until MTCP_EPOLLOUT, and a reader that stops pulling stops
 * reading, so the receive window closes on the peer.
 */
import { Duplex } from 'node:stream';
import { formatIpv4, parseIpv4 } from '../config/addr.ts';
import { MTCP_EPOLLERR, MTCP_EPOLLHUP, MTCP_EPOLLIN, MTCP_EPOLLOUT, MTCP_EPOLLRDHUP } from '../epoll/events.ts';
import {
  mtcp_abort, mtcp_bind, mtcp_close, mtcp_connect, mtcp_errno, mtcp_getpeername, mtcp_getsockname, mtcp_getsockopt,
  mtcp_read, mtcp_runtime, mtcp_setsock_nonblock, mtcp_setsockopt, mtcp_shutdown, mtcp_socket, mtcp_socket_ioctl,
  mtcp_write, type SockAddrIn,
} from '../mtcp/api.ts';
import {
  AF_INET, FIONREAD, IPPROTO_TCP, SHUT_WR, SO_ERROR, SO_KEEPALIVE, SOCK_STREAM, SOL_SOCKET, TCP_KEEPIDLE, TCP_NODELAY,
} from '../mtcp/constants.ts';
import type { MtcpContext } from '../mtcp/context.ts';
import { EAGAIN, ECONNREFUSED, ECONNRESET, EINPROGRESS, EINVAL } from '../stack/errno.ts';
import { netError } from './errors.ts';
import { NetLoop } from './loop.ts';

const EMPTY = new Uint8Array(0);
/** The one-byte read of a pull that found nothing buffered. */
const SCRATCH = Buffer.alloc(1);

export interface SocketOptions {
  /** The context (core) the socket lives on; default: the first context of this thread's mtcp_init. */
  mctx?: MtcpContext;
  /** Keep the writable side open after the peer's FIN (default false: end it too, as node:net). */
  allowHalfOpen?: boolean;
}

export interface ConnectOptions {
  port: number;
  /** IPv4 address in dotted form (there is no resolver in the stack). */
  host?: string;
  localAddress?: string;
  localPort?: number;
  timeout?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

/** The context used when none is given: the first one this thread's mtcp_init runtime created. */
export function defaultContext(): MtcpContext {
  const rt = mtcp_runtime();
  const first = rt ? rt.contexts.values().next() : null;
  if (!first || first.done) {
    throw new Error('mtcp-ts/net: no context in this thread: call mtcp_init() and mtcp_create_context(core) first, or pass { mctx }');
  }
  return first.value;
}

export function parseHost(host: string, what: string): number {
  const ip = parseIpv4(host);
  if (ip < 0) throw new TypeError(`mtcp-ts/net: ${what} must be an IPv4 address in dotted form (the stack has no resolver), got ${JSON.stringify(host)}`);
  return ip;
}

export function validPort(port: unknown, what: string): number {
  const p = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) {
    throw new RangeError(`mtcp-ts/net: ${what} must be an integer from 0 to 65535, got ${String(port)}`);
  }
  return p;
}

export class Socket extends Duplex {
  readonly #mctx: MtcpContext;
  readonly #loop: NetLoop;
  #sockid = -1;
  /** Whether connect() has started and not finished. */
  connecting = false;
  bytesRead = 0;
  /** Bytes handed to the stack. */
  #written = 0;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: string | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  /** The stream asked for data and has not said stop. */
  #wantRead = false;
  #eof = false;
  /**
   * The write in progress and its callback (null: none): one chunk (_write), or the chunks a cork
   * gathered (_writev, then #pendingData is the current one of #pendingList).
   */
  #pendingData: Uint8Array = EMPTY;
  #pendingList: readonly { chunk: Buffer }[] | null = null;
  #pendingIndex = 0;
  /** How far into #pendingData it got, and bytes of the whole write sent so far. */
  #pendingOff = 0;
  #pendingDone = 0;
  #pendingCb: ((err?: Error | null) => void) | null = null;
  #timeoutMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #noDelay: boolean | null = null;
  #keepAlive: [boolean, number] | null = null;
  readonly #addr: SockAddrIn = { sin_family: AF_INET, sin_port: 0, sin_addr: 0 };
  readonly #ref = { value: 0 };

  constructor(options: SocketOptions = {}) {
    super({ allowHalfOpen: options.allowHalfOpen ?? false, decodeStrings: true, emitClose: true, autoDestroy: true });
    this.#mctx = options.mctx ?? defaultContext();
    this.#loop = NetLoop.of(this.#mctx);
  }

  /** @internal A connection a Server accepted. */
  static accepted(mctx: MtcpContext, sockid: number, allowHalfOpen: boolean): Socket {
    const s = new Socket({ mctx, allowHalfOpen });
    s.#sockid = sockid;
    mtcp_setsock_nonblock(mctx, sockid);
    s.#fillAddresses();
    s.#loop.watch(sockid, s.#interest(), (ev) => s.#onEvent(ev));
    return s;
  }

  /** The mtcp socket id (-1 before connect and after close). */
  get sockid(): number {
    return this.#sockid;
  }

  get bytesWritten(): number {
    return this.#written + this.writableLength - this.#pendingDone;
  }

  get pending(): boolean {
    return this.#sockid < 0 || this.connecting;
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.#sockid < 0 || this.destroyed) return 'closed';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  connect(options: ConnectOptions, connectListener?: () => void): this;
  connect(port: number, host?: string, connectListener?: () => void): this;
  connect(port: number, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const [opts, cb] = normalizeConnectArgs(args);
    if (this.#sockid >= 0 || this.connecting) throw new Error('mtcp-ts/net: socket is already connected or connecting');
    const port = validPort(opts.port, 'port');
    if (opts.host === undefined) throw new TypeError('mtcp-ts/net: connect needs a host (an IPv4 address)');
    const host = opts.host;
    const ip = parseHost(host, 'host');
    if (cb) this.once('connect', cb);
    if (opts.timeout !== undefined) this.setTimeout(opts.timeout);
    if (opts.noDelay) this.setNoDelay(true);
    if (opts.keepAlive) this.setKeepAlive(true, opts.keepAliveInitialDelay ?? 0);
    const m = this.#mctx;
    const id = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
    if (id < 0) return this.#failSoon(mtcp_errno(), 'connect', host, port);
    this.#sockid = id;
    mtcp_setsock_nonblock(m, id);
    if (opts.localAddress !== undefined || opts.localPort !== undefined) {
      const a = this.#addr;
      a.sin_addr = opts.localAddress === undefined ? 0 : parseHost(opts.localAddress, 'localAddress');
      a.sin_port = opts.localPort === undefined ? 0 : validPort(opts.localPort, 'localPort');
      if (mtcp_bind(m, id, a) < 0) return this.#failSoon(mtcp_errno(), 'bind', opts.localAddress ?? '0.0.0.0', a.sin_port);
    }
    this.remoteAddress = host;
    this.remotePort = port;
    this.remoteFamily = 'IPv4';
    this.connecting = true;
    const a = this.#addr;
    a.sin_addr = ip;
    a.sin_port = port;
    if (mtcp_connect(m, id, a) < 0 && mtcp_errno() !== EINPROGRESS) return this.#failSoon(mtcp_errno(), 'connect', host, port);
    this.#loop.watch(id, this.#interest(), (ev) => this.#onEvent(ev));
    return this;
  }

  #failSoon(errno: number, syscall: string, address: string, port: number): this {
    this.connecting = false;
    process.nextTick(() => this.destroy(netError(errno, syscall, address, port)));
    return this;
  }

  // ---- events from the stack -------------------------------------------

  #onEvent(ev: number): void {
    if (this.#sockid < 0) return;
    if (this.connecting) {
      if (ev & (MTCP_EPOLLERR | MTCP_EPOLLHUP)) {
        this.connecting = false;
        this.destroy(netError(this.#soError() || ECONNREFUSED, 'connect', this.remoteAddress, this.remotePort));
        return;
      }
      if (!(ev & MTCP_EPOLLOUT)) return;
      this.connecting = false;
      this.#fillAddresses();
      this.#applyOptions();
      this.#touch();
      this.emit('connect');
      this.emit('ready');
      this.#flushPending();
      this.#pull();
      this.#updateInterest();
      return;
    }
    if (ev & MTCP_EPOLLERR) {
      // Data that arrived before the reset is still delivered first, as from a kernel socket.
      this.#pull();
      this.destroy(netError(this.#soError() || ECONNRESET, 'read'));
      return;
    }
    if (ev & (MTCP_EPOLLIN | MTCP_EPOLLRDHUP | MTCP_EPOLLHUP)) this.#pull();
    if (ev & MTCP_EPOLLOUT) this.#flushPending();
    this.#updateInterest();
  }

  #interest(): number {
    let i = 0;
    if (this.#wantRead && !this.#eof) i |= MTCP_EPOLLIN | MTCP_EPOLLRDHUP;
    if (this.connecting || this.#pendingCb) i |= MTCP_EPOLLOUT;
    return i;
  }

  #updateInterest(): void {
    if (this.#sockid >= 0) this.#loop.update(this.#sockid, this.#interest());
  }

  #soError(): number {
    const ref = this.#ref;
    ref.value = 0;
    mtcp_getsockopt(this.#mctx, this.#sockid, SOL_SOCKET, SO_ERROR, ref);
    return ref.value;
  }

  #fillAddresses(): void {
    const a = this.#addr;
    if (mtcp_getsockname(this.#mctx, this.#sockid, a) === 0) {
      this.localAddress = formatIpv4(a.sin_addr);
      this.localPort = a.sin_port;
    }
    if (mtcp_getpeername(this.#mctx, this.#sockid, a) === 0) {
      this.remoteAddress = formatIpv4(a.sin_addr);
      this.remotePort = a.sin_port;
      this.remoteFamily = 'IPv4';
    }
  }

  // ---- reading ------------------------------------------------------------

  override _read(): void {
    this.#wantRead = true;
    if (this.#sockid < 0 || this.connecting) return;
    this.#pull();
    this.#updateInterest();
  }

  /** Move what the stack holds into the stream while it wants more. */
  #pull(): void {
    const m = this.#mctx;
    const id = this.#sockid;
    const ref = this.#ref;
    while (this.#wantRead && !this.#eof && this.#sockid === id) {
      ref.value = 0;
      mtcp_socket_ioctl(m, id, FIONREAD, ref);
      const size = ref.value;
      // Nothing buffered: a read into the scratch byte tells the end of the stream, an error, or EAGAIN
      // (a buffer allocated for it would be thrown away on every pull).
      const buf = size > 0 ? Buffer.allocUnsafe(size) : SCRATCH;
      const n = mtcp_read(m, id, buf, size > 0 ? size : 1);
      if (n > 0) {
        this.bytesRead += n;
        this.#touch();
        const chunk = buf === SCRATCH ? Buffer.from(SCRATCH) : n === size ? buf : buf.subarray(0, n);
        if (!this.push(chunk)) this.#wantRead = false;
        continue;
      }
      if (n === 0) {
        this.#eof = true;
        this.#wantRead = false;
        this.push(null);
        return;
      }
      const e = mtcp_errno();
      if (e !== EAGAIN) this.destroy(netError(e, 'read'));
      return;
    }
  }

  // ---- writing ------------------------------------------------------------

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#pendingData = chunk;
    this.#pendingCb = cb;
    if (this.#sockid >= 0 && !this.connecting) this.#flushPending();
  }

  /** What cork() gathered (or writes queued behind a full send buffer): into the send buffer together, one callback. */
  override _writev(chunks: { chunk: Buffer; encoding: BufferEncoding }[], cb: (err?: Error | null) => void): void {
    this.#pendingList = chunks;
    this.#pendingData = chunks[0].chunk;
    this.#pendingCb = cb;
    if (this.#sockid >= 0 && !this.connecting) this.#flushPending();
  }

  #flushPending(): void {
    const cb = this.#pendingCb;
    if (!cb || this.connecting || this.#sockid < 0) return;
    for (;;) {
      const data = this.#pendingData;
      while (this.#pendingOff < data.length) {
        const off = this.#pendingOff;
        const n = mtcp_write(this.#mctx, this.#sockid, off === 0 ? data : data.subarray(off), data.length - off);
        if (n > 0) {
          this.#pendingOff += n;
          this.#pendingDone += n;
          this.#written += n;
          this.#touch();
          continue;
        }
        const e = mtcp_errno();
        if (e === EAGAIN) {
          this.#updateInterest(); // wait for MTCP_EPOLLOUT
          return;
        }
        this.#clearPending();
        cb(netError(e === EINVAL ? ECONNRESET : e, 'write'));
        return;
      }
      const list = this.#pendingList;
      if (list === null || ++this.#pendingIndex >= list.length) break;
      this.#pendingData = list[this.#pendingIndex].chunk;
      this.#pendingOff = 0;
    }
    this.#clearPending();
    this.#updateInterest();
    cb();
  }

  #clearPending(): void {
    this.#pendingData = EMPTY;
    this.#pendingList = null;
    this.#pendingIndex = 0;
    this.#pendingOff = 0;
    this.#pendingDone = 0;
    this.#pendingCb = null;
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.connecting) {
      this.once('connect', () => this._final(cb));
      return;
    }
    if (this.#sockid >= 0) mtcp_shutdown(this.#mctx, this.#sockid, SHUT_WR);
    cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.#clearTimer();
    this.connecting = false;
    const id = this.#sockid;
    if (id >= 0) {
      this.#sockid = -1;
      this.#loop.unwatch(id);
      mtcp_close(this.#mctx, id);
    }
    const pendingCb = this.#pendingCb;
    this.#clearPending();
    if (pendingCb) pendingCb(err ?? netError(ECONNRESET, 'write'));
    cb(err);
  }

  // ---- node:net's socket controls ----------------------------------------

  /** Close at once with a RST (node:net's resetAndDestroy). */
  resetAndDestroy(): this {
    const id = this.#sockid;
    if (id >= 0) {
      this.#sockid = -1;
      this.#loop.unwatch(id);
      mtcp_abort(this.#mctx, id);
    }
    return this.destroy();
  }

  /** End the writable side, then destroy once it has finished. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  setNoDelay(noDelay = true): this {
    this.#noDelay = noDelay;
    if (!this.pending) this.#applyOptions();
    return this;
  }

  setKeepAlive(enable = false, initialDelayMs = 0): this {
    this.#keepAlive = [enable, initialDelayMs];
    if (!this.pending) this.#applyOptions();
    return this;
  }

  #applyOptions(): void {
    const m = this.#mctx;
    const id = this.#sockid;
    if (this.#noDelay !== null) mtcp_setsockopt(m, id, IPPROTO_TCP, TCP_NODELAY, this.#noDelay ? 1 : 0);
    if (this.#keepAlive) {
      const [on, delay] = this.#keepAlive;
      if (on && delay > 0) mtcp_setsockopt(m, id, IPPROTO_TCP, TCP_KEEPIDLE, Math.max(1, Math.round(delay / 1000)));
      mtcp_setsockopt(m, id, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0);
    }
  }

  /** Emit 'timeout' after `ms` without reads or writes (0 turns it off). */
  setTimeout(ms: number, callback?: () => void): this {
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`mtcp-ts/net: timeout must be a finite number >= 0, got ${String(ms)}`);
    this.#timeoutMs = ms;
    this.#clearTimer();
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    if (ms > 0) {
      this.#timer = setTimeout(() => this.emit('timeout'), ms);
      this.#timer.unref();
    }
    return this;
  }

  #touch(): void {
    if (this.#timer) this.#timer.refresh();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** The timeout set by setTimeout, ms (0: none). */
  get timeout(): number {
    return this.#timeoutMs;
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    if (this.localAddress === undefined || this.localPort === undefined) return {};
    return { address: this.localAddress, family: 'IPv4', port: this.localPort };
  }

  /** The stack's loop keeps the thread alive while its context runs; these exist for node:net's callers. */
  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

function normalizeConnectArgs(args: unknown[]): [ConnectOptions, (() => void) | undefined] {
  const last = args[args.length - 1];
  const cb = typeof last === 'function' ? (last as () => void) : undefined;
  const a0 = args[0];
  if (a0 !== null && typeof a0 === 'object') return [a0 as ConnectOptions, cb];
  const host = typeof args[1] === 'string' ? args[1] : undefined;
  return [{ port: a0 as number, host }, cb];
}
