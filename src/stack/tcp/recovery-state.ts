/**
 * What loss recovery keeps per connection, and the retransmissions both
 * strategies (newreno-recovery.ts, sack-recovery.ts) send.
 */
import { TCP_ACK, TCP_FIN } from '../wire/tcp.ts';
import { asSeq, seqAdd, seqArray, seqDiff, seqGt, seqLt, type Seq, type SeqArray } from '../wire/seqnum.ts';
import type { OutputQueue } from './contracts.ts';
import type { SackScoreboard } from './sack-scoreboard.ts';
import type { SendBuffers } from './send-buffer.ts';
import type { TcbTable } from './tcb.ts';
import type { Transmit } from './transmit.ts';
import type { CongestionControl } from './congestion/controller.ts';

const SEQ_ZERO = asSeq(0);

/** A retransmission's answer when the TX ring is full. */
export const OUT_OF_SLOTS = -0x40000000;

/**
 * A way of recovering from a loss detected by duplicate ACKs: NewReno
 * without SACK (RFC 6582), RFC 6675 with it. The connection's congestion
 * control has already set ssthresh and cwnd when `enter` runs.
 */
export interface RecoveryStrategy {
  /** Recovery starts (the first retransmission is owed already). */
  enter(t: number, mss: number): void;
  /** A cumulative ACK of `acked` new bytes that does not complete recovery. */
  partialAck(t: number, acked: number, mss: number): void;
  /** One more duplicate ACK during recovery; `newlySacked`: it SACKed octets not SACKed before. */
  duplicateAck(t: number, newlySacked: boolean, mss: number): void;
  /**
   * The output pass: retransmit what recovery sends now, and return how many
   * bytes of new data the window leaves room for, or OUT_OF_SLOTS.
   */
  room(t: number, mss: number): number;
  /** No new data was left to send with `room` bytes to spare: retransmit what else recovery may. False when out of TX slots. */
  idle(t: number, mss: number, room: number): boolean;
}

export class RecoveryState {
  /** Consecutive duplicate ACKs. RFC 5681 §3.2 */
  readonly dupAcks: Int32Array;
  /** In fast recovery until SND.UNA passes `recover`. RFC 6582 */
  readonly inRecovery: Uint8Array;
  /** Highest sequence number sent when recovery started (or at the last timeout). RFC 6582 §3.2, RFC 6675 RecoveryPoint */
  readonly recover: SeqArray;
  /** After a timeout, duplicate ACKs start no fast retransmit until SND.UNA passes `recover`. RFC 6582 §3.2 step 1 */
  readonly recoverAfterRto: Uint8Array;
  /** Highest sequence number retransmitted in this recovery, plus one. RFC 6675 §2 HighRxt */
  readonly highRxt: SeqArray;
  /**
   * SND.MAX when the segment at SND.UNA was last sent again. Once enough data
   * sent after that is SACKed while SND.UNA stays put, the retransmission was
   * lost too (Linux's tcp_mark_lost_retrans; RACK, RFC 8985, generalizes it).
   */
  readonly firstRxtMark: SeqArray;
  /**
   * SND.MAX when the latest retransmission of this recovery was sent. Once enough data sent after it is
   * SACKed while holes below HighRxt stay unSACKed, those retransmissions were lost as well, and the holes
   * are sent again (Linux's tcp_mark_lost_retrans for every hole, not only the first).
   */
  readonly lastRxtMark: SeqArray;
  /** The segment at SND.UNA is owed a retransmission at the next output pass. */
  readonly firstRxtOwed: Uint8Array;
  /** NewReno's allowance on top of cwnd during recovery, bytes (RFC 5681 §3.2 steps 3-4, RFC 6582 §3.2 step 5). */
  readonly inflation: Int32Array;

  constructor(capacity: number, readonly tcb: TcbTable, readonly scoreboard: SackScoreboard) {
    this.dupAcks = new Int32Array(capacity);
    this.inRecovery = new Uint8Array(capacity);
    this.recover = seqArray(capacity);
    this.recoverAfterRto = new Uint8Array(capacity);
    this.highRxt = seqArray(capacity);
    this.firstRxtMark = seqArray(capacity);
    this.lastRxtMark = seqArray(capacity);
    this.firstRxtOwed = new Uint8Array(capacity);
    this.inflation = new Int32Array(capacity);
  }

  /** A new connection: not recovering, nothing SACKed. */
  reset(t: number): void {
    this.dupAcks[t] = 0;
    this.inRecovery[t] = 0;
    this.recover[t] = this.highRxt[t] = this.firstRxtMark[t] = this.lastRxtMark[t] = SEQ_ZERO;
    this.recoverAfterRto[t] = 0;
    this.firstRxtOwed[t] = 0;
    this.inflation[t] = 0;
    this.scoreboard.reset(t);
  }

  /** The connection ended: give back the scoreboard's ranges. */
  release(t: number): void {
    this.scoreboard.reset(t);
  }
}

/** The retransmissions both strategies send, and the first one a timeout or a loss owes. */
export class Retransmissions {
  readonly tcb: TcbTable;
  readonly scoreboard: SackScoreboard;

  constructor(
    readonly state: RecoveryState,
    readonly sendBuffers: SendBuffers,
    readonly cc: CongestionControl,
    readonly transmit: Transmit,
    readonly output: OutputQueue,
  ) {
    this.tcb = state.tcb;
    this.scoreboard = state.scoreboard;
  }

  /** Retransmit the segment at SND.UNA at the next output pass. */
  oweFirstRetransmission(t: number): void {
    this.state.firstRxtOwed[t] = 1;
    this.output.schedule(t);
  }

  /** Sequence number of our FIN: right after the last byte of queued data. */
  finSeq(t: number): Seq {
    return seqAdd(this.tcb.sndUna(t), this.sendBuffers.length(t));
  }

  /**
   * Retransmit up to one MSS of sequence space from `seq`, stopping before
   * `limit` (the next SACKed range, or SND.MAX); our FIN rides on the segment
   * that reaches it. Returns the sequence space sent (0: nothing to send), or
   * OUT_OF_SLOTS.
   */
  retransmitFrom(t: number, seq: Seq, limit: Seq, mss: number): number {
    const fin = this.finSeq(t);
    let n = seqDiff(seqLt(limit, fin) ? limit : fin, seq);
    if (n > mss) n = mss;
    if (n < 0) n = 0;
    let flags = TCP_ACK;
    if (this.tcb.finSent(t) !== 0 && seqGt(this.tcb.sndMax(t), fin) && seqAdd(seq, n) === fin && seqGt(limit, fin)) flags |= TCP_FIN;
    if (n === 0 && !(flags & TCP_FIN)) return 0;
    if (!this.transmit.segment(t, seq, flags, n)) return OUT_OF_SLOTS;
    return flags & TCP_FIN ? n + 1 : n;
  }

  /**
   * Retransmit the oldest unacknowledged segment: fast retransmit and
   * NewReno's partial ACKs (RFC 5681 §3.2, RFC 6582), the first segment of
   * SACK recovery (RFC 6675 §5 step 4.3), a timeout (RFC 6298 (5.4)).
   * Returns false when out of TX slots (it stays owed).
   */
  retransmitFirst(t: number, mss: number): boolean {
    const una = this.tcb.sndUna(t);
    const sent = this.retransmitFrom(t, una, this.scoreboard.nextSackedAfter(t, una, this.tcb.sndMax(t)), mss);
    if (sent === OUT_OF_SLOTS) return false;
    const s = this.state;
    if (sent > 0 && seqGt(seqAdd(una, sent), s.highRxt[t])) s.highRxt[t] = seqAdd(una, sent);
    s.firstRxtMark[t] = s.lastRxtMark[t] = this.tcb.sndMax(t);
    s.firstRxtOwed[t] = 0;
    return true;
  }
}
