/**
 * Connection buffers that grow: pools of doubling slot sizes (size class 0
 * is the configured sndbuf or rcvbuf, class c is that times 2^c, up to the
 * per-connection maximum). A connection's ring lives in one class; growing
 * takes a slot of a larger class, copies the ring's contents over in order
 * and frees the old one (rare and amortised: each step doubles), as Linux's
 * buffer autotuning lets sk_sndbuf and sk_rcvbuf grow with the
 * bandwidth-delay product.
 *
 * Class 0 holds max_num_buffers slots, as the single pool did before. A
 * buffer above class 0 reserves its size from one byte budget per context
 * (BufferMemory, the tcp_buffer_memory key) when it grows, before the window
 * or the application may use it, and gives it back when it shrinks or the
 * connection ends; so a million connections cannot each grow to the maximum,
 * and what a window offered always has a ring to go to. Growth the budget
 * refuses leaves the buffer at its size, counted in
 * Stats.tcpBufferGrowthCapped, never an error. Every pool is made when first
 * used and its arenas when first filled, so start-up costs nothing more.
 */
import { BufferPool } from './buffer-pool.ts';
import type { Stats } from './stats.ts';

/** Arena size of the classes above 0: memory grows in such steps as grown rings are first used. */
const GROWN_ARENA_BYTES = 64 << 20;

/** The byte budget of one context's grown buffers (every class above 0, send and receive together). */
export class BufferMemory {
  /** Bytes reserved by buffers above class 0. */
  used = 0;

  constructor(readonly limit: number, readonly stats: Stats) {}

  /** Take `bytes` from the budget; false when it would go over. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** A buffer stayed smaller than autotuning asked (the budget or a class ran out). */
  refused(): void {
    this.stats.tcpBufferGrowthCapped++;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

export class BufferClasses {
  /** Size of class 0, bytes. */
  readonly base: number;
  /** Largest class: base * 2^maxClass is at most the per-connection maximum. */
  readonly maxClass: number;
  readonly #pools: (BufferPool | undefined)[];
  /** Ring size of each class, bytes (looked up on every segment: no Math.pow there). */
  readonly #sizes: number[];
  #inUse = 0;
  #highWater = 0;

  constructor(
    /** Slots of class 0. */
    readonly count: number,
    base: number,
    /** Largest ring of one connection, bytes (rounded down to base * 2^k; at most base means no growth). */
    max: number,
    readonly memory: BufferMemory,
  ) {
    this.base = base;
    let maxClass = 0;
    while (base * 2 ** (maxClass + 1) <= max && base * 2 ** (maxClass + 1) <= memory.limit) maxClass++;
    this.maxClass = maxClass;
    this.#sizes = Array.from({ length: 32 }, (_, c) => base * 2 ** c);
    this.#pools = new Array<BufferPool | undefined>(maxClass + 1).fill(undefined);
    this.#pools[0] = new BufferPool(count, base);
  }

  /** Ring size of class c, bytes. */
  sizeOf(c: number): number {
    return this.#sizes[c];
  }

  /** The smallest class whose rings hold `bytes` (maxClass when none does). */
  classFor(bytes: number): number {
    let c = 0;
    while (c < this.maxClass && this.#sizes[c] < bytes) c++;
    return c;
  }

  /** The largest ring a connection may have, bytes. */
  get maxSize(): number {
    return this.sizeOf(this.maxClass);
  }

  /**
   * Move a buffer's reservation from class `from` to class `to`: false (and
   * nothing changed) when growing would go over the budget.
   */
  reserve(from: number, to: number): boolean {
    const delta = (to > 0 ? this.sizeOf(to) : 0) - (from > 0 ? this.sizeOf(from) : 0);
    if (delta <= 0) {
      this.memory.give(-delta);
      return true;
    }
    return this.memory.take(delta);
  }

  /** A free slot of class c (the buffer reserved it), or -1 when the class has none left. */
  alloc(c: number): number {
    const slot = this.#pool(c).alloc();
    if (slot >= 0 && ++this.#inUse > this.#highWater) this.#highWater = this.#inUse;
    return slot;
  }

  /** The slot takeRing found (valid after it returned a class). */
  takenSlot = -1;

  /**
   * A ring for a buffer of class `size`: of that class, or of a smaller one when it has none left (the
   * buffer then shrinks to it: its reservation moves down, counted as refused growth). Returns the class
   * taken, the slot in takenSlot; -1 when every class up to `size` is used up.
   */
  takeRing(size: number): number {
    for (let c = size; c >= 0; c--) {
      const slot = this.alloc(c);
      if (slot < 0) continue;
      if (c < size) {
        this.reserve(size, c);
        this.memory.refused();
      }
      this.takenSlot = slot;
      return c;
    }
    return -1;
  }

  free(c: number, slot: number): void {
    const pool = this.#pools[c]!;
    pool.free(slot);
    this.#inUse--;
  }

  /** The arena holding `slot` of class c. */
  arenaOf(c: number, slot: number): Uint8Array {
    return this.#pools[c]!.arenaOf(slot);
  }

  /** Byte offset of `slot` of class c in its arena. */
  baseOf(c: number, slot: number): number {
    return this.#pools[c]!.baseOf(slot);
  }

  /** Whether a class-0 slot is free (a connection's first ring comes from class 0 or a larger one). */
  get available(): boolean {
    return this.#pool(0).available;
  }

  /** Rings in use, every class. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Most rings in use at once. */
  get highWater(): number {
    return this.#highWater;
  }

  /** Slots in use in class c (0 for a class never used). */
  inUseOf(c: number): number {
    return this.#pools[c]?.inUse ?? 0;
  }

  #pool(c: number): BufferPool {
    let pool = this.#pools[c];
    if (pool === undefined) {
      const size = this.sizeOf(c);
      // As many as the budget could ever reserve, and no more than class 0 has.
      const count = Math.max(1, Math.min(this.count, Math.floor(this.memory.limit / size)));
      pool = new BufferPool(count, size, Math.max(size, GROWN_ARENA_BYTES));
      this.#pools[c] = pool;
    }
    return pool;
  }
}
