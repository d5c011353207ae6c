/**
 * Every connection's send buffer: bytes the application queued and the peer
 * has not acknowledged, one ring per connection. A connection takes a ring
 * from the pool when the application first writes and gives it back when the
 * peer has acknowledged everything (mTCP's SBInit on first write does the
 * same), so an idle connection holds no buffer.
 */
import type { BufferPool } from '../buffer-pool.ts';
import { copyBytes } from '../copy.ts';

export class SendBuffers {
  /** Ring size of every connection, bytes (the pool's slot size). */
  readonly capacity: number;
  /** Pool slot of each connection's ring plus one, 0 while it holds none. */
  readonly #slotOf: Int32Array;
  /** Ring position of the oldest byte. */
  readonly #head: Int32Array;
  /** Bytes queued and not yet acknowledged. */
  readonly #length: Int32Array;

  constructor(connections: number, readonly pool: BufferPool) {
    this.capacity = pool.size;
    this.#slotOf = new Int32Array(connections);
    this.#head = new Int32Array(connections);
    this.#length = new Int32Array(connections);
  }

  length(t: number): number {
    return this.#length[t];
  }

  free(t: number): number {
    return this.capacity - this.#length[t];
  }

  /** Whether a write to t could take a ring now (it holds one, or the pool has one). */
  canTakeRing(t: number): boolean {
    return this.#slotOf[t] !== 0 || this.pool.available;
  }

  /** Whether t holds a ring. */
  holdsRing(t: number): boolean {
    return this.#slotOf[t] !== 0;
  }

  /** Append up to len bytes; returns how many fit, or -1 when t needed a ring and the pool had none. */
  write(t: number, src: Uint8Array, off: number, len: number): number {
    const free = this.capacity - this.#length[t];
    const n = len < free ? len : free;
    if (n <= 0) return 0;
    if (this.#slotOf[t] === 0) {
      const slot = this.pool.alloc();
      if (slot < 0) return -1;
      this.#slotOf[t] = slot + 1;
      this.#head[t] = 0;
    }
    const slot = this.#slotOf[t] - 1;
    const bytes = this.pool.arenaOf(slot);
    const base = this.pool.baseOf(slot);
    const cap = this.capacity;
    let pos = this.#head[t] + this.#length[t];
    if (pos >= cap) pos -= cap;
    const first = n < cap - pos ? n : cap - pos;
    copyBytes(src, off, bytes, base + pos, first);
    if (first < n) copyBytes(src, off + first, bytes, base, n - first);
    this.#length[t] += n;
    return n;
  }

  /** Drop n acknowledged bytes from the head; the ring goes back to the pool once it is empty. */
  consume(t: number, n: number): void {
    const length = this.#length[t];
    if (n <= 0) return;
    if (n >= length) {
      this.release(t);
      return;
    }
    let head = this.#head[t] + n;
    if (head >= this.capacity) head -= this.capacity;
    this.#head[t] = head;
    this.#length[t] = length - n;
  }

  /** Copy len bytes starting `offset` bytes past the head into dst. */
  copyOut(t: number, offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    const slot = this.#slotOf[t] - 1;
    const bytes = this.pool.arenaOf(slot);
    const base = this.pool.baseOf(slot);
    const cap = this.capacity;
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
    this.pool.free(s - 1);
    this.#slotOf[t] = 0;
  }
}
