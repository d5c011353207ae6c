/**
 * Loss recovery without SACK: NewReno, RFC 6582, on RFC 5681's fast
 * retransmit and fast recovery. The window is inflated by one segment for
 * each duplicate ACK (each one is a segment that left the network) and
 * deflated by partial ACKs, each of which also retransmits the next hole.
 */
import { seqAdd, seqDiff } from '../wire/seqnum.ts';
import { DUP_THRESH } from './sack-scoreboard.ts';
import type { RecoveryStrategy, Retransmissions } from './recovery-state.ts';

export class NewRenoRecovery implements RecoveryStrategy {
  constructor(readonly rxt: Retransmissions) {}

  /** cwnd = ssthresh + 3 * SMSS. RFC 5681 §3.2 step 3 */
  enter(t: number, mss: number): void {
    this.rxt.state.inflation[t] = DUP_THRESH * mss;
  }

  /**
   * Partial ACK: retransmit the first unacknowledged segment, deflate the
   * window by the amount acknowledged and add back one SMSS if at least one
   * was. RFC 6582 §3.2 step 5
   */
  partialAck(t: number, acked: number, mss: number): void {
    const r = this.rxt;
    r.oweFirstRetransmission(t);
    const cwnd = r.cc.cwnd(t);
    let window = cwnd + r.state.inflation[t] - acked + (acked >= mss ? mss : 0);
    if (window < mss) window = mss;
    r.state.inflation[t] = window - cwnd;
  }

  /** Each further duplicate ACK inflates the window by one segment. RFC 5681 §3.2 step 4 */
  duplicateAck(t: number, _newlySacked: boolean, mss: number): void {
    const r = this.rxt;
    if (r.state.dupAcks[t] <= DUP_THRESH) return;
    r.state.inflation[t] += mss;
    r.output.schedule(t);
  }

  /** New data fits in the inflated window. */
  room(t: number): number {
    const r = this.rxt;
    return seqDiff(seqAdd(r.tcb.sndUna(t), r.cc.cwnd(t) + r.state.inflation[t]), r.tcb.sndNxt(t));
  }

  idle(): boolean {
    return true;
  }
}
