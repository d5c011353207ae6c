/**
 * Per-connection lists of sequence-number ranges: sorted, disjoint and not
 * touching, at most RANGES per list. The receive buffer keeps the
 * out-of-order data it holds in one (RFC 9293 §3.10.7.4, "segment text"),
 * the sender keeps what the peer SACKed in another (RFC 6675 §3, the
 * scoreboard). A connection takes a list from the pool when its first range
 * arrives and gives it back when the last one goes, so the connections that
 * never see loss or reordering (nearly all of them) hold none.
 */
import { SlotAllocator } from '../slot-allocator.ts';
import { seqArray, seqGt, seqLt, type Seq, type SeqArray } from '../wire/seqnum.ts';

/** Ranges per list. */
export const RANGES = 32;

/** What `add` did. */
export const enum RangeAdd {
  /** The range was already covered. */
  Nothing = 0,
  /** It covered sequence numbers not covered before. */
  Added = 1,
  /** It needed a new range and the list was full (with RangeFull.Refuse). */
  Refused = -1,
}

/** What a full list does with a range that needs one more entry. */
export const enum RangeFull {
  /** Refuse it (the receive buffer drops the segment). */
  Refuse,
  /** Forget the highest range to make room, or the new one when it is the highest (SACK is only advice). */
  ForgetHighest,
}

export class SeqRangeLists {
  /** List slot of each connection plus one, 0 while it holds no range. */
  readonly #slotOf: Int32Array;
  /** Ranges in each connection's list. */
  readonly #count: Uint8Array;
  /** Range i of slot s is [#start[s * RANGES + i], #end[s * RANGES + i]). */
  readonly #start: SeqArray;
  readonly #end: SeqArray;
  readonly #slots: SlotAllocator;

  /** `connections`: ids 0..connections-1; `lists`: how many may hold ranges at once. */
  constructor(connections: number, lists: number) {
    this.#slotOf = new Int32Array(connections);
    this.#count = new Uint8Array(connections);
    this.#slots = new SlotAllocator(lists);
    this.#start = seqArray(lists * RANGES);
    this.#end = seqArray(lists * RANGES);
  }

  /** Lists in use (connections holding ranges). */
  get listsInUse(): number {
    return this.#slots.inUse;
  }

  count(t: number): number {
    return this.#count[t];
  }

  /** Start of range i of connection t (i < count(t)). */
  start(t: number, i: number): Seq {
    return this.#start[(this.#slotOf[t] - 1) * RANGES + i];
  }

  /** End (exclusive) of range i of connection t. */
  end(t: number, i: number): Seq {
    return this.#end[(this.#slotOf[t] - 1) * RANGES + i];
  }

  /** End of the highest range; only meaningful when count(t) > 0. */
  highestEnd(t: number): Seq {
    return this.end(t, this.#count[t] - 1);
  }

  /** Forget every range of t and give its list back. */
  clear(t: number): void {
    const s = this.#slotOf[t];
    if (s === 0) return;
    this.#slots.free(s - 1);
    this.#slotOf[t] = 0;
    this.#count[t] = 0;
  }

  /**
   * Cover [left, right) (left before right). Ranges that overlap or touch it
   * merge into one.
   */
  add(t: number, left: Seq, right: Seq, full: RangeFull): RangeAdd {
    let n = this.#count[t];
    if (n === 0) {
      const slot = this.#slots.alloc();
      if (slot < 0) return RangeAdd.Refused; // no list free: as a full one
      this.#slotOf[t] = slot + 1;
    }
    const base = (this.#slotOf[t] - 1) * RANGES;
    const s = this.#start;
    const e = this.#end;
    // First range that ends at or after `left` (ranges that touch merge).
    let i = 0;
    while (i < n && seqLt(e[base + i], left)) i++;
    if (i < n && !seqGt(s[base + i], left) && !seqLt(e[base + i], right)) return RangeAdd.Nothing;
    if (i === n || seqLt(right, s[base + i])) {
      // No overlap: insert a new range at i.
      if (n === RANGES) {
        if (full === RangeFull.Refuse || i === n) return full === RangeFull.Refuse ? RangeAdd.Refused : RangeAdd.Nothing;
        n--; // forget the highest range
      }
      for (let k = n; k > i; k--) {
        s[base + k] = s[base + k - 1];
        e[base + k] = e[base + k - 1];
      }
      s[base + i] = left;
      e[base + i] = right;
      this.#count[t] = n + 1;
      return RangeAdd.Added;
    }
    // Overlaps or touches range i: widen it, then swallow the ranges it now reaches.
    if (seqLt(left, s[base + i])) s[base + i] = left;
    if (seqGt(right, e[base + i])) e[base + i] = right;
    let j = i + 1;
    while (j < n && !seqLt(e[base + i], s[base + j])) {
      if (seqGt(e[base + j], e[base + i])) e[base + i] = e[base + j];
      j++;
    }
    this.#remove(t, base, i + 1, j - i - 1);
    return RangeAdd.Added;
  }

  /** Forget everything below `seq`: whole ranges that end at or before it, and the part of one that starts before it. */
  trimBelow(t: number, seq: Seq): void {
    const n = this.#count[t];
    if (n === 0) return;
    const base = (this.#slotOf[t] - 1) * RANGES;
    let drop = 0;
    while (drop < n && !seqGt(this.#end[base + drop], seq)) drop++;
    this.#remove(t, base, 0, drop);
    if (this.#count[t] > 0 && seqLt(this.#start[base], seq)) this.#start[base] = seq;
  }

  /**
   * Forget the first `k` ranges (the receive buffer merged them into its
   * in-order data).
   */
  removeFirst(t: number, k: number): void {
    if (k > 0) this.#remove(t, (this.#slotOf[t] - 1) * RANGES, 0, k);
  }

  /** Remove `k` ranges from index `from`; the list goes back to the pool when it empties. */
  #remove(t: number, base: number, from: number, k: number): void {
    if (k <= 0) return;
    const n = this.#count[t];
    for (let i = from; i + k < n; i++) {
      this.#start[base + i] = this.#start[base + i + k];
      this.#end[base + i] = this.#end[base + i + k];
    }
    this.#count[t] = n - k;
    if (n - k === 0) this.clear(t);
  }
}
