/**
 * Replies to segments that have no connection behind them: the RST that
 * answers a segment for no connection or a bad ACK in the handshake (RFC
 * 9293 §3.10.7.1, §3.10.7.2, §3.10.7.3) and the SYN|ACK carrying a SYN cookie
 * (RFC 4987 §3.6). They are queued during input and sent at the output pass
 * with the rest of the burst's output. Anyone can provoke the RSTs, so they
 * come out of a budget per second.
 */
import { DropReason } from '../drop-reason.ts';
import type { Stats } from '../stats.ts';
import { asSeq, seqAdd, seqArray, type Seq, type SeqArray } from '../wire/seqnum.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpFields } from '../wire/tcp.ts';
import type { TcpClock } from './contracts.ts';
import { RateBudget } from './rate-budget.ts';
import type { Transmit } from './transmit.ts';

/** Replies one output pass may owe (a burst brings at most 64 segments, and each gets at most one). */
const QUEUE = 256;
const SEQ_ZERO = asSeq(0);

export class StatelessReplies {
  /** Replies queued. */
  #count = 0;
  /** Addresses and ports of each reply, as it goes out (from us to the peer). */
  readonly #srcIp = new Int32Array(QUEUE);
  readonly #dstIp = new Int32Array(QUEUE);
  readonly #srcPort = new Int32Array(QUEUE);
  readonly #dstPort = new Int32Array(QUEUE);
  readonly #seq: SeqArray = seqArray(QUEUE);
  readonly #ack: SeqArray = seqArray(QUEUE);
  readonly #flags = new Uint8Array(QUEUE);
  /** Window field (unscaled). */
  readonly #window = new Int32Array(QUEUE);
  /** MSS option, -1 for none. */
  readonly #mss = new Int32Array(QUEUE);
  /** Emit source for the replies. */
  readonly #out = new TcpFields();
  readonly #rstBudget: RateBudget;

  constructor(
    readonly clock: TcpClock,
    readonly stats: Stats,
    /** RSTs per second answering segments that match no connection. */
    rstsPerSecond: number,
  ) {
    this.#rstBudget = new RateBudget(rstsPerSecond);
  }

  /** Whether replies wait for the output pass. */
  get pending(): boolean {
    return this.#count > 0;
  }

  /**
   * A RST answering `seg`, which came from srcIp to dstIp and has no
   * connection. RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST> if it carried an
   * ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
   */
  resetFor(seg: TcpFields, srcIp: number, dstIp: number): void {
    if (!this.#rstBudget.take(this.clock.now)) {
      this.stats.tcpRstsSuppressed++;
      return;
    }
    const segLen = seg.payloadLen + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
    const hasAck = (seg.flags & TCP_ACK) !== 0;
    this.#queue(seg, srcIp, dstIp, hasAck ? TCP_RST : TCP_RST | TCP_ACK, hasAck ? seg.ack : SEQ_ZERO,
      hasAck ? SEQ_ZERO : seqAdd(seg.seq, segLen), 0, -1);
  }

  /** A SYN|ACK answering the SYN `seg` with sequence number `cookie`, `window` and the MSS option only. RFC 4987 §3.6 */
  cookieSynAck(seg: TcpFields, srcIp: number, dstIp: number, cookie: Seq, window: number, mss: number): DropReason {
    return this.#queue(seg, srcIp, dstIp, TCP_SYN | TCP_ACK, cookie, seqAdd(seg.seq, 1), window, mss) ? DropReason.None : DropReason.TcpReplyQueueFull;
  }

  /** Queue a reply to `seg`; false when the queue is full (counted). */
  #queue(seg: TcpFields, srcIp: number, dstIp: number, flags: number, seq: Seq, ack: Seq, window: number, mss: number): boolean {
    if (this.#count === QUEUE) {
      this.stats.drops[DropReason.TcpReplyQueueFull]++;
      return false;
    }
    const i = this.#count++;
    this.#srcIp[i] = dstIp;
    this.#dstIp[i] = srcIp;
    this.#srcPort[i] = seg.dstPort;
    this.#dstPort[i] = seg.srcPort;
    this.#seq[i] = seq;
    this.#ack[i] = ack;
    this.#flags[i] = flags;
    this.#window[i] = window;
    this.#mss[i] = mss;
    return true;
  }

  /** Send the queued replies; false when the TX ring filled (the rest wait for the next pass, in order). */
  send(transmit: Transmit): boolean {
    const f = this.#out;
    const n = this.#count;
    let i = 0;
    for (; i < n; i++) {
      f.srcPort = this.#srcPort[i];
      f.dstPort = this.#dstPort[i];
      f.seq = this.#seq[i];
      f.ack = this.#ack[i];
      f.flags = this.#flags[i];
      f.window = this.#window[i];
      f.urgent = 0;
      f.mss = this.#mss[i];
      f.wscale = -1;
      f.sackPermitted = false;
      f.hasTimestamp = false;
      f.sackCount = 0;
      if (!transmit.stateless(f, this.#srcIp[i], this.#dstIp[i])) break;
      if (f.flags & TCP_RST) this.stats.tcpRstSent++;
      else this.stats.tcpSynCookiesSent++;
    }
    if (i > 0 && i < n) {
      for (const a of [this.#srcIp, this.#dstIp, this.#srcPort, this.#dstPort, this.#seq, this.#ack, this.#window, this.#mss]) a.copyWithin(0, i, n);
      this.#flags.copyWithin(0, i, n);
    }
    this.#count = n - i;
    return i === n;
  }
}
