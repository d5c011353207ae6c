/**
 * Readiness bookkeeping behind mtcp_epoll_*, with Linux's semantics: a wake
 * puts a registered socket on the ready list once; collect() reports its
 * current readiness; level-triggered sockets that are still ready go back to
 * the end of the list, edge-triggered ones wait for the next wake; ONESHOT
 * disarms after one report. ERR and HUP are always reported.
 */
import { EEXIST, EINVAL, ENOENT } from '../stack/errno.ts';
import {
  MTCP_EPOLLERR, MTCP_EPOLLET, MTCP_EPOLLHUP, MTCP_EPOLLONESHOT, MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_DEL,
  MTCP_EPOLL_CTL_MOD, type MtcpEpollEvent,
} from './events.ts';

/** The stack's answer to "what is this socket ready for now" (IN/OUT/ERR/HUP/RDHUP bits). */
export interface ReadinessSource {
  readiness(sockid: number): number;
}

const ALWAYS = MTCP_EPOLLERR | MTCP_EPOLLHUP;
const FLAG_REGISTERED = 1;
const FLAG_READY = 2;
const FLAG_ET = 4;
const FLAG_ONESHOT = 8;
/** A ONESHOT registration that fired: nothing (not even ERR/HUP) until MOD re-arms it, as in Linux. */
const FLAG_DISARMED = 16;
/** The registration's data.ptr is not null (it is in #dataPtr). */
const FLAG_PTR = 32;

export class Epoll {
  /** Event bits the application asked for (without ET/ONESHOT). */
  readonly #interest: Uint32Array;
  readonly #flags: Uint8Array;
  readonly #dataSockid: Float64Array;
  /**
   * data.ptr of the registrations that gave one (not null), by socket id: a table of a million
   * JavaScript slots would sit in the heap for the garbage collector to walk, and programs that
   * identify sockets by data.sockid (nearly all) have none.
   */
  readonly #dataPtr = new Map<number, unknown>();
  /** Ready list: an intrusive FIFO. */
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  #head = -1;
  #tail = -1;
  #readyCount = 0;
  #size = 0;

  constructor(readonly source: ReadinessSource, readonly maxSockets: number) {
    this.#interest = new Uint32Array(maxSockets);
    this.#flags = new Uint8Array(maxSockets);
    this.#dataSockid = new Float64Array(maxSockets);
    this.#next = new Int32Array(maxSockets).fill(-1);
    this.#prev = new Int32Array(maxSockets).fill(-1);
  }

  get size(): number {
    return this.#size;
  }

  get hasReady(): boolean {
    return this.#head >= 0;
  }

  isRegistered(sockid: number): boolean {
    return sockid >= 0 && sockid < this.maxSockets && (this.#flags[sockid] & FLAG_REGISTERED) !== 0;
  }

  ctl(op: number, sockid: number, event: MtcpEpollEvent | null): number {
    if (!Number.isInteger(sockid) || sockid < 0 || sockid >= this.maxSockets) return EINVAL;
    const registered = (this.#flags[sockid] & FLAG_REGISTERED) !== 0;
    switch (op) {
      case MTCP_EPOLL_CTL_ADD:
        if (!event || typeof event.events !== 'number') return EINVAL;
        if (registered) return EEXIST;
        this.#size++;
        break;
      case MTCP_EPOLL_CTL_MOD:
        if (!event || typeof event.events !== 'number') return EINVAL;
        if (!registered) return ENOENT;
        break;
      case MTCP_EPOLL_CTL_DEL:
        if (!registered) return ENOENT;
        this.forget(sockid);
        return 0;
      default:
        return EINVAL;
    }
    const ev = event.events >>> 0;
    const ptr = event.data ? event.data.ptr : null;
    let flags = FLAG_REGISTERED | (this.#flags[sockid] & FLAG_READY);
    if (ev & MTCP_EPOLLET) flags |= FLAG_ET;
    if (ev & MTCP_EPOLLONESHOT) flags |= FLAG_ONESHOT;
    if (ptr !== null && ptr !== undefined) {
      flags |= FLAG_PTR;
      this.#dataPtr.set(sockid, ptr);
    } else if (this.#flags[sockid] & FLAG_PTR) {
      this.#dataPtr.delete(sockid);
    }
    this.#flags[sockid] = flags;
    this.#interest[sockid] = (ev & ~(MTCP_EPOLLET | MTCP_EPOLLONESHOT)) >>> 0;
    this.#dataSockid[sockid] = event.data ? event.data.sockid : 0;
    // Like Linux, check the socket's state at once: it may be ready already.
    if (!(flags & FLAG_READY) && this.source.readiness(sockid) & (this.#interest[sockid] | ALWAYS)) this.#enqueue(sockid);
    return 0;
  }

  wake(sockid: number, bits: number): void {
    const f = this.#flags[sockid];
    if (!(f & FLAG_REGISTERED) || f & (FLAG_READY | FLAG_DISARMED)) return;
    if (!(bits & (this.#interest[sockid] | ALWAYS))) return;
    this.#enqueue(sockid);
  }

  forget(sockid: number): void {
    const f = this.#flags[sockid];
    if (!(f & FLAG_REGISTERED)) return;
    if (f & FLAG_READY) this.#unlink(sockid);
    if (f & FLAG_PTR) this.#dataPtr.delete(sockid);
    this.#flags[sockid] = 0;
    this.#interest[sockid] = 0;
    this.#size--;
  }

  collect(events: MtcpEpollEvent[], maxevents: number): number {
    let n = 0;
    // Each socket at most once per call: stop at the current tail.
    let remaining = this.#readyCount;
    while (remaining-- > 0 && n < maxevents && this.#head >= 0) {
      const id = this.#head;
      this.#unlink(id);
      const interest = this.#interest[id];
      const mask = this.#flags[id] & FLAG_DISARMED ? 0 : this.source.readiness(id) & (interest | ALWAYS);
      if (mask === 0) continue; // stale wake-up
      const e = events[n++];
      e.events = mask;
      e.data.sockid = this.#dataSockid[id];
      e.data.ptr = this.#flags[id] & FLAG_PTR ? this.#dataPtr.get(id) : null;
      const f = this.#flags[id];
      if (f & FLAG_ONESHOT) this.#flags[id] |= FLAG_DISARMED;
      else if (!(f & FLAG_ET)) this.#enqueue(id); // level-triggered: report again while ready
    }
    return n;
  }

  #enqueue(id: number): void {
    this.#flags[id] |= FLAG_READY;
    this.#next[id] = -1;
    this.#prev[id] = this.#tail;
    if (this.#tail >= 0) this.#next[this.#tail] = id;
    else this.#head = id;
    this.#tail = id;
    this.#readyCount++;
  }

  #unlink(id: number): void {
    const n = this.#next[id];
    const p = this.#prev[id];
    if (p >= 0) this.#next[p] = n;
    else this.#head = n;
    if (n >= 0) this.#prev[n] = p;
    else this.#tail = p;
    this.#next[id] = this.#prev[id] = -1;
    this.#flags[id] &= ~FLAG_READY;
    this.#readyCount--;
  }
}
