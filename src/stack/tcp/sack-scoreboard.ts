/**
 * The sender's record of what the peer has SACKed above SND.UNA (RFC 6675 §3
 * "scoreboard"): sorted, disjoint ranges of sequence numbers, preallocated.
 * SACKed data stays in the send buffer until it is cumulatively acknowledged:
 * a receiver may renege (RFC 2018 §8).
 */
import { seqDiff, seqGt, seqLt } from '../wire/seqnum.ts';

/** Ranges kept; when full, the highest range is forgotten (SACK is only advice). */
export const SCOREBOARD_RANGES = 32;
/** Duplicate ACKs (or SACKed segments) that mark a loss. RFC 6675 §2 DupThresh */
export const DUP_THRESH = 3;

export class SackScoreboard {
  /** Range i is [start[i], end[i]) as int32 sequence numbers, ascending. */
  readonly #start = new Int32Array(SCOREBOARD_RANGES);
  readonly #end = new Int32Array(SCOREBOARD_RANGES);
  #count = 0;

  get count(): number {
    return this.#count;
  }

  reset(): void {
    this.#count = 0;
  }

  /** End of the highest SACKed range; only meaningful when count > 0. */
  get highestSacked(): number {
    return this.#end[this.#count - 1];
  }

  /**
   * Record a SACK block [left, right). The caller has checked that it lies
   * within (SND.UNA, SND.MAX]. Returns whether it covered octets not SACKed before.
   */
  add(left: number, right: number): boolean {
    const s = this.#start;
    const e = this.#end;
    let n = this.#count;
    // First range that ends at or after `left` (ranges that touch merge).
    let i = 0;
    while (i < n && seqLt(e[i], left)) i++;
    if (i < n && !seqGt(s[i], left) && !seqLt(e[i], right)) return false; // nothing new
    if (i === n || seqLt(right, s[i])) {
      // No overlap: insert a new range at i.
      if (n === SCOREBOARD_RANGES) {
        if (i === n) return false;
        n--; // forget the highest range
      }
      for (let k = n; k > i; k--) {
        s[k] = s[k - 1];
        e[k] = e[k - 1];
      }
      s[i] = left;
      e[i] = right;
      this.#count = n + 1;
      return true;
    }
    // Overlaps or touches range i: widen it, then swallow the ranges it now reaches.
    if (seqLt(left, s[i])) s[i] = left;
    if (seqGt(right, e[i])) e[i] = right;
    let j = i + 1;
    while (j < n && !seqLt(e[i], s[j])) {
      if (seqGt(e[j], e[i])) e[i] = e[j];
      j++;
    }
    const removed = j - i - 1;
    if (removed > 0) {
      for (let k = i + 1; k + removed < n; k++) {
        s[k] = s[k + removed];
        e[k] = e[k + removed];
      }
      this.#count = n - removed;
    }
    return true;
  }

  /** SND.UNA moved to `una`: forget what it covers. */
  advance(una: number): void {
    const s = this.#start;
    const e = this.#end;
    const n = this.#count;
    let drop = 0;
    while (drop < n && !seqGt(e[drop], una)) drop++;
    if (drop > 0) {
      for (let k = 0; k + drop < n; k++) {
        s[k] = s[k + drop];
        e[k] = e[k + drop];
      }
      this.#count = n - drop;
    }
    if (this.#count > 0 && seqLt(s[0], una)) s[0] = una;
  }

  /** End of the SACKed range holding `seq`, or `seq` itself when it is not SACKed. */
  skipSacked(seq: number): number {
    for (let i = 0; i < this.#count; i++) {
      if (seqLt(seq, this.#start[i])) return seq;
      if (seqLt(seq, this.#end[i])) return this.#end[i];
    }
    return seq;
  }

  /** Start of the first SACKed range above `seq`, or `limit` when none is below it. */
  nextSackedAfter(seq: number, limit: number): number {
    for (let i = 0; i < this.#count; i++) {
      if (seqGt(this.#start[i], seq)) return seqLt(this.#start[i], limit) ? this.#start[i] : limit;
    }
    return limit;
  }

  /**
   * Octets below the returned sequence number that are not SACKed count as
   * lost (RFC 6675 §4 IsLost): more than (DupThresh - 1) * SMSS bytes, or
   * DupThresh segments, are SACKed above them. Returns `una` when nothing is.
   */
  lossBoundary(una: number, mss: number): number {
    let bytes = 0;
    let segments = 0;
    for (let i = this.#count - 1; i >= 0; i--) {
      const len = seqDiff(this.#end[i], this.#start[i]);
      bytes += len;
      segments += Math.ceil(len / mss);
      if (bytes > (DUP_THRESH - 1) * mss || segments >= DUP_THRESH) return this.#start[i];
    }
    return una;
  }

  /** Octets in [from, to) that are not SACKed. */
  unsackedBetween(from: number, to: number): number {
    let n = seqDiff(to, from);
    if (n <= 0) return 0;
    for (let i = 0; i < this.#count; i++) {
      const s = this.#start[i];
      const e = this.#end[i];
      if (!seqLt(s, to)) break;
      const lo = seqGt(s, from) ? s : from;
      const hi = seqLt(e, to) ? e : to;
      const covered = seqDiff(hi, lo);
      if (covered > 0) n -= covered;
    }
    return n;
  }
}
