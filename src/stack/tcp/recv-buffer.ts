/**
 * Received bytes waiting for the application, and out-of-order bytes waiting
 * for a gap to fill: one ring over one pool slot. In-order data starts at the
 * head; out-of-order data sits at its place after it, and a small sorted table
 * of ranges (absolute stream offsets) says which bytes are held.
 */
import { PooledBuffer } from '../buffer-pool.ts';
import { copyBytes } from '../copy.ts';

/** Out-of-order ranges kept per connection; a segment that would need more is dropped. */
export const RECV_MAX_OOO_RANGES = 32;

export class RecvBuffer extends PooledBuffer {
  /** Ring position of the first in-order byte. */
  #head = 0;
  /** In-order bytes held. */
  #readable = 0;
  /** Stream offset of the byte at #head (counts every byte ever received in order). */
  #headOffset = 0;
  /** Out-of-order ranges as absolute stream offsets [start, end), sorted, disjoint, non-adjacent. */
  readonly #oooStart = new Float64Array(RECV_MAX_OOO_RANGES);
  /** Exclusive ends of the out-of-order ranges (absolute stream offsets). */
  readonly #oooEnd = new Float64Array(RECV_MAX_OOO_RANGES);
  /** Out-of-order ranges held. */
  #oooCount = 0;

  protected clear(): void {
    this.#head = 0;
    this.#readable = 0;
    this.#headOffset = 0;
    this.#oooCount = 0;
  }

  get readable(): number {
    return this.#readable;
  }

  get free(): number {
    return this.cap - this.#readable;
  }

  get oooCount(): number {
    return this.#oooCount;
  }

  /** Start of out-of-order range i, relative to the end of the in-order data. */
  oooStart(i: number): number {
    return this.#oooStart[i] - this.#endOffset();
  }

  oooEnd(i: number): number {
    return this.#oooEnd[i] - this.#endOffset();
  }

  get oooBytes(): number {
    let n = 0;
    for (let i = 0; i < this.#oooCount; i++) n += this.#oooEnd[i] - this.#oooStart[i];
    return n;
  }

  dropOoo(): void {
    this.#oooCount = 0;
  }

  #endOffset(): number {
    return this.#headOffset + this.#readable;
  }

  /** Copy len bytes to ring position `rel` bytes past the end of the in-order data. */
  #store(rel: number, src: Uint8Array, srcOff: number, len: number): void {
    const cap = this.cap;
    let pos = this.#head + this.#readable + rel;
    while (pos >= cap) pos -= cap;
    const first = len < cap - pos ? len : cap - pos;
    copyBytes(src, srcOff, this.bytes, this.base + pos, first);
    if (first < len) copyBytes(src, srcOff + first, this.bytes, this.base, len - first);
  }

  insert(rel: number, src: Uint8Array, srcOff: number, len: number): number {
    const room = this.free - rel;
    if (len > room) len = room;
    if (len <= 0 || rel < 0) return 0;
    if (rel > 0) return this.#insertOoo(rel, src, srcOff, len);
    this.#store(0, src, srcOff, len);
    const before = this.#readable;
    this.#readable += len;
    // Merge out-of-order ranges the in-order data now reaches.
    let end = this.#endOffset();
    let drop = 0;
    while (drop < this.#oooCount && this.#oooStart[drop] <= end) {
      if (this.#oooEnd[drop] > end) {
        this.#readable += this.#oooEnd[drop] - end;
        end = this.#oooEnd[drop];
      }
      drop++;
    }
    if (drop > 0) this.#removeRanges(0, drop);
    return this.#readable - before;
  }

  #insertOoo(rel: number, src: Uint8Array, srcOff: number, len: number): number {
    const start = this.#endOffset() + rel;
    const end = start + len;
    const n = this.#oooCount;
    // First range that ends at or after start (it may touch or overlap).
    let i = 0;
    while (i < n && this.#oooEnd[i] < start) i++;
    // Ranges i..j-1 touch or overlap [start, end).
    let j = i;
    while (j < n && this.#oooStart[j] <= end) j++;
    if (i === j && n === RECV_MAX_OOO_RANGES) return -1;
    this.#store(rel, src, srcOff, len);
    const newStart = i < j && this.#oooStart[i] < start ? this.#oooStart[i] : start;
    const newEnd = i < j && this.#oooEnd[j - 1] > end ? this.#oooEnd[j - 1] : end;
    if (i === j) {
      for (let k = n; k > i; k--) {
        this.#oooStart[k] = this.#oooStart[k - 1];
        this.#oooEnd[k] = this.#oooEnd[k - 1];
      }
      this.#oooCount++;
    } else if (j - i > 1) {
      this.#removeRanges(i + 1, j - i - 1);
    }
    this.#oooStart[i] = newStart;
    this.#oooEnd[i] = newEnd;
    return 0;
  }

  #removeRanges(from: number, count: number): void {
    const n = this.#oooCount;
    for (let k = from; k + count < n; k++) {
      this.#oooStart[k] = this.#oooStart[k + count];
      this.#oooEnd[k] = this.#oooEnd[k + count];
    }
    this.#oooCount = n - count;
  }

  #copyOut(dst: Uint8Array, dstOff: number, n: number): void {
    const cap = this.cap;
    const pos = this.#head;
    const first = n < cap - pos ? n : cap - pos;
    copyBytes(this.bytes, this.base + pos, dst, dstOff, first);
    if (first < n) copyBytes(this.bytes, this.base, dst, dstOff + first, n - first);
  }

  read(dst: Uint8Array, dstOff: number, len: number): number {
    const n = len < this.#readable ? len : this.#readable;
    if (n <= 0) return 0;
    this.#copyOut(dst, dstOff, n);
    this.#head += n;
    if (this.#head >= this.cap) this.#head -= this.cap;
    this.#readable -= n;
    this.#headOffset += n;
    return n;
  }

  peek(dst: Uint8Array, dstOff: number, len: number): number {
    const n = len < this.#readable ? len : this.#readable;
    if (n <= 0) return 0;
    this.#copyOut(dst, dstOff, n);
    return n;
  }
}
