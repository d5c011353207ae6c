/**
 * The TCP layer of one context: control-block pool, demultiplexing, listeners,
 * timers and the operations the socket API calls. Segment arrival lives in
 * input.ts, the sender in output.ts.
 */
import { DropReason } from '../drop-reason.ts';
import {
  EAGAIN, EADDRINUSE, EADDRNOTAVAIL, ECONNRESET, EINVAL, ENOMEM, ENOTCONN, EPIPE, ETIMEDOUT,
} from '../errno.ts';
import { BufferPool } from '../buffer-pool.ts';
import { FlowTable } from '../flow-table.ts';
import { RssSteering } from '../rss.ts';
import type { Stats } from '../stats.ts';
import { TimerWheel } from '../timer-wheel.ts';
import { TcpFields, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, emitTcp } from '../wire/tcp.ts';
import { seqAdd } from '../wire/seqnum.ts';
import { READY_ERR, READY_HUP, READY_IN, READY_OUT, READY_RDHUP } from '../readiness.ts';
import type { CongestionController } from './congestion/controller.ts';
import { createController, type CongestionControlName } from './congestion/index.ts';
import { IsnGenerator } from './isn.ts';
import { SynCookies } from './syn-cookie.ts';
import { RateBudget } from './rate-budget.ts';
import { output, persistProbe, retransmitFirst, windowStep, sendAbortRst, sendAck, sendSegment, unsentBytes } from './output.ts';
import { segmentArrives, listenSegmentArrives } from './input.ts';
import { State } from './state.ts';
import { Tcb } from './tcb.ts';

/** Where the TCP layer puts its segments: the context reserves a frame and finishes the IP and Ethernet headers. */
export interface TcpTransmitter {
  /** Reserve a TX frame towards `dstIp`; on success txBuf/txOff say where the TCP header goes. */
  beginTcp(dstIp: number): boolean;
  readonly txBuf: Uint8Array;
  readonly txOff: number;
  /** The port fills TCP checksums (offload): segments are emitted without one. */
  readonly tcpChecksumOffload: boolean;
  /** The TCP segment (`tcpLen` bytes at txOff) is complete: add IPv4 and Ethernet and queue the frame. */
  endTcp(srcIp: number, dstIp: number, tcpLen: number): void;
}

/** How the TCP layer tells the socket layer that something happened on a socket. */
export interface SocketEvents {
  /** `bits`: READY_IN/OUT/ERR/HUP/RDHUP (readiness.ts), the kind of event. */
  wake(sockid: number, bits: number): void;
}

export interface TcpConfig {
  /** Maximum number of connections (TCB pool size). */
  maxConcurrency: number;
  /** Send and receive buffers in each pool. */
  maxNumBuffers: number;
  /** Receive and send buffer size per connection, bytes. */
  rcvbuf: number;
  sndbuf: number;
  /** Idle timeout, ms; -1 disables. */
  idleTimeoutMs: number;
  /** TIME_WAIT duration, ms (0: the block is released on entry). */
  timeWaitMs: number;
  /** Link MTU, bytes; MSS = MTU - 40. */
  mtu: number;
  cc: CongestionControlName;
  /** Secret key for ISNs and ephemeral ports (two uint32s). */
  secret: [number, number];
  /** Challenge ACKs per second for the whole context (default 1000, Linux's tcp_challenge_ack_limit). RFC 5961 §7 */
  challengeAckLimit?: number;
  /** RSTs per second answering segments that match no connection (default 1000). */
  statelessRstLimit?: number;
  /** Offer and accept SACK (default true; false only to measure recovery without it). RFC 2018 */
  sack?: boolean;
}

/** SYN retransmissions before connect fails with ETIMEDOUT (Linux tcp_syn_retries). */
export const SYN_RETRIES = 6;
/** SYN|ACK retransmissions before a half-open connection is dropped (Linux tcp_synack_retries). */
export const SYNACK_RETRIES = 5;
/** Data retransmissions before the connection fails with ETIMEDOUT (Linux tcp_retries2). */
export const DATA_RETRIES = 15;
/**
 * Longest an ACK for in-order data waits for data to ride on (Linux's
 * TCP_DELACK_MIN; RFC 5681 §4.2 allows up to 500 ms). A second segment is
 * acknowledged at once.
 */
export const DELAYED_ACK_MS = 40;
/** How long a connection the application closed waits in FIN_WAIT_2 for the peer's FIN (Linux tcp_fin_timeout). */
export const FIN_WAIT2_TIMEOUT_MS = 60_000;
/** Ephemeral port range (Linux ip_local_port_range). */
export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;

/** Which of a port's RSS queues this engine's context serves. */
export interface RssQueue {
  /** This context's receive queue (its core). */
  queue: number;
  /** Receive queues of the port. */
  queues: number;
}

/** A listening socket's half-open count and accept queue. */
export class Listener {
  /** Connections established and waiting for accept, as TCB ids (a ring). */
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

export class TcpEngine {
  /** The control blocks, preallocated. */
  readonly tcbs: Tcb[];
  /** Free TCB ids (a stack). */
  readonly #freeIds: Int32Array;
  #freeCount: number;
  readonly flows: FlowTable;
  /** Listeners by local port. */
  readonly listeners = new Map<number, Listener>();
  readonly wheel: TimerWheel;
  readonly sndPool: BufferPool;
  readonly rcvPool: BufferPool;
  readonly isn: IsnGenerator;
  /** Stateless answers to SYNs when a listener's queue is full. */
  readonly cookies: SynCookies;
  /** Reused parse target for incoming segments. */
  readonly seg = new TcpFields();
  /** Reused emit source for outgoing segments. */
  readonly out = new TcpFields();
  /** Blocks with something to send at the next flush (a FIFO ring of ids). */
  readonly #outList: Int32Array;
  #outHead = 0;
  #outCount = 0;
  /** Current time, ms (set by the context before each batch of work). */
  now = 0;
  /** MSS we announce: MTU - 40. RFC 9293 §3.7.1 */
  readonly localMss: number;
  /** Window scale we offer, chosen so the receive buffer fits the window field. RFC 7323 §2.2 */
  readonly localWscale: number;
  #nextEphemeral: number;
  /** The port's RSS, to keep connections we open on our own queue; null with one queue. */
  readonly #rss: RssSteering | null;
  readonly #challengeAcks: RateBudget;
  readonly #statelessRsts: RateBudget;
  readonly #fire = (id: number): void => this.#onTimer(id);

  constructor(
    readonly config: TcpConfig,
    readonly stats: Stats,
    readonly ip: TcpTransmitter,
    readonly events: SocketEvents,
    /** The receive queue this context serves; segments of its connections must arrive there. */
    readonly rss: RssQueue = { queue: 0, queues: 1 },
  ) {
    if (!Number.isInteger(rss.queue) || rss.queue < 0 || rss.queue >= rss.queues) {
      throw new RangeError(`queue ${rss.queue} is not one of the port's ${rss.queues} queue(s)`);
    }
    this.#rss = rss.queues > 1 ? new RssSteering() : null;
    const n = config.maxConcurrency;
    this.tcbs = new Array<Tcb>(n);
    this.#freeIds = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const cc: CongestionController = createController(config.cc);
      this.tcbs[i] = new Tcb(i, cc);
      this.#freeIds[i] = n - 1 - i;
    }
    this.#freeCount = n;
    this.#outList = new Int32Array(n);
    this.flows = new FlowTable(n, config.secret[0] ^ 0x5bd1e995);
    this.wheel = new TimerWheel(n, 1, 4096);
    this.sndPool = new BufferPool(config.maxNumBuffers, config.sndbuf);
    this.rcvPool = new BufferPool(config.maxNumBuffers, config.rcvbuf);
    this.isn = new IsnGenerator(config.secret[0], config.secret[1]);
    this.cookies = new SynCookies(config.secret[1] ^ 0x2545f491, config.secret[0] ^ 0x5851f42d);
    this.localMss = config.mtu - 40;
    let ws = 0;
    while (ws < 14 && config.rcvbuf >>> ws > 0xffff) ws++;
    this.localWscale = ws;
    this.#challengeAcks = new RateBudget(config.challengeAckLimit ?? 1000);
    this.#statelessRsts = new RateBudget(config.statelessRstLimit ?? 1000);
    this.#nextEphemeral = EPHEMERAL_FIRST + ((config.secret[1] >>> 0) % (EPHEMERAL_LAST - EPHEMERAL_FIRST + 1));
  }

  /** Connections in use (any state, orphans included). */
  get activeCount(): number {
    return this.tcbs.length - this.#freeCount;
  }

  /** Our timestamp clock: milliseconds, modulo 2^32. RFC 7323 §5.4 */
  tsNow(): number {
    return this.now | 0;
  }

  /** Whether one more challenge ACK fits in this second's budget for the context. RFC 5961 §7 */
  allowChallengeAck(): boolean {
    if (this.#challengeAcks.take(this.now)) return true;
    this.stats.tcpChallengeAcksSuppressed++;
    return false;
  }

  /** Payload bytes per segment: the MSS less the timestamp option when in use. */
  effectiveMss(t: Tcb): number {
    return t.tsOk ? t.sndMss - 12 : t.sndMss;
  }

  // ---- allocation -------------------------------------------------------

  /** Take a clean block with buffers attached, or null when a pool is exhausted. */
  allocate(): Tcb | null {
    if (this.#freeCount === 0) return null;
    const t = this.tcbs[this.#freeIds[this.#freeCount - 1]];
    if (!t.sndBuf.attach(this.sndPool)) return null;
    if (!t.rcvBuf.attach(this.rcvPool)) {
      t.sndBuf.detach();
      return null;
    }
    this.#freeCount--;
    t.inUse = true;
    t.openedAt = this.now;
    t.rtoTsFloor = this.tsNow();
    return t;
  }

  /** Give a block back to the pool: no table entry, timer or buffer is left behind. */
  #free(t: Tcb): void {
    if (!t.inUse) return;
    this.#unlink(t);
    t.sndBuf.detach();
    t.rcvBuf.detach();
    t.reset();
    this.#freeIds[this.#freeCount++] = t.id;
    this.stats.tcpClosed++;
  }

  /** Remove the block from the flow table, timers and its listener's accounting. */
  #unlink(t: Tcb): void {
    if (t.localPort !== 0) this.flows.remove(t.localIp, t.localPort, t.remoteIp, t.remotePort);
    this.wheel.cancel(t.id);
    t.rtoAt = t.timeWaitAt = t.idleAt = t.keepaliveAt = t.delayedAckAt = -1;
    if (t.listenerSockid >= 0) {
      const l = this.#listenerOf(t);
      if (l) {
        if (t.state === State.SynReceived) l.halfOpen--;
        if (t.inAcceptQueue) removeFromQueue(l, t.id);
      }
      t.inAcceptQueue = false;
    }
  }

  #listenerOf(t: Tcb): Listener | undefined {
    const l = this.listeners.get(t.localPort);
    return l && l.sockid === t.listenerSockid ? l : undefined;
  }

  /**
   * The connection is over. With the application still holding the socket the
   * block stays (CLOSED) until mtcp_close; an orphan is freed now.
   */
  terminate(t: Tcb): void {
    this.#unlink(t);
    this.setState(t, State.Closed);
    if (t.sockid < 0) this.#free(t);
  }

  /** Fail the connection with `errno`, optionally sending a RST first. */
  fail(t: Tcb, errno: number, sendRst: boolean): void {
    if (sendRst) sendAbortRst(this, t);
    t.error = errno;
    t.failed = true;
    this.stats.tcpFailed++;
    if (t.sockid >= 0) this.events.wake(t.sockid, READY_IN | READY_OUT | READY_ERR | READY_HUP);
    this.terminate(t);
  }

  /** The only place a state changes. */
  setState(t: Tcb, s: State): void {
    t.state = s;
    if (s === State.FinWait2 && t.sockid < 0) this.#startFinWait2Timeout(t);
  }

  /**
   * Nobody holds the socket and the peer may never send its FIN: give up
   * after FIN_WAIT2_TIMEOUT_MS (Linux's tcp_fin_timeout; RFC 9293 leaves it open).
   */
  #startFinWait2Timeout(t: Tcb): void {
    t.timeWaitAt = this.now + FIN_WAIT2_TIMEOUT_MS;
    this.#armWheel(t, t.timeWaitAt);
  }

  // ---- timers -----------------------------------------------------------

  /** (Re)start the retransmission timer at now + RTO. RFC 6298 (5.1), (5.3) */
  armRto(t: Tcb): void {
    t.rtoAt = this.now + t.rtt.rtoMs;
    this.#armWheel(t, t.rtoAt);
  }

  stopRto(t: Tcb): void {
    t.rtoAt = -1;
  }

  /** Acknowledge in-order data within DELAYED_ACK_MS, sooner if data or another segment comes. RFC 5681 §4.2 */
  delayAck(t: Tcb): void {
    if (t.delayedAckAt >= 0) return;
    t.delayedAckAt = this.now + DELAYED_ACK_MS;
    this.#armWheel(t, t.delayedAckAt);
  }

  /**
   * Enter TIME_WAIT: acknowledge the peer's FIN at once, then linger for
   * tcp_timewait (0 releases the block now, as mTCP's default does). RFC 9293 §3.10.7.4
   */
  enterTimeWait(t: Tcb): void {
    sendAck(this, t);
    this.setState(t, State.TimeWait);
    t.rtoAt = -1;
    t.idleAt = -1;
    t.keepaliveAt = -1;
    if (this.config.timeWaitMs <= 0) this.terminate(t);
    else this.restartTimeWait(t);
  }

  restartTimeWait(t: Tcb): void {
    t.timeWaitAt = this.now + this.config.timeWaitMs;
    this.#armWheel(t, t.timeWaitAt);
  }

  /** Push the idle deadline forward: a segment arrived. */
  touchIdle(t: Tcb): void {
    if (t.state === State.TimeWait) return;
    if (t.keepAlive) {
      t.keepProbes = 0;
      t.keepaliveAt = this.now + t.keepIdleMs;
      if (!this.wheel.isScheduled(t.id)) this.#armWheel(t, t.keepaliveAt);
    }
    if (this.config.idleTimeoutMs < 0) return;
    t.idleAt = this.now + this.config.idleTimeoutMs;
    if (!this.wheel.isScheduled(t.id)) this.#armWheel(t, t.idleAt);
  }

  /**
   * Turn keepalive on or off with its idle time, interval and probe count
   * (ms, ms, count). RFC 1122 §4.2.3.6
   */
  setKeepAlive(t: Tcb, on: boolean, idleMs: number, intvlMs: number, cnt: number): void {
    t.keepAlive = on;
    t.keepIdleMs = idleMs;
    t.keepIntvlMs = intvlMs;
    t.keepCnt = cnt;
    t.keepProbes = 0;
    t.keepaliveAt = -1;
    if (on && t.state !== State.Closed) {
      t.keepaliveAt = this.now + idleMs;
      this.#armWheel(t, t.keepaliveAt);
    }
  }

  /**
   * A keepalive probe is due: with data outstanding the retransmission timer
   * already watches the peer; otherwise send an ACK for SND.UNA-1, which the
   * peer must answer (Linux's probe), and give up after keepCnt unanswered ones.
   */
  #keepaliveDue(t: Tcb): void {
    // Like Linux, every synchronized state without data in flight: FIN_WAIT_2 waits on the peer too.
    const open = t.state === State.Established || t.state === State.CloseWait || t.state === State.FinWait2;
    if (!open || t.sndMax !== t.sndUna || unsentBytes(t) > 0) {
      t.keepaliveAt = this.now + t.keepIdleMs;
      return;
    }
    if (t.keepProbes >= t.keepCnt) {
      this.fail(t, ETIMEDOUT, false);
      return;
    }
    t.keepProbes++;
    sendSegment(this, t, seqAdd(t.sndUna, -1), TCP_ACK, 0);
    t.keepaliveAt = this.now + t.keepIntvlMs;
  }

  /**
   * The wheel keeps one entry per block at or before its earliest deadline;
   * a later deadline never moves the entry (it fires early and re-arms).
   */
  #armWheel(t: Tcb, at: number): void {
    const cur = this.wheel.deadlineOf(t.id);
    if (cur < 0 || at < cur) this.wheel.schedule(t.id, at);
  }

  #earliestDeadline(t: Tcb): number {
    let at = Infinity;
    if (t.rtoAt >= 0 && t.rtoAt < at) at = t.rtoAt;
    if (t.timeWaitAt >= 0 && t.timeWaitAt < at) at = t.timeWaitAt;
    if (t.idleAt >= 0 && t.idleAt < at) at = t.idleAt;
    if (t.keepaliveAt >= 0 && t.keepaliveAt < at) at = t.keepaliveAt;
    if (t.delayedAckAt >= 0 && t.delayedAckAt < at) at = t.delayedAckAt;
    return at;
  }

  /** Run expired timers; returns how many fired. */
  runTimers(now: number): number {
    this.now = now;
    return this.wheel.advance(now, this.#fire);
  }

  /** Earliest timer deadline (ms), Infinity when none. */
  nextTimerAt(): number {
    return this.wheel.nextDeadline();
  }

  #onTimer(id: number): void {
    const t = this.tcbs[id];
    if (!t.inUse) return;
    const now = this.now;
    if (t.timeWaitAt >= 0 && now >= t.timeWaitAt) {
      this.terminate(t); // 2MSL over (RFC 9293 §3.10.8), or an orphan's FIN_WAIT_2 timeout
      return;
    }
    if (t.idleAt >= 0 && now >= t.idleAt) {
      // tcp_timeout (mTCP): nothing received for that long.
      this.fail(t, ETIMEDOUT, t.state !== State.SynSent);
      return;
    }
    if (t.delayedAckAt >= 0 && now >= t.delayedAckAt) {
      t.delayedAckAt = -1;
      t.ackPending = true;
      this.scheduleOutput(t);
    }
    if (t.keepaliveAt >= 0 && now >= t.keepaliveAt) {
      this.#keepaliveDue(t);
      if (!t.inUse || t.state === State.Closed) return;
    }
    if (t.rtoAt >= 0 && now >= t.rtoAt) {
      t.rtoAt = -1;
      this.#onRetransmitTimeout(t);
      if (!t.inUse || t.state === State.Closed) return;
    }
    const at = this.#earliestDeadline(t);
    if (at !== Infinity) this.wheel.schedule(id, at);
  }

  /** RFC 6298 (5.4)-(5.7), RFC 5681 §3.1, persist timer RFC 9293 §3.8.6.1. */
  #onRetransmitTimeout(t: Tcb): void {
    const flight = t.flightSize;
    if (flight === 0) {
      // The persist timer: data waits for the peer's window. RFC 9293 §3.8.6.1
      if (unsentBytes(t) > 0 && t.state >= State.Established) {
        if (persistProbe(this, t)) t.rtt.backoff();
        this.armRto(t);
      }
      return;
    }
    t.retries++;
    const limit = t.state === State.SynSent ? SYN_RETRIES : t.state === State.SynReceived ? SYNACK_RETRIES : DATA_RETRIES;
    if (t.retries > limit) {
      if (t.state === State.SynReceived && t.listenerSockid >= 0) this.terminate(t);
      else this.fail(t, ETIMEDOUT, t.state !== State.SynSent);
      return;
    }
    this.stats.tcpTimeouts++;
    t.cc.onRto(flight, this.effectiveMss(t), this.now);
    t.inRecovery = false;
    t.dupAcks = 0;
    t.recover = t.sndMax;
    t.recoverAfterRto = true;
    // SACK information survives one timeout; a second in a row suggests the peer reneged. RFC 6675 §5.1, RFC 2018 §8
    if (t.retries > 1) t.sacked.reset();
    t.rttTiming = false;
    t.rtoTsFloor = this.tsNow();
    t.rtt.backoff(); // RFC 6298 (5.5)
    // Go back to the oldest unacknowledged byte. RFC 6298 (5.4)
    t.sndNxt = t.sndUna;
    if (t.state === State.SynSent || t.state === State.SynReceived) {
      t.sndNxt = t.iss;
    } else {
      // The oldest segment goes out now even if the peer's window has closed since: it probes the
      // window as well (Linux's tcp_retransmit_timer). RFC 9293 §3.8.6.1
      retransmitFirst(this, t);
    }
    this.armRto(t);
    this.scheduleOutput(t);
  }

  // ---- output list ------------------------------------------------------

  /** Ask for output at the next flush. */
  scheduleOutput(t: Tcb): void {
    if (t.inOutputList) return;
    t.inOutputList = true;
    const list = this.#outList;
    list[(this.#outHead + this.#outCount) % list.length] = t.id;
    this.#outCount++;
  }

  /** Send what every block on the output list has pending. Returns segments sent. */
  flush(now: number): number {
    this.now = now;
    const before = this.stats.tcpOutSegs;
    const list = this.#outList;
    let n = this.#outCount;
    while (n-- > 0) {
      const id = list[this.#outHead];
      this.#outHead = (this.#outHead + 1) % list.length;
      this.#outCount--;
      const t = this.tcbs[id];
      t.inOutputList = false;
      if (!t.inUse) continue;
      if (!output(this, t)) {
        // Out of TX slots: retry at the next flush.
        this.scheduleOutput(t);
        break;
      }
    }
    return this.stats.tcpOutSegs - before;
  }

  get hasPendingOutput(): boolean {
    return this.#outCount > 0;
  }

  // ---- input ------------------------------------------------------------

  /**
   * A parsed segment (in this.seg) from `srcIp` to `dstIp`; its payload is in
   * `buf` at seg.payloadOff. Returns a DropReason or 0.
   */
  input(buf: Uint8Array, srcIp: number, dstIp: number): DropReason {
    const seg = this.seg;
    this.stats.tcpInSegs++;
    const id = this.flows.lookup(dstIp, seg.dstPort, srcIp, seg.srcPort);
    if (id >= 0) return segmentArrives(this, this.tcbs[id], buf, seg);
    const l = this.listeners.get(seg.dstPort);
    if (l !== undefined && (l.ip === 0 || l.ip === dstIp)) return listenSegmentArrives(this, l, buf, seg, srcIp, dstIp);
    // CLOSED: RFC 9293 §3.10.7.1
    if (!(seg.flags & TCP_RST)) this.sendResetFor(seg, srcIp, dstIp);
    return DropReason.TcpNoSocket;
  }

  /**
   * A RST answering a segment that has no connection. RFC 9293 §3.10.7.1:
   * <SEQ=SEG.ACK><CTL=RST> if it carried an ACK, else
   * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Within the context's budget
   * of such RSTs per second: anyone can provoke them.
   */
  sendResetFor(seg: TcpFields, srcIp: number, dstIp: number): void {
    if (!this.#statelessRsts.take(this.now)) {
      this.stats.tcpRstsSuppressed++;
      return;
    }
    const segLen = seg.payloadLen + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
    const hasAck = (seg.flags & TCP_ACK) !== 0;
    const f = this.#statelessReply(seg, hasAck ? TCP_RST : TCP_RST | TCP_ACK, hasAck ? seg.ack : 0, hasAck ? 0 : seqAdd(seg.seq, segLen));
    f.window = 0;
    f.mss = -1;
    if (this.#sendStateless(f, srcIp, dstIp)) this.stats.tcpRstSent++;
  }

  /**
   * Answer a SYN without keeping state: a SYN|ACK whose sequence number is a
   * cookie, with only the MSS option. RFC 4987 §3.6
   */
  sendCookieSynAck(seg: TcpFields, srcIp: number, dstIp: number): void {
    const peerMss = seg.mss > 0 ? seg.mss : 536;
    const mss = peerMss < this.localMss ? peerMss : this.localMss;
    const cookie = this.cookies.make(dstIp, seg.dstPort, srcIp, seg.srcPort, seg.seq, mss, this.now);
    const f = this.#statelessReply(seg, TCP_SYN | TCP_ACK, cookie, seqAdd(seg.seq, 1));
    f.window = this.config.rcvbuf < 0xffff ? this.config.rcvbuf : 0xffff;
    f.mss = this.localMss;
    if (this.#sendStateless(f, srcIp, dstIp)) this.stats.tcpSynCookiesSent++;
  }

  /** The reused output fields, set up to answer `seg` with no connection behind the reply. */
  #statelessReply(seg: TcpFields, flags: number, seq: number, ack: number): TcpFields {
    const f = this.out;
    f.srcPort = seg.dstPort;
    f.dstPort = seg.srcPort;
    f.seq = seq;
    f.ack = ack;
    f.flags = flags;
    f.urgent = 0;
    f.wscale = -1;
    f.sackPermitted = false;
    f.hasTimestamp = false;
    f.sackCount = 0;
    return f;
  }

  /** Transmit a reply built by #statelessReply from us (dstIp of the segment answered) to srcIp. */
  #sendStateless(f: TcpFields, srcIp: number, dstIp: number): boolean {
    if (!this.ip.beginTcp(srcIp)) return false;
    const hlen = emitTcp(this.ip.txBuf, this.ip.txOff, f, dstIp, srcIp, 0, !this.ip.tcpChecksumOffload);
    this.ip.endTcp(dstIp, srcIp, hlen);
    this.stats.tcpOutSegs++;
    return true;
  }

  // ---- operations for the socket layer ----------------------------------

  /** Start listening on ip:port (ip 0 = any). Returns 0 or an errno. */
  listen(sockid: number, ip: number, port: number, backlog: number): number {
    if (this.listeners.has(port)) return EADDRINUSE;
    this.listeners.set(port, new Listener(sockid, ip | 0, port, backlog > 0 ? backlog : 1));
    return 0;
  }

  /** Stop listening: queued and half-open connections are reset. */
  unlisten(port: number): void {
    const l = this.listeners.get(port);
    if (!l) return;
    this.listeners.delete(port);
    for (const t of this.tcbs) {
      if (t.inUse && t.listenerSockid === l.sockid && t.localPort === port && t.sockid < 0) {
        t.inAcceptQueue = false;
        if (t.state === State.SynReceived) l.halfOpen--;
        t.listenerSockid = -1;
        this.fail(t, ECONNRESET, true);
      }
    }
  }

  /** Take the next established connection from a listener; null when none. */
  accept(l: Listener, sockid: number): Tcb | null {
    if (l.queueCount === 0) return null;
    const id = l.queue[l.queueHead];
    l.queueHead = (l.queueHead + 1) % l.queue.length;
    l.queueCount--;
    const t = this.tcbs[id];
    t.inAcceptQueue = false;
    t.sockid = sockid;
    return t;
  }

  /** A passive connection reached ESTABLISHED: queue it for accept. */
  enqueueAccepted(t: Tcb): void {
    const l = this.#listenerOf(t);
    if (!l) {
      this.fail(t, ECONNRESET, true);
      return;
    }
    l.halfOpen--;
    l.queue[(l.queueHead + l.queueCount) % l.queue.length] = t.id;
    l.queueCount++;
    t.inAcceptQueue = true;
    this.stats.tcpPassiveOpens++;
    this.events.wake(l.sockid, READY_IN);
  }

  /**
   * Active open. `localPort` 0 picks an ephemeral port. Returns the block, or
   * a negative errno.
   */
  connect(sockid: number, localIp: number, localPort: number, remoteIp: number, remotePort: number): Tcb | number {
    localIp |= 0; // addresses are int32 inside the stack
    remoteIp |= 0;
    if (localPort === 0) {
      localPort = this.#pickEphemeral(localIp, remoteIp, remotePort);
      if (localPort < 0) return -EADDRNOTAVAIL;
    } else if (this.queueOf(localIp, localPort, remoteIp, remotePort) !== this.rss.queue) {
      // The replies would reach another core, which has no such connection: mTCP's mtcp_connect refuses
      // a bound address whose RSS core (GetRSSCPUCore) is not the caller's with EINVAL too.
      return -EINVAL;
    } else if (this.flows.lookup(localIp, localPort, remoteIp, remotePort) >= 0) {
      return -EADDRINUSE;
    }
    const t = this.allocate();
    if (!t) return -ENOMEM;
    t.sockid = sockid;
    t.localIp = localIp;
    t.localPort = localPort;
    t.remoteIp = remoteIp;
    t.remotePort = remotePort;
    t.iss = this.isn.next(localIp, localPort, remoteIp, remotePort, this.now);
    t.sndUna = t.sndNxt = t.sndMax = t.iss;
    t.rcvWscale = this.localWscale;
    t.sndMss = 536; // until the peer's MSS option says more. RFC 9293 §3.7.1
    t.cc.init(this.effectiveMss(t), this.now);
    this.flows.insert(localIp, localPort, remoteIp, remotePort, t.id);
    this.setState(t, State.SynSent);
    this.stats.tcpActiveOpens++;
    this.touchIdle(t);
    this.scheduleOutput(t);
    return t;
  }

  /**
   * The receive queue the peer's segments of a connection arrive on: the RSS
   * queue of the tuple as the peer sends it (from remote to local).
   */
  queueOf(localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    return this.#rss ? this.#rss.queueOf(remoteIp, localIp, remotePort, localPort, this.rss.queues) : 0;
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
      if (this.listeners.has(port)) continue;
      if (this.#rss && this.queueOf(localIp, port, remoteIp, remotePort) !== queue) continue;
      if (this.flows.lookup(localIp, port, remoteIp, remotePort) < 0) return port;
    }
    return -1;
  }

  /** Queue application data. Returns bytes accepted or a negative errno. */
  send(t: Tcb, src: Uint8Array, off: number, len: number): number {
    if (t.failed) return -(t.error || EPIPE);
    if (t.finQueued) return -EPIPE;
    if (t.state === State.SynSent || t.state === State.SynReceived) return -EAGAIN;
    if (t.state !== State.Established && t.state !== State.CloseWait) return -ENOTCONN;
    if (len === 0) return 0;
    const n = t.sndBuf.write(src, off, len);
    if (n === 0) return -EAGAIN;
    this.scheduleOutput(t);
    return n;
  }

  /** Read (or peek) received data. Returns bytes, 0 at end of stream, or a negative errno. */
  receive(t: Tcb, dst: Uint8Array, off: number, len: number, peek: boolean): number {
    if (t.rcvBuf.readable > 0 && len > 0) {
      if (peek) return t.rcvBuf.peek(dst, off, len);
      const n = t.rcvBuf.read(dst, off, len);
      this.#maybeWindowUpdate(t);
      return n;
    }
    if (t.failed) return -(t.error || ECONNRESET);
    if (t.finReceived) return 0;
    if (len === 0) return 0;
    if (t.state === State.SynSent || t.state === State.SynReceived) return -EAGAIN;
    if (t.state === State.Closed) return -ENOTCONN;
    return -EAGAIN;
  }

  /** After the application read: announce a window that opened by at least min(buffer/2, MSS). RFC 9293 §3.8.6.2.2 */
  #maybeWindowUpdate(t: Tcb): void {
    if (t.state < State.Established || t.finReceived) return;
    const right = seqAdd(t.rcvNxt, t.rcvBuf.free);
    const grew = (right - t.rcvAdvRight) | 0;
    if (grew >= windowStep(this, t)) {
      t.ackPending = true;
      this.scheduleOutput(t);
    }
  }

  /** Close the sending side (queue a FIN). Returns 0 or an errno. RFC 9293 §3.10.4 */
  shutdownWrite(t: Tcb): number {
    switch (t.state) {
      case State.SynSent:
        this.terminate(t);
        return 0;
      case State.SynReceived:
      case State.Established:
        t.finQueued = true;
        this.setState(t, State.FinWait1);
        break;
      case State.CloseWait:
        t.finQueued = true;
        this.setState(t, State.LastAck);
        break;
      case State.Closed:
        return ENOTCONN;
      default:
        return 0; // already closing
    }
    this.scheduleOutput(t);
    return 0;
  }

  /**
   * The application closes its socket. Unread data makes it an abort (RST),
   * as in Linux; otherwise the close handshake runs on as an orphan.
   */
  close(t: Tcb): void {
    t.sockid = -1;
    if (t.state === State.Closed || t.failed) {
      this.#free(t);
      return;
    }
    if (t.rcvBuf.readable > 0) {
      this.abort(t);
      return;
    }
    this.shutdownWrite(t);
    if (!t.inUse) return;
    this.touchIdle(t);
    if (t.state === State.FinWait2) this.#startFinWait2Timeout(t);
  }

  /** Abort: send RST (when synchronized) and free everything. RFC 9293 §3.10.5 */
  abort(t: Tcb): void {
    if (t.state !== State.SynSent && t.state !== State.Closed && t.state !== State.TimeWait) sendAbortRst(this, t);
    t.sockid = -1;
    this.#unlink(t);
    this.setState(t, State.Closed);
    this.#free(t);
  }

  /** Readiness of a connection, as epoll bits. */
  readiness(t: Tcb): number {
    let m = 0;
    if (t.failed) return READY_IN | READY_OUT | READY_ERR | READY_HUP;
    if (t.rcvBuf.readable > 0) m |= READY_IN;
    if (t.finReceived) m |= READY_IN | READY_RDHUP;
    const writable = t.state === State.Established || t.state === State.CloseWait;
    if (writable && !t.finQueued && t.sndBuf.free > 0) m |= READY_OUT;
    if (t.state === State.Closed || (t.finReceived && t.finQueued)) m |= READY_HUP;
    return m;
  }
}

function removeFromQueue(l: Listener, id: number): void {
  const q = l.queue;
  let w = 0;
  for (let i = 0; i < l.queueCount; i++) {
    const v = q[(l.queueHead + i) % q.length];
    if (v !== id) q[(l.queueHead + w++) % q.length] = v;
  }
  l.queueCount = w;
}
