/**
 * Listening sockets: each listener's accept queue (connections established
 * and not yet accepted) and its count of half-open connections, which
 * together never exceed its backlog (passive-open.ts enforces it).
 */
import { EADDRINUSE } from '../errno.ts';
import type { Stats } from '../stats.ts';
import { State } from './state.ts';
import type { TcbTable } from './tcb.ts';

/** A listening socket's half-open count and accept queue. */
export class Listener {
  /** Connections established and waiting for accept, as connection ids (a ring). */
  readonly queue: Int32Array;
  queueHead = 0;
  queueCount = 0;
  /** Connections in SYN_RECEIVED for this listener. */
  halfOpen = 0;

  constructor(
    readonly sockid: number,
    /** Local address, 0 for any. */
    readonly ip: number,
    readonly port: number,
    /** Maximum half-open plus not-yet-accepted connections. */
    readonly backlog: number,
  ) {
    this.queue = new Int32Array(backlog);
  }
}

export class Listeners {
  /** Listeners by local port. */
  readonly byPort = new Map<number, Listener>();

  constructor(readonly tcb: TcbTable, readonly stats: Stats) {}

  /** Start listening on ip:port (ip 0 = any). Returns 0 or an errno. */
  add(sockid: number, ip: number, port: number, backlog: number): number {
    if (this.byPort.has(port)) return EADDRINUSE;
    this.byPort.set(port, new Listener(sockid, ip | 0, port, backlog > 0 ? backlog : 1));
    return 0;
  }

  /** Stop listening on `port`; returns the listener (its connections are the caller's to reset), or undefined. */
  remove(port: number): Listener | undefined {
    const l = this.byPort.get(port);
    if (l) this.byPort.delete(port);
    return l;
  }

  /** Take the next established connection from a listener for socket `sockid`; -1 when none. */
  accept(l: Listener, sockid: number): number {
    if (l.queueCount === 0) return -1;
    const t = l.queue[l.queueHead];
    l.queueHead = (l.queueHead + 1) % l.queue.length;
    l.queueCount--;
    this.tcb.setInAcceptQueue(t, 0);
    this.tcb.setSockid(t, sockid);
    return t;
  }

  /** The listener that made passive connection t, if it still listens. */
  listenerOf(t: number): Listener | undefined {
    const l = this.byPort.get(this.tcb.localPort(t));
    return l && l.sockid === this.tcb.listenerSockid(t) ? l : undefined;
  }

  /** Passive connection t reached ESTABLISHED: queue it for accept. Returns its listener, or undefined when that is gone. */
  enqueue(t: number): Listener | undefined {
    const l = this.listenerOf(t);
    if (!l) return undefined;
    l.halfOpen--;
    l.queue[(l.queueHead + l.queueCount) % l.queue.length] = t;
    l.queueCount++;
    this.tcb.setInAcceptQueue(t, 1);
    this.stats.tcpPassiveOpens++;
    return l;
  }

  /** Connection t ends: it leaves its listener's half-open count and accept queue. */
  forget(t: number): void {
    const tcb = this.tcb;
    if (tcb.listenerSockid(t) < 0) return;
    const l = this.listenerOf(t);
    if (l) {
      if (tcb.state(t) === State.SynReceived) l.halfOpen--;
      if (tcb.inAcceptQueue(t) !== 0) removeFromQueue(l, t);
    }
    tcb.setInAcceptQueue(t, 0);
  }
}

function removeFromQueue(l: Listener, t: number): void {
  const q = l.queue;
  let w = 0;
  for (let i = 0; i < l.queueCount; i++) {
    const v = q[(l.queueHead + i) % q.length];
    if (v !== t) q[(l.queueHead + w++) % q.length] = v;
  }
  l.queueCount = w;
}
