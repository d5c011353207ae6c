/**
 * The socket ids an application holds (mTCP's socket map): each id is a
 * stream, a listener or an epoll instance, preallocated per context.
 */
import type { Epoll } from '../epoll/epoll.ts';
import type { Listener } from '../stack/tcp/engine.ts';
import type { Tcb } from '../stack/tcp/tcb.ts';

export const enum SocketKind {
  Free = 0,
  /** A TCP socket: unconnected, connecting or connected. */
  Stream,
  Listener,
  Epoll,
}

export class Socket {
  kind = SocketKind.Free;
  /** The connection, once connect() or accept() made one. */
  tcb: Tcb | null = null;
  /** For a listening socket. */
  listener: Listener | null = null;
  /** For an epoll socket. */
  epoll: Epoll | null = null;
  /** Socket id of the epoll this socket is registered with, -1 for none (one per socket, as in mTCP). */
  epollId = -1;
  /** O_NONBLOCK was set (recorded; every call is non-blocking, see the README). */
  nonblock = false;
  /** SO_REUSEADDR. */
  reuseAddr = false;
  /** TCP_NODELAY. */
  noDelay = false;
  /** SO_KEEPALIVE and its TCP_KEEPIDLE / TCP_KEEPINTVL (seconds) and TCP_KEEPCNT, as in Linux. */
  keepAlive = false;
  keepIdleSec = 7200;
  keepIntvlSec = 75;
  keepCnt = 9;
  /** Bound address and port (host order); port 0 = not bound. */
  boundIp = 0;
  boundPort = 0;
  /** SO_RCVBUF / SO_SNDBUF limits, bytes (0: the configured size). */
  rcvbuf = 0;
  sndbuf = 0;
  /** shutdown(SHUT_RD) was called: reads return 0. */
  shutRd = false;

  constructor(readonly id: number) {}

  reset(): void {
    this.kind = SocketKind.Free;
    this.tcb = null;
    this.listener = null;
    this.epoll = null;
    this.epollId = -1;
    this.nonblock = false;
    this.reuseAddr = false;
    this.noDelay = false;
    this.keepAlive = false;
    this.keepIdleSec = 7200;
    this.keepIntvlSec = 75;
    this.keepCnt = 9;
    this.boundIp = 0;
    this.boundPort = 0;
    this.rcvbuf = 0;
    this.sndbuf = 0;
    this.shutRd = false;
  }
}

export class SocketTable {
  readonly sockets: Socket[];
  readonly #free: Int32Array;
  #freeCount: number;

  constructor(readonly capacity: number) {
    this.sockets = new Array<Socket>(capacity);
    this.#free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) {
      this.sockets[i] = new Socket(i);
      this.#free[i] = capacity - 1 - i; // lowest ids first, as file descriptors
    }
    this.#freeCount = capacity;
  }

  /** A free socket of `kind`, or null when all ids are taken. */
  allocate(kind: SocketKind): Socket | null {
    if (this.#freeCount === 0) return null;
    const s = this.sockets[this.#free[--this.#freeCount]];
    s.kind = kind;
    return s;
  }

  release(s: Socket): void {
    if (s.kind === SocketKind.Free) return;
    s.reset();
    this.#free[this.#freeCount++] = s.id;
  }

  /** The socket with this id if it is in use, else null. */
  get(id: number): Socket | null {
    if (!Number.isInteger(id) || id < 0 || id >= this.capacity) return null;
    const s = this.sockets[id];
    return s.kind === SocketKind.Free ? null : s;
  }

  get inUse(): number {
    return this.capacity - this.#freeCount;
  }
}
