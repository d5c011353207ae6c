/**
 * The TCP layer of one context: it builds the roles and joins them, hands
 * each received segment to its connection or listener, runs the timer
 * dispatch, and sends everything owed at the output pass after the burst.
 *
 * The roles, each in its own file: tcb.ts (the control blocks, a row each),
 * lifecycle.ts (allocation, the flow table, state changes and ends),
 * listeners.ts and passive-open.ts (listening, SYN cookies),
 * stateless-replies.ts, segment-arrival.ts (RFC 9293 §3.10.7 in order),
 * receiver.ts, sender.ts, recovery.ts (with newreno-recovery.ts and
 * sack-recovery.ts), transmit.ts (building segments), timers.ts, and
 * socket-ops.ts, the face src/mtcp uses.
 */
import { BufferClasses, BufferMemory } from '../buffer-classes.ts';
import { DropReason } from '../drop-reason.ts';
import { ETIMEDOUT } from '../errno.ts';
import { RssSteering } from '../rss.ts';
import type { Stats } from '../stats.ts';
import { asTsVal, type TsVal } from '../wire/seqnum.ts';
import { TCP_RST, TcpFields } from '../wire/tcp.ts';
import { MAX_WSCALE } from '../wire/tcp-options.ts';
import { createCongestionControl, type CongestionControlName } from './congestion/index.ts';
import type { OutputQueue, SocketEvents, TcpClock, TcpTransmitter } from './contracts.ts';
import { Handshake } from './handshake.ts';
import { IsnGenerator } from './isn.ts';
import { ConnectionLife } from './lifecycle.ts';
import { Listeners } from './listeners.ts';
import { PassiveOpen } from './passive-open.ts';
import { MAX_WINDOW_FIELD, Receiver } from './receiver.ts';
import { RecvBuffers } from './recv-buffer.ts';
import { RecoveryState, Retransmissions } from './recovery-state.ts';
import { LossRecovery } from './recovery.ts';
import { RttEstimators } from './rtt.ts';
import { SackScoreboard } from './sack-scoreboard.ts';
import { SegmentArrival } from './segment-arrival.ts';
import { Sender } from './sender.ts';
import { SendBuffers } from './send-buffer.ts';
import { SeqRangeLists } from './seq-ranges.ts';
import { EPHEMERAL_FIRST, EPHEMERAL_LAST, TcpSockets, type RssQueue } from './socket-ops.ts';
import { State } from './state.ts';
import { StatelessReplies } from './stateless-replies.ts';
import { SynCookies } from './syn-cookie.ts';
import { TcbTable } from './tcb.ts';
import { ConnTimers } from './timers.ts';
import { Transmit } from './transmit.ts';

export interface TcpConfig {
  /** Maximum number of connections (control blocks). */
  maxConcurrency: number;
  /** Send and receive buffers in each pool. */
  maxNumBuffers: number;
  /** Receive and send buffer size per connection, bytes: what each starts at. */
  rcvbuf: number;
  sndbuf: number;
  /**
   * Largest receive and send buffer of one connection, bytes, as autotuning
   * grows them (rounded down to rcvbuf/sndbuf times a power of two; absent or
   * at most rcvbuf/sndbuf: no growth).
   */
  rcvbufMax?: number;
  sndbufMax?: number;
  /** Bytes the grown buffers of the whole context may hold together (default 256 MiB). */
  bufferMemory?: number;
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

/** Default budget of the grown buffers of one context, bytes (the tcp_buffer_memory key's default). */
export const DEFAULT_BUFFER_MEMORY = 256 << 20;

export type { SocketEvents, TcpTransmitter } from './contracts.ts';
export type { RssQueue } from './socket-ops.ts';

export class TcpEngine implements TcpClock, OutputQueue {
  /** Current time, ms (set by the context before each batch of work). */
  now = 0;
  readonly tcb: TcbTable;
  readonly timers: ConnTimers;
  /** The send and receive buffers' pools, one per size class, and the budget of the grown ones. */
  readonly sndPool: BufferClasses;
  readonly rcvPool: BufferClasses;
  readonly bufferMemory: BufferMemory;
  readonly sendBuffers: SendBuffers;
  readonly recvBuffers: RecvBuffers;
  readonly rtt: RttEstimators;
  readonly recovery: LossRecovery;
  readonly life: ConnectionLife;
  readonly listeners: Listeners;
  readonly receiver: Receiver;
  readonly transmit: Transmit;
  readonly sender: Sender;
  readonly replies: StatelessReplies;
  readonly arrival: SegmentArrival;
  readonly passiveOpen: PassiveOpen;
  /** The operations src/mtcp uses. */
  readonly sockets: TcpSockets;
  /** Reused parse target for incoming segments. */
  readonly seg = new TcpFields();
  /** Connections with something to send at the next output pass (a FIFO ring of ids). */
  readonly #outList: Int32Array;
  #outHead = 0;
  #outCount = 0;
  readonly #fire = (t: number): void => this.#onTimer(t);

  constructor(
    readonly config: TcpConfig,
    readonly stats: Stats,
    ip: TcpTransmitter,
    events: SocketEvents,
    /** The receive queue this context serves; segments of its connections must arrive there. */
    readonly rss: RssQueue = { queue: 0, queues: 1 },
  ) {
    if (!Number.isInteger(rss.queue) || rss.queue < 0 || rss.queue >= rss.queues) {
      throw new RangeError(`queue ${rss.queue} is not one of the port's ${rss.queues} queue(s)`);
    }
    const n = config.maxConcurrency;
    const secret = config.secret;
    const localMss = config.mtu - 40;
    this.bufferMemory = new BufferMemory(config.bufferMemory ?? DEFAULT_BUFFER_MEMORY, stats);
    this.sndPool = new BufferClasses(config.maxNumBuffers, config.sndbuf, config.sndbufMax ?? config.sndbuf, this.bufferMemory);
    this.rcvPool = new BufferClasses(config.maxNumBuffers, config.rcvbuf, config.rcvbufMax ?? config.rcvbuf, this.bufferMemory);
    let wscale = 0;
    // The smallest shift that lets the window field offer the largest the receive buffer may grow to. RFC 7323 §2.3
    while (wscale < MAX_WSCALE && this.rcvPool.maxSize / 2 ** wscale > MAX_WINDOW_FIELD) wscale++;
    this.#outList = new Int32Array(n);
    this.tcb = new TcbTable(n);
    this.timers = new ConnTimers(n, this, config.idleTimeoutMs, config.timeWaitMs);
    this.sendBuffers = new SendBuffers(n, this.sndPool);
    this.recvBuffers = new RecvBuffers(n, this.rcvPool, new SeqRangeLists(n, config.maxNumBuffers));
    this.rtt = new RttEstimators(n);
    const recoveryState = new RecoveryState(n, this.tcb, new SackScoreboard(new SeqRangeLists(n, config.maxNumBuffers)));
    this.listeners = new Listeners(this.tcb, stats);
    this.life = new ConnectionLife(this.tcb, this.timers, this.rtt, this.sendBuffers, this.recvBuffers, recoveryState,
      this.listeners, this, this, events, stats, secret[0] ^ 0x5bd1e995);
    this.receiver = new Receiver(this.tcb, this.recvBuffers, this.timers, this.rtt, this, this.life, this, events, stats,
      config.challengeAckLimit ?? 1000);
    this.transmit = new Transmit(this.tcb, this.sendBuffers, this.receiver, this.rtt, this.timers, this, ip, stats, localMss,
      config.sack !== false);
    const cc = createCongestionControl(config.cc, n);
    this.recovery = new LossRecovery(new Retransmissions(recoveryState, this.sendBuffers, cc, this.transmit, this), this);
    this.sender = new Sender(this.tcb, this.sendBuffers, this.recovery, this.transmit, this.rtt, this.timers, this, this.life,
      this, events, stats);
    this.replies = new StatelessReplies(this, stats, config.statelessRstLimit ?? 1000);
    const handshake = new Handshake(this.tcb, this, localMss, wscale, config.sack !== false);
    this.arrival = new SegmentArrival(this.tcb, this.receiver, this.sender, this.recovery, handshake, this.timers, this.replies,
      this, this.life, this, stats);
    const isn = new IsnGenerator(secret[0], secret[1]);
    const cookies = new SynCookies(secret[1] ^ 0x2545f491, secret[0] ^ 0x5851f42d);
    this.passiveOpen = new PassiveOpen(this.tcb, handshake, this.recovery, this.timers, isn, cookies, this, this.life, this,
      this.replies, this.arrival, stats, config.rcvbuf);
    const ephemeralStart = EPHEMERAL_FIRST + ((secret[1] >>> 0) % (EPHEMERAL_LAST - EPHEMERAL_FIRST + 1));
    this.sockets = new TcpSockets(this.tcb, this.life, this.listeners, this.sendBuffers, this.recvBuffers, this.receiver,
      this.recovery, this.timers, isn, this, this, stats, rss.queues > 1 ? new RssSteering() : null, rss, wscale, ephemeralStart);
  }

  /** Our timestamp clock: milliseconds, modulo 2^32. RFC 7323 §5.4 */
  tsNow(): TsVal {
    return asTsVal(this.now);
  }

  /** Connections in use (any state, orphans included). */
  get activeCount(): number {
    return this.tcb.inUseCount;
  }

  /** The timer wheel (one entry per connection with a timer armed). */
  get wheel(): ConnTimers['wheel'] {
    return this.timers.wheel;
  }

  /** The flow table (one entry per connection with an address). */
  get flows(): ConnectionLife['flows'] {
    return this.life.flows;
  }

  // ---- input ---------------------------------------------------------------

  /**
   * A parsed segment (in this.seg) from `srcIp` to `dstIp`; its payload is in
   * `buf` at seg.payloadOff. Returns a DropReason or 0.
   */
  input(buf: Uint8Array, srcIp: number, dstIp: number): DropReason {
    const seg = this.seg;
    this.stats.tcpInSegs++;
    const t = this.life.flows.lookup(dstIp, seg.dstPort, srcIp, seg.srcPort);
    if (t >= 0) return this.arrival.segmentArrives(t, buf, seg);
    const l = this.listeners.byPort.get(seg.dstPort);
    if (l !== undefined && (l.ip === 0 || l.ip === dstIp)) return this.passiveOpen.segmentArrives(l, buf, seg, srcIp, dstIp);
    // CLOSED: RFC 9293 §3.10.7.1
    if (!(seg.flags & TCP_RST)) this.replies.resetFor(seg, srcIp, dstIp);
    return DropReason.TcpNoSocket;
  }

  // ---- the output pass -------------------------------------------------------

  /** Ask for output at the next flush (OutputQueue). */
  schedule(t: number): void {
    const tcb = this.tcb;
    if (tcb.inOutputList(t) !== 0) return;
    tcb.setInOutputList(t, 1);
    const list = this.#outList;
    list[(this.#outHead + this.#outCount) % list.length] = t;
    this.#outCount++;
  }

  get hasPendingOutput(): boolean {
    return this.#outCount > 0 || this.replies.pending;
  }

  /**
   * Send what is owed: every scheduled connection's output, then the
   * stateless replies (after a connection's last segment, so that the RST
   * answering a segment that came after it cannot overtake it). Returns
   * segments sent.
   */
  flush(now: number): number {
    this.now = now;
    const before = this.stats.tcpOutSegs;
    const list = this.#outList;
    const tcb = this.tcb;
    let n = this.#outCount;
    while (n-- > 0) {
      const t = list[this.#outHead];
      this.#outHead = (this.#outHead + 1) % list.length;
      this.#outCount--;
      tcb.setInOutputList(t, 0);
      if (tcb.inUse(t) === 0) continue;
      if (!this.#outputOne(t)) {
        // Out of TX slots: retry at the next flush.
        this.schedule(t);
        return this.stats.tcpOutSegs - before;
      }
    }
    if (this.replies.pending) this.replies.send(this.transmit);
    return this.stats.tcpOutSegs - before;
  }

  /** One connection's output; a connection that ended is given back once its last RST or ACK is out. */
  #outputOne(t: number): boolean {
    const tcb = this.tcb;
    if (tcb.rstOwed(t) !== 0) {
      if (!this.transmit.abortRst(t)) return false;
      tcb.setRstOwed(t, 0);
    }
    if (tcb.state(t) !== State.Closed) return this.sender.output(t);
    if (tcb.ackNow(t) !== 0 && !this.transmit.ack(t)) return false;
    tcb.setAckNow(t, 0);
    tcb.setDupAcksOwed(t, 0);
    if (tcb.sockid(t) < 0) this.life.free(t);
    return true;
  }

  // ---- timers ------------------------------------------------------------------

  /** Run expired timers; returns how many fired. */
  runTimers(now: number): number {
    this.now = now;
    return this.timers.wheel.advance(now, this.#fire);
  }

  /** Earliest timer deadline (ms), Infinity when none. */
  nextTimerAt(): number {
    return this.timers.wheel.nextDeadline();
  }

  /** The timer dispatch: what each deadline that passed means for connection t. */
  #onTimer(t: number): void {
    const tcb = this.tcb;
    const timers = this.timers;
    if (tcb.inUse(t) === 0) return;
    const now = this.now;
    if (timers.timeWaitAt[t] >= 0 && now >= timers.timeWaitAt[t]) {
      this.life.terminate(t); // 2MSL over (RFC 9293 §3.10.8), or an orphan's FIN_WAIT_2 timeout
      return;
    }
    if (timers.idleAt[t] >= 0 && now >= timers.idleAt[t]) {
      // tcp_timeout (mTCP): nothing received for that long.
      this.life.fail(t, ETIMEDOUT, tcb.state(t) !== State.SynSent);
      return;
    }
    if (timers.delayedAckAt[t] >= 0 && now >= timers.delayedAckAt[t]) {
      timers.delayedAckAt[t] = -1;
      this.receiver.requestAck(t);
    }
    if (timers.keepaliveAt[t] >= 0 && now >= timers.keepaliveAt[t]) {
      this.sender.onKeepaliveTimeout(t);
      if (tcb.state(t) === State.Closed) return;
    }
    if (timers.rtoAt[t] >= 0 && now >= timers.rtoAt[t]) {
      timers.rtoAt[t] = -1;
      this.sender.onRetransmitTimeout(t);
      if (tcb.state(t) === State.Closed) return;
    }
    timers.rearm(t);
  }
}
