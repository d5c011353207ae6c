/**
 * Every connection's send buffer: bytes the application queued and the peer
 * has not acknowledged, one ring per connection. A connection takes a ring
 * from the pools when the application first writes and gives it back when
 * the peer has acknowledged everything (mTCP's SBInit on first write does the
 * same), so an idle connection holds no buffer.
 *
 * The buffer's size starts at sndbuf and grows (buffer-classes.ts) like
 * Linux's tcp_sndbuf_expand: while the application keeps it full, an ACK
 * that frees room lets it grow to twice the congestion window, so the flight
 * is limited by the path and not by the buffer. Each time it drains (the
 * application, not the buffer, was the limit) it steps back down one class.
 */
import type { BufferClasses } from '../buffer-classes.ts';
import { copyBytes } from '../copy.ts';

export class SendBuffers {
  /** Pool slot of each connection's ring plus one, 0 while it holds none. */
  readonly #slotOf: Int32Array;
  /** Size class of the buffer: the application may queue up to its size; a ring held is of this class. */
  readonly #sizeClass: Uint8Array;
  /** 1 when a write was cut short by the buffer's size since the last growth check. */
  readonly #writerLimited: Uint8Array;
  /** Ring position of the oldest byte. */
  readonly #head: Int32Array;
  /** Bytes queued and not yet acknowledged. */
  readonly #length: Int32Array;

  constructor(connections: number, readonly classes: BufferClasses) {
    this.#slotOf = new Int32Array(connections);
    this.#sizeClass = new Uint8Array(connections);
    this.#writerLimited = new Uint8Array(connections);
    this.#head = new Int32Array(connections);
    this.#length = new Int32Array(connections);
  }

  /** A connection begins or ends: no ring, the size back to sndbuf and its reservation given back. */
  reset(t: number): void {
    this.release(t);
    this.classes.reserve(this.#sizeClass[t], 0);
    this.#sizeClass[t] = 0;
    this.#writerLimited[t] = 0;
  }

  /** The buffer's size, bytes. */
  capacity(t: number): number {
    return this.classes.sizeOf(this.#sizeClass[t]);
  }

  length(t: number): number {
    return this.#length[t];
  }

  free(t: number): number {
    return this.capacity(t) - this.#length[t];
  }

  /** Whether a write to t could take a ring now (it holds one, or the pool has one). */
  canTakeRing(t: number): boolean {
    return this.#slotOf[t] !== 0 || this.classes.available;
  }

  /** Whether t holds a ring. */
  holdsRing(t: number): boolean {
    return this.#slotOf[t] !== 0;
  }

  /** Append up to len bytes; returns how many fit, or -1 when t needed a ring and the pool had none. */
  write(t: number, src: Uint8Array, off: number, len: number): number {
    const length = this.#length[t];
    const free = this.capacity(t) - length;
    let n = len < free ? len : free;
    if (n < len) this.#writerLimited[t] = 1;
    if (n <= 0) return 0;
    if (this.#slotOf[t] === 0) {
      if (!this.#take(t)) return -1;
      const room = this.capacity(t);
      if (n > room) n = room;
    }
    const c = this.#sizeClass[t];
    const cap = this.classes.sizeOf(c);
    const slot = this.#slotOf[t] - 1;
    const bytes = this.classes.arenaOf(c, slot);
    const base = this.classes.baseOf(c, slot);
    let pos = this.#head[t] + length;
    if (pos >= cap) pos -= cap;
    const first = n < cap - pos ? n : cap - pos;
    copyBytes(src, off, bytes, base + pos, first);
    if (first < n) copyBytes(src, off + first, bytes, base, n - first);
    this.#length[t] = length + n;
    return n;
  }

  /**
   * An ACK freed room: if the application filled the buffer since the last
   * one, let it grow to `target` bytes (twice the congestion window, Linux's
   * tcp_sndbuf_expand), into a larger ring at once when it holds one, as far
   * as the memory budget allows. Returns whether it grew.
   */
  expand(t: number, target: number): boolean {
    if (this.#writerLimited[t] === 0) return false;
    this.#writerLimited[t] = 0;
    const size = this.#sizeClass[t];
    const wanted = this.classes.classFor(target);
    let c = wanted;
    if (c <= size) return false;
    while (c > size && !this.classes.reserve(size, c)) c--;
    if (c < wanted) this.classes.memory.refused();
    if (c === size) return false;
    if (this.#slotOf[t] !== 0 && !this.#move(t, c)) {
      // No ring of that class left: the buffer stays as it is.
      this.classes.reserve(c, size);
      this.classes.memory.refused();
      return false;
    }
    this.#sizeClass[t] = c;
    return true;
  }

  /** Drop n acknowledged bytes from the head; the ring goes back to the pool once it is empty. */
  consume(t: number, n: number): void {
    const length = this.#length[t];
    if (n <= 0) return;
    if (n >= length) {
      this.release(t);
      // Drained: the application was the limit, so the buffer steps back down.
      const size = this.#sizeClass[t];
      if (size > 0 && this.#writerLimited[t] === 0) {
        this.classes.reserve(size, size - 1);
        this.#sizeClass[t] = size - 1;
      }
      return;
    }
    const cap = this.classes.sizeOf(this.#sizeClass[t]);
    let head = this.#head[t] + n;
    if (head >= cap) head -= cap;
    this.#head[t] = head;
    this.#length[t] = length - n;
  }

  /** Copy len bytes starting `offset` bytes past the head into dst. */
  copyOut(t: number, offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    const c = this.#sizeClass[t];
    const slot = this.#slotOf[t] - 1;
    const bytes = this.classes.arenaOf(c, slot);
    const base = this.classes.baseOf(c, slot);
    const cap = this.classes.sizeOf(c);
    let pos = this.#head[t] + offset;
    if (pos >= cap) pos -= cap;
    const first = len < cap - pos ? len : cap - pos;
    copyBytes(bytes, base + pos, dst, dstOff, first);
    if (first < len) copyBytes(bytes, base, dst, dstOff + first, len - first);
  }

  /** Drop everything and give the ring back. */
  release(t: number): void {
    const s = this.#slotOf[t];
    this.#length[t] = 0;
    this.#head[t] = 0;
    if (s === 0) return;
    this.classes.free(this.#sizeClass[t], s - 1);
    this.#slotOf[t] = 0;
  }

  /** Take a ring of the buffer's size, or smaller when that class has none left (see BufferClasses.takeRing). */
  #take(t: number): boolean {
    const c = this.classes.takeRing(this.#sizeClass[t]);
    if (c < 0) return false;
    this.#slotOf[t] = this.classes.takenSlot + 1;
    this.#sizeClass[t] = c;
    this.#head[t] = 0;
    return true;
  }

  /** Move t's bytes, oldest first, to a ring of class c (reserved); false (t keeps its ring) when the class has none left. */
  #move(t: number, c: number): boolean {
    const slot = this.classes.alloc(c);
    if (slot < 0) return false;
    const dst = this.classes.arenaOf(c, slot);
    const dstBase = this.classes.baseOf(c, slot);
    this.copyOut(t, 0, dst, dstBase, this.#length[t]);
    this.classes.free(this.#sizeClass[t], this.#slotOf[t] - 1);
    this.#slotOf[t] = slot + 1;
    this.#sizeClass[t] = c;
    this.#head[t] = 0;
    return true;
  }
}
