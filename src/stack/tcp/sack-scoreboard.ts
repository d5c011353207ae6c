/**
 * The sender's record of what each peer has SACKed above SND.UNA (RFC 6675
 * §3, the "scoreboard"), over a range list per connection (seq-ranges.ts).
 * SACKed data stays in the send buffer until it is cumulatively
 * acknowledged: a receiver may renege (RFC 2018 §8).
 */
import { seqDiff, seqGt, seqLt, type Seq } from '../wire/seqnum.ts';
import type { TcpFields } from '../wire/tcp.ts';
import { RangeAdd, RangeFull, type SeqRangeLists } from './seq-ranges.ts';

/** Duplicate ACKs (or SACKed segments) that mark a loss. RFC 6675 §2 DupThresh */
export const DUP_THRESH = 3;

export class SackScoreboard {
  constructor(readonly ranges: SeqRangeLists) {}

  /** SACKed ranges held for t. */
  count(t: number): number {
    return this.ranges.count(t);
  }

  /** End of the highest SACKed range; only meaningful when count(t) > 0. */
  highestSacked(t: number): Seq {
    return this.ranges.highestEnd(t);
  }

  /** Forget everything t's peer SACKed (after a second timeout in a row, or at the end). */
  reset(t: number): void {
    this.ranges.clear(t);
  }

  /**
   * Take the SACK blocks of an ACK (RFC 6675 §5: on every ACK) with SND.UNA
   * now at `una` and the data ending at `dataEnd`. Blocks outside
   * (una, dataEnd] are ignored: D-SACKs and nonsense. Returns whether the ACK
   * SACKed octets not SACKed before.
   */
  take(t: number, seg: TcpFields, una: Seq, dataEnd: Seq): boolean {
    if (this.ranges.count(t) > 0) this.ranges.trimBelow(t, una);
    let fresh = false;
    for (let i = 0; i < seg.sackCount; i++) {
      let left = seg.sackLeft[i];
      let right = seg.sackRight[i];
      if (seqLt(left, una)) left = una;
      if (seqGt(right, dataEnd)) right = dataEnd;
      if (seqLt(left, right) && seqGt(right, una) && this.ranges.add(t, left, right, RangeFull.ForgetHighest) === RangeAdd.Added) fresh = true;
    }
    return fresh;
  }

  /** End of the SACKed range holding `seq`, or `seq` itself when it is not SACKed. */
  skipSacked(t: number, seq: Seq): Seq {
    const r = this.ranges;
    const n = r.count(t);
    for (let i = 0; i < n; i++) {
      if (seqLt(seq, r.start(t, i))) return seq;
      if (seqLt(seq, r.end(t, i))) return r.end(t, i);
    }
    return seq;
  }

  /** Start of the first SACKed range above `seq`, or `limit` when none is below it. */
  nextSackedAfter(t: number, seq: Seq, limit: Seq): Seq {
    const r = this.ranges;
    const n = r.count(t);
    for (let i = 0; i < n; i++) {
      const s = r.start(t, i);
      if (seqGt(s, seq)) return seqLt(s, limit) ? s : limit;
    }
    return limit;
  }

  /**
   * Octets below the returned sequence number that are not SACKed count as
   * lost (RFC 6675 §4 IsLost): more than (DupThresh - 1) * SMSS bytes, or
   * DupThresh segments, are SACKed above them. Returns `una` when nothing is.
   */
  lossBoundary(t: number, una: Seq, mss: number): Seq {
    const r = this.ranges;
    let bytes = 0;
    let segments = 0;
    for (let i = r.count(t) - 1; i >= 0; i--) {
      const len = seqDiff(r.end(t, i), r.start(t, i));
      bytes += len;
      segments += Math.ceil(len / mss);
      if (bytes > (DUP_THRESH - 1) * mss || segments >= DUP_THRESH) return r.start(t, i);
    }
    return una;
  }

  /** Octets in [from, to) that are not SACKed. */
  unsackedBetween(t: number, from: Seq, to: Seq): number {
    let n = seqDiff(to, from);
    if (n <= 0) return 0;
    const r = this.ranges;
    const count = r.count(t);
    for (let i = 0; i < count; i++) {
      const s = r.start(t, i);
      const e = r.end(t, i);
      if (!seqLt(s, to)) break;
      const lo = seqGt(s, from) ? s : from;
      const hi = seqLt(e, to) ? e : to;
      const covered = seqDiff(hi, lo);
      if (covered > 0) n -= covered;
    }
    return n;
  }
}
