/**
 * The socket ids an application holds (mTCP's socket map): each id is a
 * stream, a listener or an epoll instance. Per-socket state is kept in
 * columns indexed by the id, like the stack's control blocks, so a million
 * sockets cost typed-array memory and nothing the garbage collector walks;
 * the few listeners and epoll instances are objects, found by id.
 */
import type { Epoll } from '../epoll/epoll.ts';
import { SlotAllocator } from '../stack/slot-allocator.ts';
import type { Listener } from '../stack/tcp/listeners.ts';

export const enum SocketKind {
  Free = 0,
  /** A TCP socket: unconnected, connecting or connected. */
  Stream,
  Listener,
  Epoll,
}

/** Linux's keepalive defaults, seconds and probes (tcp_keepalive_time, _intvl, _probes). */
const KEEPIDLE_SEC = 7200;
const KEEPINTVL_SEC = 75;
const KEEPCNT = 9;

export class SocketTable {
  readonly #ids: SlotAllocator;
  /** What each id is, SocketKind.Free when not in use. */
  readonly kind: Uint8Array;
  /** The connection (a stack connection id), once connect() or accept() made one; -1 before. */
  readonly conn: Int32Array;
  /** Socket id of the epoll this socket is registered with, -1 for none (one per socket, as in mTCP). */
  readonly epollId: Int32Array;
  /** O_NONBLOCK was set (recorded; every call is non-blocking, see the README). */
  readonly nonblock: Uint8Array;
  /** SO_REUSEADDR. */
  readonly reuseAddr: Uint8Array;
  /** TCP_NODELAY. */
  readonly noDelay: Uint8Array;
  /** SO_KEEPALIVE and its TCP_KEEPIDLE / TCP_KEEPINTVL (seconds) and TCP_KEEPCNT, as in Linux. */
  readonly keepAlive: Uint8Array;
  readonly keepIdleSec: Int32Array;
  readonly keepIntvlSec: Int32Array;
  readonly keepCnt: Int32Array;
  /** Bound address (int32 form) and port (host order); port 0 = not bound. */
  readonly boundIp: Int32Array;
  readonly boundPort: Int32Array;
  /** SO_RCVBUF / SO_SNDBUF limits, bytes (0: the configured size). */
  readonly rcvbuf: Int32Array;
  readonly sndbuf: Int32Array;
  /** shutdown(SHUT_RD) was called: reads return 0. */
  readonly shutRd: Uint8Array;
  /** Listening sockets' listeners, by socket id. */
  readonly listeners = new Map<number, Listener>();
  /** Epoll instances, by socket id. */
  readonly epolls = new Map<number, Epoll>();
  /** How many sockets without SO_REUSEADDR are bound to each port (bind's EADDRINUSE check), by port. */
  readonly #exclusiveBinds = new Int32Array(65536);

  constructor(readonly capacity: number) {
    this.#ids = new SlotAllocator(capacity);
    this.kind = new Uint8Array(capacity);
    this.conn = new Int32Array(capacity);
    this.epollId = new Int32Array(capacity);
    this.nonblock = new Uint8Array(capacity);
    this.reuseAddr = new Uint8Array(capacity);
    this.noDelay = new Uint8Array(capacity);
    this.keepAlive = new Uint8Array(capacity);
    this.keepIdleSec = new Int32Array(capacity);
    this.keepIntvlSec = new Int32Array(capacity);
    this.keepCnt = new Int32Array(capacity);
    this.boundIp = new Int32Array(capacity);
    this.boundPort = new Int32Array(capacity);
    this.rcvbuf = new Int32Array(capacity);
    this.sndbuf = new Int32Array(capacity);
    this.shutRd = new Uint8Array(capacity);
  }

  /** A free id of `kind` (the lowest free ids first, as file descriptors, until ids are reused), or -1 when all are taken. */
  allocate(kind: SocketKind): number {
    const s = this.#ids.alloc();
    if (s < 0) return -1;
    this.kind[s] = kind;
    this.conn[s] = -1;
    this.epollId[s] = -1;
    this.nonblock[s] = this.reuseAddr[s] = this.noDelay[s] = this.keepAlive[s] = this.shutRd[s] = 0;
    this.keepIdleSec[s] = KEEPIDLE_SEC;
    this.keepIntvlSec[s] = KEEPINTVL_SEC;
    this.keepCnt[s] = KEEPCNT;
    this.boundIp[s] = this.boundPort[s] = 0;
    this.rcvbuf[s] = this.sndbuf[s] = 0;
    return s;
  }

  release(s: number): void {
    if (this.kind[s] === SocketKind.Free) return;
    this.unbind(s);
    this.listeners.delete(s);
    this.epolls.delete(s);
    this.kind[s] = SocketKind.Free;
    this.#ids.free(s);
  }

  /** Whether `s` is an id in use. */
  valid(s: number): boolean {
    return Number.isInteger(s) && s >= 0 && s < this.capacity && this.kind[s] !== SocketKind.Free;
  }

  get inUse(): number {
    return this.#ids.inUse;
  }

  /** Whether a socket without SO_REUSEADDR is bound to `port`. */
  boundExclusively(port: number): boolean {
    return this.#exclusiveBinds[port] > 0;
  }

  /** Record that `s` is bound to ip:port. */
  bind(s: number, ip: number, port: number): void {
    this.unbind(s);
    this.boundIp[s] = ip | 0;
    this.boundPort[s] = port;
    if (port !== 0 && this.reuseAddr[s] === 0) this.#exclusiveBinds[port]++;
  }

  /** Forget what `s` is bound to. */
  unbind(s: number): void {
    const port = this.boundPort[s];
    if (port !== 0 && this.reuseAddr[s] === 0) this.#exclusiveBinds[port]--;
    this.boundIp[s] = 0;
    this.boundPort[s] = 0;
  }

  /** SO_REUSEADDR on `s`, bound or not. */
  setReuseAddr(s: number, on: boolean): void {
    const port = this.boundPort[s];
    const was = this.reuseAddr[s] !== 0;
    this.reuseAddr[s] = on ? 1 : 0;
    if (port === 0 || was === on) return;
    this.#exclusiveBinds[port] += on ? -1 : 1;
  }

  /** The ids of every socket registered with epoll `ep` (a scan: for closing them all). */
  registeredWith(ep: number): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.capacity; s++) if (this.kind[s] !== SocketKind.Free && this.epollId[s] === ep) out.push(s);
    return out;
  }
}
