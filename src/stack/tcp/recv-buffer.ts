/**
 * Every connection's receive buffer: bytes received in order and waiting for
 * the application, and bytes received out of order waiting for a gap to
 * fill, in one ring per connection. In-order data starts at the ring's head;
 * out-of-order data sits at its place after it, and a range list
 * (seq-ranges.ts) says which sequence numbers are held.
 *
 * A connection takes a ring from the pool when its first byte arrives and
 * gives it back once the application has read everything (mTCP's buffer
 * managers do the same), so an idle connection holds no buffer.
 */
import type { BufferPool } from '../buffer-pool.ts';
import { copyBytes } from '../copy.ts';
import { seqAdd, seqDiff, seqGt, seqLt, type Seq } from '../wire/seqnum.ts';
import { RangeAdd, RangeFull, type SeqRangeLists } from './seq-ranges.ts';

export class RecvBuffers {
  /** Ring size of every connection, bytes (the pool's slot size). */
  readonly capacity: number;
  /** Pool slot of each connection's ring plus one, 0 while it holds none. */
  readonly #slotOf: Int32Array;
  /** Ring position of the first in-order byte. */
  readonly #head: Int32Array;
  /** In-order bytes held. */
  readonly #readable: Int32Array;

  constructor(
    connections: number,
    readonly pool: BufferPool,
    /** Out-of-order ranges held, as sequence numbers. */
    readonly ooo: SeqRangeLists,
  ) {
    this.capacity = pool.size;
    this.#slotOf = new Int32Array(connections);
    this.#head = new Int32Array(connections);
    this.#readable = new Int32Array(connections);
  }

  readable(t: number): number {
    return this.#readable[t];
  }

  /** Room for in-order data (out-of-order bytes occupy room beyond it, counted here as free). */
  free(t: number): number {
    return this.capacity - this.#readable[t];
  }

  /** Out-of-order ranges held. */
  oooCount(t: number): number {
    return this.ooo.count(t);
  }

  /** Whether t holds a ring (for the pool's accounting in tests). */
  holdsRing(t: number): boolean {
    return this.#slotOf[t] !== 0;
  }

  /**
   * Store `len` bytes of `src` that carry sequence numbers from `seq` on,
   * where `next` (RCV.NXT) is the first one not yet received in order; the
   * caller trimmed them to the window, so seq >= next. Returns how many bytes
   * the in-order data grew by (out-of-order data the segment joined
   * included), 0 for data stored out of order, -1 when it could not be kept
   * (too many out-of-order ranges, or no ring left in the pool).
   */
  insert(t: number, next: Seq, seq: Seq, src: Uint8Array, srcOff: number, len: number): number {
    const rel = seqDiff(seq, next);
    const room = this.free(t) - rel;
    if (len > room) len = room;
    if (len <= 0 || rel < 0) return 0;
    if (this.#slotOf[t] === 0) {
      const slot = this.pool.alloc();
      if (slot < 0) return -1;
      this.#slotOf[t] = slot + 1;
      this.#head[t] = 0;
    }
    if (rel > 0) {
      if (this.ooo.add(t, seq, seqAdd(seq, len), RangeFull.Refuse) === RangeAdd.Refused) {
        if (this.#readable[t] === 0 && this.ooo.count(t) === 0) this.release(t); // the ring was taken for nothing
        return -1;
      }
      this.#store(t, rel, src, srcOff, len);
      return 0;
    }
    this.#store(t, 0, src, srcOff, len);
    const before = this.#readable[t];
    this.#readable[t] = before + len;
    // Out-of-order ranges the in-order data now reaches join it.
    let end = seqAdd(next, len);
    const n = this.ooo.count(t);
    let joined = 0;
    while (joined < n && !seqGt(this.ooo.start(t, joined), end)) {
      const e = this.ooo.end(t, joined);
      if (seqGt(e, end)) {
        this.#readable[t] += seqDiff(e, end);
        end = e;
      }
      joined++;
    }
    this.ooo.removeFirst(t, joined);
    return this.#readable[t] - before;
  }

  /** Copy out up to `len` in-order bytes and consume them. */
  read(t: number, dst: Uint8Array, dstOff: number, len: number): number {
    const n = this.#copyOut(t, dst, dstOff, len);
    if (n === 0) return 0;
    const cap = this.capacity;
    let head = this.#head[t] + n;
    if (head >= cap) head -= cap;
    this.#head[t] = head;
    this.#readable[t] -= n;
    if (this.#readable[t] === 0 && this.ooo.count(t) === 0) this.release(t);
    return n;
  }

  /** Copy out up to `len` in-order bytes and leave them. */
  peek(t: number, dst: Uint8Array, dstOff: number, len: number): number {
    return this.#copyOut(t, dst, dstOff, len);
  }

  /** Drop everything and give the ring back (the connection ended). */
  release(t: number): void {
    const s = this.#slotOf[t];
    this.ooo.clear(t);
    this.#readable[t] = 0;
    this.#head[t] = 0;
    if (s === 0) return;
    this.pool.free(s - 1);
    this.#slotOf[t] = 0;
  }

  /**
   * Whether `seq` lies in out-of-order range i (i < oooCount(t)), for the
   * receiver's choice of the SACK block to report first.
   */
  oooHolds(t: number, i: number, seq: Seq): boolean {
    return !seqLt(seq, this.ooo.start(t, i)) && seqLt(seq, this.ooo.end(t, i));
  }

  #copyOut(t: number, dst: Uint8Array, dstOff: number, len: number): number {
    const readable = this.#readable[t];
    const n = len < readable ? len : readable;
    if (n <= 0) return 0;
    const slot = this.#slotOf[t] - 1;
    const bytes = this.pool.arenaOf(slot);
    const base = this.pool.baseOf(slot);
    const cap = this.capacity;
    const pos = this.#head[t];
    const first = n < cap - pos ? n : cap - pos;
    copyBytes(bytes, base + pos, dst, dstOff, first);
    if (first < n) copyBytes(bytes, base, dst, dstOff + first, n - first);
    return n;
  }

  /** Copy len bytes to ring position `rel` bytes past the end of the in-order data. */
  #store(t: number, rel: number, src: Uint8Array, srcOff: number, len: number): void {
    const slot = this.#slotOf[t] - 1;
    const bytes = this.pool.arenaOf(slot);
    const base = this.pool.baseOf(slot);
    const cap = this.capacity;
    let pos = this.#head[t] + this.#readable[t] + rel;
    while (pos >= cap) pos -= cap;
    const first = len < cap - pos ? len : cap - pos;
    copyBytes(src, srcOff, bytes, base + pos, first);
    if (first < len) copyBytes(src, srcOff + first, bytes, base, len - first);
  }
}
