/**
 * Every connection's receive buffer: bytes received in order and waiting for
 * the application, and bytes received out of order waiting for a gap to
 * fill, in one ring per connection. In-order data starts at the ring's head;
 * out-of-order data sits at its place after it, and a range list
 * (seq-ranges.ts) says which sequence numbers are held.
 *
 * A connection takes a ring from the pools when its first byte arrives and
 * gives it back once the application has read everything (mTCP's buffer
 * managers do the same), so an idle connection holds no buffer.
 *
 * The buffer's size (what the window offers) starts at rcvbuf and grows
 * (buffer-classes.ts) like Linux's receive autotuning (tcp_rcv_space_adjust,
 * "dynamic right-sizing"): to twice what the application read in the last
 * round trip, and to twice the span of out-of-order data that reaches past
 * half of it (the sender's recovery must not stall on our window). After a
 * second without reading, the window offers only what the last measure needs,
 * and once the peer has used the window offered before (its right edge never
 * moves left, RFC 9293 §3.8.6) the buffer shrinks to that and gives back its
 * reservation: data up to an edge offered always has room.
 */
import type { BufferClasses } from '../buffer-classes.ts';
import { copyBytes } from '../copy.ts';
import { seqAdd, seqDiff, seqGt, seqLt, type Seq } from '../wire/seqnum.ts';
import { RangeAdd, RangeFull, type SeqRangeLists } from './seq-ranges.ts';

/** A measure longer than this found the connection idle: its size may shrink back (ms). */
export const RECV_IDLE_MS = 1000;

export class RecvBuffers {
  /** Pool slot of each connection's ring plus one, 0 while it holds none. */
  readonly #slotOf: Int32Array;
  /** Size class of the buffer: it reserved this size, and a ring held is of this class. */
  readonly #sizeClass: Uint8Array;
  /**
   * Size class the window offers (at most #sizeClass): lower after an idle
   * spell, until the peer has used the window offered before; then the
   * buffer shrinks to it.
   */
  readonly #offerClass: Uint8Array;
  /** Ring position of the first in-order byte. */
  readonly #head: Int32Array;
  /** In-order bytes held. */
  readonly #readable: Int32Array;
  /** Bytes the application read since the measure began. */
  readonly #readInMeasure: Int32Array;
  /** When the measure began, ms (modulo 2^32). */
  readonly #measureAt: Int32Array;

  constructor(
    connections: number,
    readonly classes: BufferClasses,
    /** Out-of-order ranges held, as sequence numbers. */
    readonly ooo: SeqRangeLists,
  ) {
    this.#slotOf = new Int32Array(connections);
    this.#sizeClass = new Uint8Array(connections);
    this.#offerClass = new Uint8Array(connections);
    this.#head = new Int32Array(connections);
    this.#readable = new Int32Array(connections);
    this.#readInMeasure = new Int32Array(connections);
    this.#measureAt = new Int32Array(connections);
  }

  /** A connection begins or ends: no ring, the size back to rcvbuf and its reservation given back. */
  reset(t: number, now: number): void {
    this.release(t);
    this.classes.reserve(this.#sizeClass[t], 0);
    this.#sizeClass[t] = 0;
    this.#offerClass[t] = 0;
    this.#readInMeasure[t] = 0;
    this.#measureAt[t] = now | 0;
  }

  /** The buffer's size as the window offers it, bytes. */
  capacity(t: number): number {
    return this.classes.sizeOf(this.#offerClass[t]);
  }

  readable(t: number): number {
    return this.#readable[t];
  }

  /** Room for in-order data (out-of-order bytes occupy room beyond it, counted here as free). */
  free(t: number): number {
    return this.capacity(t) - this.#readable[t];
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
   * (too many out-of-order ranges, or no ring left in the pools).
   */
  insert(t: number, next: Seq, seq: Seq, src: Uint8Array, srcOff: number, len: number): number {
    const rel = seqDiff(seq, next);
    if (rel < 0) return 0;
    const readable = this.#readable[t];
    const room = this.classes.maxSize - readable - rel;
    if (len > room) len = room;
    if (len <= 0) return 0;
    const need = readable + rel + len;
    // Out-of-order data past half the buffer: room for twice its span, so recovery does not stall on the window.
    if (rel > 0 && rel + len > this.capacity(t) >>> 1) this.#grow(t, this.classes.classFor(2 * (rel + len)));
    // Data up to a right edge offered before (its rounding up to the window scale): a ring that holds it.
    if (need > this.classes.sizeOf(this.#sizeClass[t])) this.#grow(t, this.classes.classFor(need));
    if (this.#slotOf[t] === 0 && !this.#take(t)) return -1;
    const cap = this.classes.sizeOf(this.#sizeClass[t]);
    if (need > cap) {
      // The budget refused: keep what fits (the rest is lost and resent, as from a pruned queue), counted.
      len -= need - cap;
      if (len <= 0) return -1;
    }
    if (rel > 0) {
      if (this.ooo.add(t, seq, seqAdd(seq, len), RangeFull.Refuse) === RangeAdd.Refused) {
        if (readable === 0 && this.ooo.count(t) === 0) this.release(t); // the ring was taken for nothing
        return -1;
      }
      this.#store(t, rel, src, srcOff, len);
      return 0;
    }
    this.#store(t, 0, src, srcOff, len);
    this.#readable[t] = readable + len;
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
    return this.#readable[t] - readable;
  }

  /**
   * The application read `n` bytes at `now` (ms) on a path whose round trip
   * is `rttMs`, with `advertised` bytes of window still offered beyond RCV.NXT:
   * once a round trip has passed, the buffer grows to twice what was read per
   * round trip (Linux's tcp_rcv_space_adjust), or, when the measure spanned an
   * idle spell, shrinks back to that. Returns whether the window offered grew.
   */
  measureRead(t: number, n: number, now: number, rttMs: number, advertised: number): boolean {
    const offer = this.#offerClass[t];
    if (offer < this.#sizeClass[t] && this.#slotOf[t] === 0 && advertised <= this.classes.sizeOf(offer)) {
      // The window offered before the idle spell is used up: the buffer shrinks to what it offers now.
      this.classes.reserve(this.#sizeClass[t], offer);
      this.#sizeClass[t] = offer;
    }
    const read = (this.#readInMeasure[t] += n);
    const elapsed = ((now | 0) - this.#measureAt[t]) | 0;
    const rtt = rttMs > 1 ? rttMs : 1;
    if (elapsed < rtt) return false;
    this.#readInMeasure[t] = 0;
    this.#measureAt[t] = now | 0;
    // What was read since the measure began, as Linux counts it (a measure may last longer than a round trip).
    const c = this.classes.classFor(2 * read);
    if (c > offer) return this.#grow(t, c);
    if (elapsed >= RECV_IDLE_MS) {
      // The measure spanned an idle spell: offer twice what was read per round trip over it; the buffer
      // keeps its size (and its reservation) until the peer has used the window offered before.
      const idle = this.classes.classFor((2 * read * rtt) / elapsed);
      if (idle < offer) this.#offerClass[t] = idle;
    }
    return false;
  }

  /**
   * Let the buffer grow towards class c, as far as the memory budget allows
   * (what it refuses is counted), into a larger ring at once when it holds
   * one; the window offers it. Returns whether the window offered grew.
   */
  #grow(t: number, c: number): boolean {
    const offer = this.#offerClass[t];
    const size = this.#sizeClass[t];
    if (c <= size) {
      if (c <= offer) return false;
      this.#offerClass[t] = c;
      return true;
    }
    const wanted = c;
    while (c > size && !this.classes.reserve(size, c)) c--;
    if (c < wanted) this.classes.memory.refused();
    if (c > size && this.#slotOf[t] !== 0 && !this.#move(t, c)) {
      // No ring of that class left: the buffer stays as it is.
      this.classes.reserve(c, size);
      this.classes.memory.refused();
      c = size;
    }
    this.#sizeClass[t] = c;
    if (c <= offer) return false;
    this.#offerClass[t] = c;
    return true;
  }

  /** Copy out up to `len` in-order bytes and consume them. */
  read(t: number, dst: Uint8Array, dstOff: number, len: number): number {
    const n = this.#copyOut(t, dst, dstOff, len);
    if (n === 0) return 0;
    const cap = this.classes.sizeOf(this.#sizeClass[t]);
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
    this.classes.free(this.#sizeClass[t], s - 1);
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
    const c = this.#sizeClass[t];
    const slot = this.#slotOf[t] - 1;
    const bytes = this.classes.arenaOf(c, slot);
    const base = this.classes.baseOf(c, slot);
    const cap = this.classes.sizeOf(c);
    const pos = this.#head[t];
    const first = n < cap - pos ? n : cap - pos;
    copyBytes(bytes, base + pos, dst, dstOff, first);
    if (first < n) copyBytes(bytes, base, dst, dstOff + first, n - first);
    return n;
  }

  /** Copy len bytes to ring position `rel` bytes past the end of the in-order data. */
  #store(t: number, rel: number, src: Uint8Array, srcOff: number, len: number): void {
    const c = this.#sizeClass[t];
    const slot = this.#slotOf[t] - 1;
    const bytes = this.classes.arenaOf(c, slot);
    const base = this.classes.baseOf(c, slot);
    const cap = this.classes.sizeOf(c);
    let pos = this.#head[t] + this.#readable[t] + rel;
    while (pos >= cap) pos -= cap;
    const first = len < cap - pos ? len : cap - pos;
    copyBytes(src, srcOff, bytes, base + pos, first);
    if (first < len) copyBytes(src, srcOff + first, bytes, base, len - first);
  }

  /** Take a ring of the buffer's size, or smaller when that class has none left (see BufferClasses.takeRing). */
  #take(t: number): boolean {
    const size = this.#sizeClass[t];
    const c = this.classes.takeRing(size);
    if (c < 0) return false;
    if (c < size && this.#offerClass[t] > c) this.#offerClass[t] = c;
    this.#slotOf[t] = this.classes.takenSlot + 1;
    this.#sizeClass[t] = c;
    this.#head[t] = 0;
    return true;
  }

  /**
   * Move t's bytes to a ring of class c in order from the head (the whole
   * old ring: each step doubles, so the copies add up to less than the bytes
   * the ring ends with; the caller reserved c); false (t keeps its ring) when
   * the class has none left.
   */
  #move(t: number, c: number): boolean {
    const slot = this.classes.alloc(c);
    if (slot < 0) return false;
    const old = this.#sizeClass[t];
    const oldSlot = this.#slotOf[t] - 1;
    const src = this.classes.arenaOf(old, oldSlot);
    const srcBase = this.classes.baseOf(old, oldSlot);
    const oldCap = this.classes.sizeOf(old);
    const dst = this.classes.arenaOf(c, slot);
    const dstBase = this.classes.baseOf(c, slot);
    // The in-order data and the out-of-order span keep their offsets from the head.
    const pos = this.#head[t];
    copyBytes(src, srcBase + pos, dst, dstBase, oldCap - pos);
    if (pos > 0) copyBytes(src, srcBase, dst, dstBase + oldCap - pos, pos);
    this.classes.free(old, oldSlot);
    this.#slotOf[t] = slot + 1;
    this.#sizeClass[t] = c;
    this.#head[t] = 0;
    return true;
  }
}
