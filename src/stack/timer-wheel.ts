/**
 * A hashed timer wheel: one deadline per id, intrusive doubly-linked lists
 * in typed arrays, O(1) schedule and cancel. Deadlines further out than one
 * turn of the wheel wait in their slot and are skipped until their turn comes.
 */
export class TimerWheel {
  readonly #tickMs: number;
  readonly #mask: number;
  /** Head id of each slot's list, -1 when empty. */
  readonly #heads: Int32Array;
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  /** Slot each id is linked in, -1 when not armed. */
  readonly #slotOf: Int32Array;
  readonly #deadline: Float64Array;
  /** The tick advance() has processed up to (exclusive), -1 before the first call. */
  #tick = -1;
  #size = 0;

  constructor(readonly capacity: number, tickMs: number, slots: number) {
    if (slots <= 0 || (slots & (slots - 1)) !== 0) throw new RangeError('timer wheel: slots must be a power of two');
    this.#tickMs = tickMs;
    this.#mask = slots - 1;
    this.#heads = new Int32Array(slots).fill(-1);
    this.#next = new Int32Array(capacity).fill(-1);
    this.#prev = new Int32Array(capacity).fill(-1);
    this.#slotOf = new Int32Array(capacity).fill(-1);
    this.#deadline = new Float64Array(capacity).fill(-1);
  }

  get size(): number {
    return this.#size;
  }

  isScheduled(id: number): boolean {
    return this.#slotOf[id] >= 0;
  }

  deadlineOf(id: number): number {
    return this.#slotOf[id] >= 0 ? this.#deadline[id] : -1;
  }

  schedule(id: number, atMs: number): void {
    if (this.#slotOf[id] >= 0) this.#unlink(id);
    let tick = Math.floor(atMs / this.#tickMs);
    if (this.#tick >= 0 && tick < this.#tick) tick = this.#tick; // already due: next advance
    const slot = tick & this.#mask;
    this.#deadline[id] = atMs;
    this.#slotOf[id] = slot;
    const head = this.#heads[slot];
    this.#next[id] = head;
    this.#prev[id] = -1;
    if (head >= 0) this.#prev[head] = id;
    this.#heads[slot] = id;
    this.#size++;
  }

  cancel(id: number): void {
    if (this.#slotOf[id] >= 0) this.#unlink(id);
  }

  #unlink(id: number): void {
    const slot = this.#slotOf[id];
    const n = this.#next[id];
    const p = this.#prev[id];
    if (p >= 0) this.#next[p] = n;
    else this.#heads[slot] = n;
    if (n >= 0) this.#prev[n] = p;
    this.#slotOf[id] = -1;
    this.#next[id] = this.#prev[id] = -1;
    this.#deadline[id] = -1;
    this.#size--;
  }

  advance(nowMs: number, fire: (id: number) => void): number {
    const nowTick = Math.floor(nowMs / this.#tickMs);
    if (this.#tick < 0) this.#tick = nowTick;
    if (this.#size === 0) {
      this.#tick = nowTick + 1;
      return 0;
    }
    let fired = 0;
    const slots = this.#mask + 1;
    // Visit each slot at most once per call: ticks beyond one turn share slots.
    let from = this.#tick;
    if (nowTick - from >= slots) from = nowTick - slots + 1;
    for (let tick = from; tick <= nowTick; tick++) {
      const slot = tick & this.#mask;
      let id = this.#heads[slot];
      while (id >= 0) {
        const next = this.#next[id];
        if (this.#deadline[id] <= nowMs) {
          this.#unlink(id);
          fired++;
          fire(id);
        }
        id = next;
        // fire() may have unlinked `next`; restart the slot when that happened.
        if (id >= 0 && this.#slotOf[id] !== slot) id = this.#heads[slot];
      }
      if (this.#size === 0) break;
    }
    this.#tick = nowTick + 1;
    return fired;
  }

  nextDeadline(): number {
    if (this.#size === 0) return Infinity;
    // Scan one turn of slots from the current tick; the first non-empty slot holds a lower bound.
    const slots = this.#mask + 1;
    const start = this.#tick < 0 ? 0 : this.#tick;
    let best = Infinity;
    for (let k = 0; k < slots; k++) {
      const slot = (start + k) & this.#mask;
      let id = this.#heads[slot];
      if (id < 0) continue;
      while (id >= 0) {
        if (this.#deadline[id] < best) best = this.#deadline[id];
        id = this.#next[id];
      }
      // Entries of later turns can sit in this slot; a deadline within this tick ends the search.
      if (best <= (start + k + 1) * this.#tickMs) return best;
    }
    return best;
  }
}
