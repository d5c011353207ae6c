/**
 * Loss recovery with SACK, RFC 6675: cwnd = ssthresh and the pipe (an
 * estimate of the octets still in the network) decides how much goes out;
 * the scoreboard decides what: first the holes presumed lost, then new
 * data, then the other holes below the highest SACKed octet (NextSeg).
 */
import { seqAdd, seqDiff, seqGt, seqLt, type Seq } from '../wire/seqnum.ts';
import { OUT_OF_SLOTS, type RecoveryStrategy, type Retransmissions } from './recovery-state.ts';
import { DUP_THRESH } from './sack-scoreboard.ts';

export class SackRecovery implements RecoveryStrategy {
  constructor(readonly rxt: Retransmissions) {}

  /** cwnd = ssthresh (set by congestion control) and the pipe governs what is sent. RFC 6675 §5 step 4 */
  enter(): void {}

  /**
   * The pipe shrank: send more (RFC 6675 §5 step (C)). The new first hole's
   * retransmission is judged only against data sent from now on.
   */
  partialAck(t: number, _acked: number, mss: number): void {
    const r = this.rxt;
    this.#resendLostRetransmissions(t, mss);
    r.state.firstRxtMark[t] = r.tcb.sndMax(t);
    r.output.schedule(t);
  }

  /** Each SACK may free room in the pipe; lost retransmissions are sent again. */
  duplicateAck(t: number, newlySacked: boolean, mss: number): void {
    const r = this.rxt;
    if (newlySacked && !this.#resendLostRetransmissions(t, mss) && this.#firstRetransmissionLost(t, mss)) r.oweFirstRetransmission(t);
    r.output.schedule(t);
  }

  /**
   * More than (DupThresh - 1) * SMSS bytes sent after the latest retransmission were SACKed while holes
   * below HighRxt stay unSACKed: every retransmission of those holes was lost too (the network delivers
   * in order here, as DupThresh assumes), so NextSeg starts over from SND.UNA. Without it each lost
   * retransmission above the first waited for the retransmission timeout. Returns whether it did.
   */
  #resendLostRetransmissions(t: number, mss: number): boolean {
    const r = this.rxt;
    const s = r.state;
    const una = r.tcb.sndUna(t);
    if (!seqGt(s.highRxt[t], una) || !this.#sackedAfter(t, s.lastRxtMark[t], mss)) return false;
    if (r.scoreboard.unsackedBetween(t, una, s.highRxt[t]) === 0) return false;
    s.highRxt[t] = una;
    s.lastRxtMark[t] = r.tcb.sndMax(t);
    r.oweFirstRetransmission(t);
    return true;
  }

  /**
   * RFC 6675 §5 step (C) with NextSeg rule (1): while cwnd - pipe leaves room
   * for a segment, retransmit the first hole presumed lost above HighRxt.
   * Returns the room left for new data, or OUT_OF_SLOTS.
   */
  room(t: number, mss: number): number {
    const r = this.rxt;
    const sb = r.scoreboard;
    const una = r.tcb.sndUna(t);
    const lostBelow = sb.count(t) > 0 ? sb.lossBoundary(t, una, mss) : una;
    return this.#retransmitHolesBelow(t, lostBelow, r.cc.cwnd(t) - this.#pipe(t, lostBelow), mss);
  }

  /** NextSeg rule (3): no new data to send, so retransmit unSACKed data below the highest SACKed octet. RFC 6675 §4 */
  idle(t: number, mss: number, room: number): boolean {
    const sb = this.rxt.scoreboard;
    if (sb.count(t) === 0) return true;
    return this.#retransmitHolesBelow(t, sb.highestSacked(t), room, mss) !== OUT_OF_SLOTS;
  }

  /**
   * Retransmit the holes above HighRxt and below `bound`, one MSS at a time,
   * while `room` leaves space for a segment. Returns the room left, or OUT_OF_SLOTS.
   */
  #retransmitHolesBelow(t: number, bound: Seq, room: number, mss: number): number {
    const r = this.rxt;
    const sb = r.scoreboard;
    while (room >= mss) {
      const from = this.#nextHole(t);
      if (!seqLt(from, bound)) break;
      const sent = r.retransmitFrom(t, from, sb.nextSackedAfter(t, from, r.tcb.sndMax(t)), mss);
      if (sent === OUT_OF_SLOTS) return OUT_OF_SLOTS;
      if (sent === 0) break;
      r.state.highRxt[t] = seqAdd(from, sent);
      r.state.lastRxtMark[t] = r.tcb.sndMax(t);
      room -= sent;
    }
    return room;
  }

  /** The first unSACKed octet not yet retransmitted in this recovery. */
  #nextHole(t: number): Seq {
    const r = this.rxt;
    const una = r.tcb.sndUna(t);
    const high = r.state.highRxt[t];
    return r.scoreboard.skipSacked(t, seqGt(high, una) ? high : una);
  }

  /**
   * Octets in the network during SACK recovery (RFC 6675 §4 SetPipe): unSACKed
   * octets not presumed lost, plus those retransmitted in this recovery.
   */
  #pipe(t: number, lostBelow: Seq): number {
    const r = this.rxt;
    const sb = r.scoreboard;
    return sb.unsackedBetween(t, lostBelow, r.tcb.sndMax(t)) + sb.unsackedBetween(t, r.tcb.sndUna(t), r.state.highRxt[t]);
  }

  /** More than (DupThresh - 1) * SMSS bytes sent after the last retransmission of SND.UNA were SACKed: it was lost. */
  #firstRetransmissionLost(t: number, mss: number): boolean {
    return this.#sackedAfter(t, this.rxt.state.firstRxtMark[t], mss);
  }

  /** More than (DupThresh - 1) * SMSS bytes sent after SND.MAX was `mark` are SACKed. */
  #sackedAfter(t: number, mark: Seq, mss: number): boolean {
    const sb = this.rxt.scoreboard;
    const highest = sb.highestSacked(t);
    if (!seqGt(highest, mark)) return false;
    return seqDiff(highest, mark) - sb.unsackedBetween(t, mark, highest) > (DUP_THRESH - 1) * mss;
  }
}
