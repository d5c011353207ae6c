/**
 * A hashed timer wheel: one deadline per id, intrusive doubly-linked lists
 * in typed arrays, O(1) schedule and cancel. A deadline further out than one
 * turn of the wheel waits in its slot and is skipped until its turn comes; a
 * deadline in a tick already processed waits in an overdue list that every
 * advance() fires first.
 */
export class TimerWheel {
  readonly #tickMs: number;
  readonly #mask: number;
  /** List of deadlines in ticks already processed. */
  readonly #overdue: number;
  /** The list being fired by advance(). */
  readonly #firing: number;
  /** Head id of each list (slots, then overdue, then firing), -1 when empty. */
  readonly #heads: Int32Array;
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  /** List each id is linked in, -1 when not armed. */
  readonly #listOf: Int32Array;
  readonly #deadline: Float64Array;
  /** The first tick advance() will visit (the current tick, still in progress), -1 before the first call. */
  #tick = -1;
  #size = 0;

  constructor(readonly capacity: number, tickMs: number, slots: number) {
    if (slots <= 0 || (slots & (slots - 1)) !== 0) throw new RangeError('timer wheel: slots must be a power of two');
    this.#tickMs = tickMs;
    this.#mask = slots - 1;
    this.#overdue = slots;
    this.#firing = slots + 1;
    this.#heads = new Int32Array(slots + 2).fill(-1);
    this.#next = new Int32Array(capacity).fill(-1);
    this.#prev = new Int32Array(capacity).fill(-1);
    this.#listOf = new Int32Array(capacity).fill(-1);
    this.#deadline = new Float64Array(capacity).fill(-1);
  }

  get size(): number {
    return this.#size;
  }

  isScheduled(id: number): boolean {
    return this.#listOf[id] >= 0;
  }

  deadlineOf(id: number): number {
    return this.#listOf[id] >= 0 ? this.#deadline[id] : -1;
  }

  schedule(id: number, atMs: number): void {
    if (this.#listOf[id] >= 0) this.#unlink(id);
    else this.#size++;
    const tick = Math.floor(atMs / this.#tickMs);
    this.#deadline[id] = atMs;
    this.#link(id, this.#tick >= 0 && tick < this.#tick ? this.#overdue : tick & this.#mask);
  }

  cancel(id: number): void {
    if (this.#listOf[id] < 0) return;
    this.#unlink(id);
    this.#deadline[id] = -1;
    this.#size--;
  }

  #link(id: number, list: number): void {
    const head = this.#heads[list];
    this.#next[id] = head;
    this.#prev[id] = -1;
    if (head >= 0) this.#prev[head] = id;
    this.#heads[list] = id;
    this.#listOf[id] = list;
  }

  #unlink(id: number): void {
    const list = this.#listOf[id];
    const n = this.#next[id];
    const p = this.#prev[id];
    if (p >= 0) this.#next[p] = n;
    else this.#heads[list] = n;
    if (n >= 0) this.#prev[n] = p;
    this.#listOf[id] = -1;
    this.#next[id] = this.#prev[id] = -1;
  }

  advance(nowMs: number, fire: (id: number) => void): number {
    const nowTick = Math.floor(nowMs / this.#tickMs);
    // Before the first advance the wheel has no time yet: visit every slot once.
    if (this.#tick < 0) this.#tick = nowTick - this.#mask;
    let fired = 0;
    if (this.#size > 0) {
      fired += this.#fireList(this.#overdue, this.#overdue, nowMs, fire);
      const slots = this.#mask + 1;
      // Each slot at most once per call: ticks beyond one turn share slots.
      let from = this.#tick;
      if (nowTick - from >= slots) from = nowTick - slots + 1;
      for (let tick = from; tick <= nowTick && this.#size > 0; tick++) {
        this.#tick = tick; // what fire() schedules for earlier ticks goes to the overdue list
        const slot = tick & this.#mask;
        fired += this.#fireList(slot, slot, nowMs, fire);
      }
    }
    // The current tick is not over: its slot is visited again by the next call.
    if (nowTick > this.#tick) this.#tick = nowTick;
    return fired;
  }

  /**
   * Fire the entries of `list` due by nowMs. The list is first moved to the
   * firing list, so fire() may schedule or cancel anything; entries not due
   * return to `home`.
   */
  #fireList(list: number, home: number, nowMs: number, fire: (id: number) => void): number {
    let id = this.#heads[list];
    if (id < 0) return 0;
    this.#heads[list] = -1;
    for (let k = id; k >= 0; k = this.#next[k]) this.#listOf[k] = this.#firing;
    this.#heads[this.#firing] = id;
    let fired = 0;
    while ((id = this.#heads[this.#firing]) >= 0) {
      this.#unlink(id);
      if (this.#deadline[id] <= nowMs) {
        this.#deadline[id] = -1;
        this.#size--;
        fired++;
        fire(id);
      } else {
        this.#link(id, home);
      }
    }
    return fired;
  }

  nextDeadline(): number {
    if (this.#size === 0) return Infinity;
    let best = Infinity;
    for (let id = this.#heads[this.#overdue]; id >= 0; id = this.#next[id]) {
      if (this.#deadline[id] < best) best = this.#deadline[id];
    }
    // Scan one turn of slots from the next tick; a slot's entries may belong to later turns.
    const slots = this.#mask + 1;
    const start = this.#tick < 0 ? 0 : this.#tick;
    for (let k = 0; k < slots; k++) {
      if ((start + k) * this.#tickMs >= best) break;
      for (let id = this.#heads[(start + k) & this.#mask]; id >= 0; id = this.#next[id]) {
        if (this.#deadline[id] < best) best = this.#deadline[id];
      }
    }
    return best;
  }
}
