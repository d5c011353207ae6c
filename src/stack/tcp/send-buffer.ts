/** Bytes the application queued and the peer has not acknowledged: a ring over one pool slot. */
import { PooledBuffer } from '../buffer-pool.ts';
import { copyBytes } from '../copy.ts';

export class SendBuffer extends PooledBuffer {
  /** Ring position of the oldest byte. */
  #head = 0;
  /** Bytes queued and not yet acknowledged. */
  #length = 0;

  protected clear(): void {
    this.#head = 0;
    this.#length = 0;
  }

  get length(): number {
    return this.#length;
  }

  get free(): number {
    return this.cap - this.#length;
  }

  /** Append up to len bytes; returns how many fit. */
  write(src: Uint8Array, off: number, len: number): number {
    const n = len < this.free ? len : this.free;
    if (n <= 0) return 0;
    const cap = this.cap;
    let pos = this.#head + this.#length;
    if (pos >= cap) pos -= cap;
    const first = n < cap - pos ? n : cap - pos;
    copyBytes(src, off, this.bytes, this.base + pos, first);
    if (first < n) copyBytes(src, off + first, this.bytes, this.base, n - first);
    this.#length += n;
    return n;
  }

  /** Drop n acknowledged bytes from the head. */
  consume(n: number): void {
    if (n <= 0) return;
    if (n > this.#length) n = this.#length;
    this.#head += n;
    if (this.#head >= this.cap) this.#head -= this.cap;
    this.#length -= n;
    if (this.#length === 0) this.#head = 0;
  }

  /** Copy len bytes starting `offset` bytes past the head into dst. */
  copyOut(offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    const cap = this.cap;
    let pos = this.#head + offset;
    if (pos >= cap) pos -= cap;
    const b = this.bytes;
    const base = this.base;
    const first = len < cap - pos ? len : cap - pos;
    copyBytes(b, base + pos, dst, dstOff, first);
    if (first < len) copyBytes(b, base, dst, dstOff + first, len - first);
  }
}
