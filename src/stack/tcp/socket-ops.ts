/**
 * What the socket layer (src/mtcp) may do with TCP, and all it may see of it:
 * listen, accept, connect (with an ephemeral port whose replies come back to
 * this context's RSS queue), send, receive, shut down, close, abort, the
 * readiness of a connection, its options and what getsockopt and ioctl
 * report. Connections are ids; nothing here hands out the control block.
 */
import {
  EAGAIN, EADDRINUSE, EADDRNOTAVAIL, ECONNRESET, EINVAL, ENOMEM, ENOTCONN, EPIPE,
} from '../errno.ts';
import { READY_ERR, READY_HUP, READY_IN, READY_OUT, READY_RDHUP } from '../readiness.ts';
import type { RssSteering } from '../rss.ts';
import type { Stats } from '../stats.ts';
import type { IsnGenerator } from './isn.ts';
import type { ConnectionLife } from './lifecycle.ts';
import type { Listener, Listeners } from './listeners.ts';
import type { Receiver } from './receiver.ts';
import type { RecvBuffers } from './recv-buffer.ts';
import type { LossRecovery } from './recovery.ts';
import type { SendBuffers } from './send-buffer.ts';
import { State } from './state.ts';
import { effectiveMss, type TcbTable } from './tcb.ts';
import type { ConnTimers } from './timers.ts';
import type { OutputQueue, TcpClock } from './contracts.ts';

/** Ephemeral port range (Linux ip_local_port_range). */
export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;

/** Which of a port's RSS queues a context serves. */
export interface RssQueue {
  /** This context's receive queue (its core). */
  queue: number;
  /** Receive queues of the port. */
  queues: number;
}

export class TcpSockets {
  #nextEphemeral: number;

  constructor(
    readonly tcb: TcbTable,
    readonly life: ConnectionLife,
    readonly listeners: Listeners,
    readonly sendBuffers: SendBuffers,
    readonly recvBuffers: RecvBuffers,
    readonly receiver: Receiver,
    readonly recovery: LossRecovery,
    readonly timers: ConnTimers,
    readonly isn: IsnGenerator,
    readonly clock: TcpClock,
    readonly output: OutputQueue,
    readonly stats: Stats,
    /** The port's RSS, to keep connections we open on our own queue; null with one queue. */
    readonly rssSteering: RssSteering | null,
    readonly rss: RssQueue,
    /** Window scale we offer in a SYN. RFC 7323 §2.2 */
    readonly localWscale: number,
    /** Start of the ephemeral port search (from the context's secret). */
    ephemeralStart: number,
  ) {
    this.#nextEphemeral = ephemeralStart;
  }

  // ---- listening -----------------------------------------------------------

  /** Start listening on ip:port (ip 0 = any). Returns 0 or an errno. */
  listen(sockid: number, ip: number, port: number, backlog: number): number {
    return this.listeners.add(sockid, ip, port, backlog);
  }

  /** The listener on `port`, if any. */
  listener(port: number): Listener | undefined {
    return this.listeners.byPort.get(port);
  }

  /** Stop listening: queued and half-open connections are reset. */
  unlisten(port: number): void {
    const l = this.listeners.remove(port);
    if (!l) return;
    const tcb = this.tcb;
    for (let t = 0; t < tcb.capacity; t++) {
      if (tcb.inUse(t) !== 0 && tcb.listenerSockid(t) === l.sockid && tcb.localPort(t) === port && tcb.sockid(t) < 0 &&
          tcb.state(t) !== State.Closed) {
        tcb.setInAcceptQueue(t, 0);
        if (tcb.state(t) === State.SynReceived) l.halfOpen--;
        tcb.setListenerSockid(t, -1);
        this.life.fail(t, ECONNRESET, true);
      }
    }
  }

  /** The next established connection of listener `l`, now held by socket `sockid`; -1 when none waits. */
  accept(l: Listener, sockid: number): number {
    return this.listeners.accept(l, sockid);
  }

  // ---- the active open -------------------------------------------------------

  /**
   * Active open. `localPort` 0 picks an ephemeral port. Returns the
   * connection, or a negative errno.
   */
  connect(sockid: number, localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    localIp |= 0; // addresses are int32 inside the stack
    remoteIp |= 0;
    if (localPort === 0) {
      localPort = this.#pickEphemeral(localIp, remoteIp, remotePort);
      if (localPort < 0) return -EADDRNOTAVAIL;
    } else if (this.queueOf(localIp, localPort, remoteIp, remotePort) !== this.rss.queue) {
      // The replies would reach another core, which has no such connection: mTCP's mtcp_connect refuses
      // a bound address whose RSS core (GetRSSCPUCore) is not the caller's with EINVAL too.
      return -EINVAL;
    } else if (this.life.flows.lookup(localIp, localPort, remoteIp, remotePort) >= 0) {
      return -EADDRINUSE;
    }
    const t = this.life.allocate();
    if (t < 0) return -ENOMEM;
    if (!this.life.bind(t, localIp, localPort, remoteIp, remotePort)) {
      this.life.terminate(t);
      return -ENOMEM;
    }
    const tcb = this.tcb;
    tcb.setSockid(t, sockid);
    const iss = this.isn.next(localIp, localPort, remoteIp, remotePort, this.clock.now);
    tcb.setIss(t, iss);
    tcb.setSndUna(t, iss);
    tcb.setSndNxt(t, iss);
    tcb.setSndMax(t, iss);
    tcb.setRcvWscale(t, this.localWscale);
    this.recovery.start(t, effectiveMss(tcb, t)); // with the default MSS until the peer's says more
    this.life.setState(t, State.SynSent);
    this.stats.tcpActiveOpens++;
    this.timers.touchIdle(t);
    this.output.schedule(t);
    return t;
  }

  /**
   * The receive queue the peer's segments of a connection arrive on: the RSS
   * queue of the tuple as the peer sends it (from remote to local).
   */
  queueOf(localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    return this.rssSteering ? this.rssSteering.queueOf(remoteIp, localIp, remotePort, localPort, this.rss.queues) : 0;
  }

  /**
   * A free ephemeral port whose replies come back to this context's queue
   * (with N queues, about one port in N qualifies; mTCP's address pool keeps
   * the same ports per core, CreateAddressPoolPerCore).
   */
  #pickEphemeral(localIp: number, remoteIp: number, remotePort: number): number {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    const queue = this.rss.queue;
    for (let i = 0; i < span; i++) {
      const port = this.#nextEphemeral;
      this.#nextEphemeral = port === EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1;
      if (this.listeners.byPort.has(port)) continue;
      if (this.rssSteering && this.queueOf(localIp, port, remoteIp, remotePort) !== queue) continue;
      if (this.life.flows.lookup(localIp, port, remoteIp, remotePort) < 0) return port;
    }
    return -1;
  }

  // ---- data ------------------------------------------------------------------

  /** Queue application data. Returns bytes accepted or a negative errno (ENOMEM: no send buffer left in the pool). */
  send(t: number, src: Uint8Array, off: number, len: number): number {
    const tcb = this.tcb;
    if (tcb.failed(t) !== 0) return -(tcb.error(t) || EPIPE);
    if (tcb.finQueued(t) !== 0) return -EPIPE;
    const st = tcb.state(t);
    if (st === State.SynSent || st === State.SynReceived) return -EAGAIN;
    if (st !== State.Established && st !== State.CloseWait) return -ENOTCONN;
    if (len === 0) return 0;
    const n = this.sendBuffers.write(t, src, off, len);
    if (n < 0) return -ENOMEM;
    if (n === 0) return -EAGAIN;
    this.output.schedule(t);
    return n;
  }

  /** Read (or peek) received data. Returns bytes, 0 at end of stream, or a negative errno. */
  receive(t: number, dst: Uint8Array, off: number, len: number, peek: boolean): number {
    const tcb = this.tcb;
    if (this.recvBuffers.readable(t) > 0 && len > 0) {
      if (peek) return this.recvBuffers.peek(t, dst, off, len);
      const n = this.recvBuffers.read(t, dst, off, len);
      this.receiver.afterRead(t, n);
      return n;
    }
    if (tcb.failed(t) !== 0) return -(tcb.error(t) || ECONNRESET);
    if (tcb.finReceived(t) !== 0) return 0;
    if (len === 0) return 0;
    const st = tcb.state(t);
    if (st === State.SynSent || st === State.SynReceived) return -EAGAIN;
    if (st === State.Closed) return -ENOTCONN;
    return -EAGAIN;
  }

  // ---- closing -----------------------------------------------------------------

  /** Close the sending side (queue a FIN). Returns 0 or an errno. RFC 9293 §3.10.4 */
  shutdownWrite(t: number): number {
    const tcb = this.tcb;
    switch (tcb.state(t)) {
      case State.SynSent:
        this.life.terminate(t);
        return 0;
      case State.SynReceived:
      case State.Established:
        tcb.setFinQueued(t, 1);
        this.life.setState(t, State.FinWait1);
        break;
      case State.CloseWait:
        tcb.setFinQueued(t, 1);
        this.life.setState(t, State.LastAck);
        break;
      case State.Closed:
        return ENOTCONN;
      default:
        return 0; // already closing
    }
    this.output.schedule(t);
    return 0;
  }

  /**
   * The application closes its socket. Unread data makes it an abort (RST),
   * as in Linux; otherwise the close handshake runs on as an orphan.
   */
  close(t: number): void {
    const tcb = this.tcb;
    tcb.setSockid(t, -1);
    if (tcb.state(t) === State.Closed || tcb.failed(t) !== 0) {
      this.life.free(t);
      return;
    }
    if (this.recvBuffers.readable(t) > 0) {
      this.abort(t);
      return;
    }
    this.shutdownWrite(t);
    if (tcb.state(t) === State.Closed) return;
    this.timers.touchIdle(t);
    if (tcb.state(t) === State.FinWait2) this.timers.startFinWait2Timeout(t);
  }

  /** Abort: send RST (when synchronized) and free everything. RFC 9293 §3.10.5 */
  abort(t: number): void {
    const tcb = this.tcb;
    const st = tcb.state(t);
    if (st !== State.SynSent && st !== State.Closed && st !== State.TimeWait) {
      tcb.setRstOwed(t, 1);
      this.output.schedule(t);
    }
    tcb.setSockid(t, -1);
    this.life.terminate(t);
  }

  // ---- what the socket layer sees --------------------------------------------

  /** Readiness of a connection, as READY_* bits. */
  readiness(t: number): number {
    const tcb = this.tcb;
    if (tcb.failed(t) !== 0) return READY_IN | READY_OUT | READY_ERR | READY_HUP;
    let m = 0;
    if (this.recvBuffers.readable(t) > 0) m |= READY_IN;
    const finReceived = tcb.finReceived(t) !== 0;
    if (finReceived) m |= READY_IN | READY_RDHUP;
    const st = tcb.state(t);
    const writable = st === State.Established || st === State.CloseWait;
    if (writable && tcb.finQueued(t) === 0 && this.sendBuffers.free(t) > 0 && this.sendBuffers.canTakeRing(t)) m |= READY_OUT;
    if (st === State.Closed || (finReceived && tcb.finQueued(t) !== 0)) m |= READY_HUP;
    return m;
  }

  /**
   * Turn keepalive on or off with its idle time, interval and probe count
   * (ms, ms, count). RFC 1122 §4.2.3.6
   */
  setKeepAlive(t: number, on: boolean, idleMs: number, intvlMs: number, cnt: number): void {
    this.timers.setKeepAlive(t, on, idleMs, intvlMs, cnt, this.tcb.state(t) !== State.Closed);
  }

  /** TCP_NODELAY. */
  setNoDelay(t: number, on: boolean): void {
    this.tcb.setNoDelay(t, on ? 1 : 0);
  }

  state(t: number): State {
    return this.tcb.state(t);
  }

  /** Whether the connection failed; `takeError` reads (and clears, as SO_ERROR does) its errno. */
  failed(t: number): boolean {
    return this.tcb.failed(t) !== 0;
  }

  takeError(t: number): number {
    const e = this.tcb.error(t);
    this.tcb.setError(t, 0);
    return e;
  }

  localIp(t: number): number {
    return this.tcb.localIp(t);
  }

  localPort(t: number): number {
    return this.tcb.localPort(t);
  }

  remoteIp(t: number): number {
    return this.tcb.remoteIp(t);
  }

  remotePort(t: number): number {
    return this.tcb.remotePort(t);
  }

  /** FIONREAD: bytes the application can read. */
  readable(t: number): number {
    return this.recvBuffers.readable(t);
  }

  /** SIOCOUTQ: bytes queued and not yet acknowledged. */
  unacknowledged(t: number): number {
    return this.sendBuffers.length(t);
  }
}
