/**
 * Fixed-size byte slots carved from one arena allocated at start-up. A pool
 * never grows: when it runs out, alloc() returns -1 and the caller reports
 * ENOMEM/EAGAIN or drops and counts.
 */
export class BufferPool {
  /** The arena; slot i occupies [i*size, (i+1)*size). */
  readonly bytes: Uint8Array;
  /** Stack of free slot indexes; the top is #free[#freeCount - 1]. */
  readonly #free: Int32Array;
  /** 1 for each slot handed out, 0 for a free one (catches double frees). */
  readonly #used: Uint8Array;
  /** Free slots (the depth of the #free stack). */
  #freeCount: number;
  /** Most slots ever in use at once. */
  #highWater = 0;

  constructor(readonly count: number, readonly size: number) {
    if (!Number.isInteger(count) || !Number.isInteger(size) || count < 1 || size < 1) {
      throw new RangeError(`buffer pool: count ${count} and size ${size} must be positive integers`);
    }
    if (count * size > 2 ** 31 - 1) {
      throw new RangeError(`buffer pool: ${count} x ${size} bytes exceeds 2 GiB; lower max_num_buffers, rcvbuf or sndbuf`);
    }
    this.bytes = new Uint8Array(count * size);
    this.#free = new Int32Array(count);
    this.#used = new Uint8Array(count);
    for (let i = 0; i < count; i++) this.#free[i] = count - 1 - i;
    this.#freeCount = count;
  }

  alloc(): number {
    if (this.#freeCount === 0) return -1;
    const slot = this.#free[--this.#freeCount];
    this.#used[slot] = 1;
    const inUse = this.count - this.#freeCount;
    if (inUse > this.#highWater) this.#highWater = inUse;
    return slot;
  }

  free(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.count) throw new Error(`buffer pool: bad slot ${slot}`);
    if (this.#used[slot] === 0) throw new Error(`buffer pool: slot ${slot} freed twice`);
    this.#used[slot] = 0;
    this.#free[this.#freeCount++] = slot;
  }

  get inUse(): number {
    return this.count - this.#freeCount;
  }

  get highWater(): number {
    return this.#highWater;
  }
}

/**
 * A connection buffer backed by one slot of a BufferPool: taking and giving
 * back the slot lives here; subclasses (the send and receive rings) keep
 * their positions and clear them on attach and detach.
 */
export abstract class PooledBuffer {
  /** The pool the slot came from, null when detached. */
  #pool: BufferPool | null = null;
  /** The slot held, -1 when detached. */
  #slot = -1;
  /** The pool's arena. */
  protected bytes: Uint8Array = new Uint8Array(0);
  /** Offset of this buffer's slot in the arena. */
  protected base = 0;
  /** Slot size, bytes (0 when detached). */
  protected cap = 0;

  /** Take a slot; false when the pool is exhausted. */
  attach(pool: BufferPool): boolean {
    if (this.#pool) return true;
    const slot = pool.alloc();
    if (slot < 0) return false;
    this.#pool = pool;
    this.#slot = slot;
    this.bytes = pool.bytes;
    this.base = slot * pool.size;
    this.cap = pool.size;
    this.clear();
    return true;
  }

  /** Give the slot back (idempotent). */
  detach(): void {
    if (!this.#pool) return;
    this.#pool.free(this.#slot);
    this.#pool = null;
    this.#slot = -1;
    this.cap = 0;
    this.clear();
  }

  get attached(): boolean {
    return this.#pool !== null;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Forget the contents. */
  protected abstract clear(): void;
}
