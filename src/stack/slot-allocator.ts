/**
 * Hands out slot numbers 0..count-1 and takes them back: a stack of freed
 * slots plus a counter of slots never used, so making an allocator of any
 * size costs nothing until slots are taken. The pools of connection ids,
 * buffers and range tables share it.
 */
export class SlotAllocator {
  /** Stack of freed slots; the top is #free[#freeCount - 1]. */
  readonly #free: Int32Array;
  /** 1 for each slot handed out, 0 for a free one (catches double frees). */
  readonly #used: Uint8Array;
  #freeCount = 0;
  /** Slots never handed out are #fresh..count-1. */
  #fresh = 0;
  #inUse = 0;
  /** Most slots ever in use at once. */
  #highWater = 0;

  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`slot allocator: bad count ${count}`);
    this.#free = new Int32Array(count);
    this.#used = new Uint8Array(count);
  }

  /** A free slot, or -1 when all are in use. Freed slots are reused first, the most recent first. */
  alloc(): number {
    let slot: number;
    if (this.#freeCount > 0) slot = this.#free[--this.#freeCount];
    else if (this.#fresh < this.count) slot = this.#fresh++;
    else return -1;
    this.#used[slot] = 1;
    if (++this.#inUse > this.#highWater) this.#highWater = this.#inUse;
    return slot;
  }

  free(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.count) throw new Error(`slot allocator: bad slot ${slot}`);
    if (this.#used[slot] === 0) throw new Error(`slot allocator: slot ${slot} freed twice`);
    this.#used[slot] = 0;
    this.#free[this.#freeCount++] = slot;
    this.#inUse--;
  }

  isUsed(slot: number): boolean {
    return this.#used[slot] === 1;
  }

  /** Slots never handed out so far start here: slots below it have been used at least once. */
  get fresh(): number {
    return this.#fresh;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get available(): boolean {
    return this.#inUse < this.count;
  }

  get highWater(): number {
    return this.#highWater;
  }
}
