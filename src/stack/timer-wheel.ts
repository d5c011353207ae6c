/**
 * A hashed timer wheel in two levels: one deadline per id, intrusive
 * doubly-linked lists in typed arrays, O(1) schedule and cancel, nothing
 * allocated after construction, and no work per armed entry while time
 * passes: a million idle connections with their timers armed cost nothing
 * until a deadline comes near.
 *
 * Time is cut into ticks of tickMs and ticks into turns of `slots` ticks,
 * aligned to multiples of `slots`. The near slots hold only deadlines in the
 * current turn, from the current tick on (slot = tick - turnBase), so the
 * first non-empty slot holds the earliest of them; a bitmap of non-empty
 * slots finds it in a few word reads. Deadlines in the next `turns` turns
 * wait in the far slots, one per turn (turn % turns); entering a turn moves
 * its far slot's entries into the near slots, so each entry is moved at most
 * once before it fires. Later deadlines (beyond slots × turns ticks: 4.7
 * hours with the TCP timers' 1 ms ticks) wait in the overflow list, scanned
 * only when the far level comes within reach of its earliest entry.
 * Deadlines in ticks already processed wait in the overdue list, which the
 * next advance() fires first. Ticks are doubles (exact integers), never
 * int32, so any clock works (performance.now(), Date.now(), a test's 0).
 */

/** Bits per bitmap word. */
const WORD = 32;

export class TimerWheel {
  /** Ids are 0..capacity-1. */
  readonly capacity: number;
  /** Tick length, ms. */
  readonly #tickMs: number;
  /** Slots per turn (a power of two). */
  readonly #slots: number;
  /** Far slots: turns after the current one that have a list of their own. */
  readonly #turns: number;
  /** List number of the first far slot (far slot f is list #far + f). */
  readonly #far: number;
  /** List number of the overdue list (deadlines in ticks already processed; before the first advance, every deadline). */
  readonly #overdue: number;
  /** List number of the overflow list (deadlines in later turns). */
  readonly #overflow: number;
  /** List number of the list advance() is firing. */
  readonly #firing: number;
  /** Head id of each list (near slots, far slots, overdue, overflow, firing), -1 when empty. */
  readonly #heads: Int32Array;
  /** Next id in the same list, -1 at the tail. */
  readonly #next: Int32Array;
  /** Previous id in the same list, -1 at the head. */
  readonly #prev: Int32Array;
  /** List each id is linked in, -1 when not armed. */
  readonly #listOf: Int32Array;
  /** Armed deadline of each id, ms (-1 when not armed). */
  readonly #deadline: Float64Array;
  /** One bit per near slot: set when the slot's list is not empty. */
  readonly #bitmap: Int32Array;
  /** One bit per far slot: set when its list is not empty. */
  readonly #farBitmap: Int32Array;
  /** At or below every deadline in each far slot (Infinity when it is empty). */
  readonly #farMin: Float64Array;
  /** False until the first advance() gives the wheel its time. */
  #started = false;
  /** The tick advance() is in: processed up to here; its slot is visited again (its later deadlines are not due yet). */
  #tick = 0;
  /** Lowest tick a deadline may have to go into a slot; lower goes to the overdue list (Infinity before the first advance). */
  #low = Infinity;
  /** First tick of the current turn (a multiple of slots). */
  #turnBase = 0;
  /** First tick of the next turn: deadlines from here on go to the far slots. */
  #turnEnd = 0;
  /** The current turn (turnBase / slots). */
  #turn = 0;
  /** Armed entries. */
  #size = 0;
  /** At or below every deadline in the overdue list (Infinity when it is empty). */
  #overdueMin = Infinity;
  /** At or below every deadline in the overflow list (Infinity when it is empty; exact after each turn's scan). */
  #overflowMin = Infinity;

  /** `turns`: far slots (a power of two; by default as many as `slots`). */
  constructor(capacity: number, tickMs: number, slots: number, turns = slots) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`timer wheel: bad capacity ${capacity}`);
    if (!(tickMs > 0) || !Number.isFinite(tickMs)) throw new RangeError(`timer wheel: bad tick ${tickMs}`);
    if (!Number.isInteger(slots) || slots <= 0 || slots > 2 ** 24 || (slots & (slots - 1)) !== 0) {
      throw new RangeError(`timer wheel: slots (${slots}) must be a power of two`);
    }
    if (!Number.isInteger(turns) || turns <= 0 || turns > 2 ** 24 || (turns & (turns - 1)) !== 0) {
      throw new RangeError(`timer wheel: turns (${turns}) must be a power of two`);
    }
    this.capacity = capacity;
    this.#tickMs = tickMs;
    this.#slots = slots;
    this.#turns = turns;
    this.#far = slots;
    this.#overdue = slots + turns;
    this.#overflow = slots + turns + 1;
    this.#firing = slots + turns + 2;
    this.#heads = new Int32Array(slots + turns + 3).fill(-1);
    this.#next = new Int32Array(capacity).fill(-1);
    this.#prev = new Int32Array(capacity).fill(-1);
    this.#listOf = new Int32Array(capacity).fill(-1);
    this.#deadline = new Float64Array(capacity).fill(-1);
    this.#bitmap = new Int32Array(Math.ceil(slots / WORD));
    this.#farBitmap = new Int32Array(Math.ceil(turns / WORD));
    this.#farMin = new Float64Array(turns).fill(Infinity);
  }

  get size(): number {
    return this.#size;
  }

  isScheduled(id: number): boolean {
    return this.#listOf[id] >= 0;
  }

  /** The armed deadline of id, or -1. */
  deadlineOf(id: number): number {
    return this.#listOf[id] >= 0 ? this.#deadline[id] : -1;
  }

  /** Arm (or re-arm, replacing any earlier deadline) entry `id` to fire at `atMs`. */
  schedule(id: number, atMs: number): void {
    if (this.#listOf[id] >= 0) this.#unlink(id);
    else this.#size++;
    this.#deadline[id] = atMs;
    this.#place(id, Math.floor(atMs / this.#tickMs));
  }

  cancel(id: number): void {
    if (this.#listOf[id] < 0) return;
    this.#unlink(id);
    this.#deadline[id] = -1;
    this.#size--;
  }

  /** Link id (its deadline already set) into the list its tick belongs to. */
  #place(id: number, tick: number): void {
    if (tick < this.#low) {
      const at = this.#deadline[id];
      if (at < this.#overdueMin) this.#overdueMin = at;
      this.#link(id, this.#overdue);
    } else if (tick < this.#turnEnd) {
      const slot = (tick - this.#turnBase) | 0;
      this.#bitmap[slot >>> 5] |= 1 << (slot & 31);
      this.#link(id, slot);
    } else {
      const at = this.#deadline[id];
      const turn = Math.floor(tick / this.#slots);
      if (turn - this.#turn <= this.#turns) {
        const f = this.#farSlotOf(turn);
        this.#farBitmap[f >>> 5] |= 1 << (f & 31);
        if (at < this.#farMin[f]) this.#farMin[f] = at;
        this.#link(id, this.#far + f);
      } else {
        if (at < this.#overflowMin) this.#overflowMin = at;
        this.#link(id, this.#overflow);
      }
    }
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
    if (p >= 0) {
      this.#next[p] = n;
    } else {
      this.#heads[list] = n;
      if (n < 0) this.#emptied(list);
    }
    if (n >= 0) this.#prev[n] = p;
    this.#listOf[id] = -1;
  }

  /** A list became empty: clear its bitmap bit or forget its minimum. */
  #emptied(list: number): void {
    if (list < this.#slots) this.#bitmap[list >>> 5] &= ~(1 << (list & 31));
    else if (list < this.#overdue) {
      const f = list - this.#far;
      this.#farBitmap[f >>> 5] &= ~(1 << (f & 31));
      this.#farMin[f] = Infinity;
    } else if (list === this.#overdue) this.#overdueMin = Infinity;
    else if (list === this.#overflow) this.#overflowMin = Infinity;
  }

  /** First non-empty slot at or after `from`, -1 when none. */
  #nextSlot(from: number): number {
    const bm = this.#bitmap;
    let w = from >>> 5;
    if (w >= bm.length) return -1;
    let bits = bm[w] & (-1 << (from & 31));
    while (bits === 0) {
      if (++w >= bm.length) return -1;
      bits = bm[w];
    }
    return (w << 5) + 31 - Math.clz32(bits & -bits);
  }

  /** The far slot of a turn (turns may exceed 2^31 with a Date.now()-sized clock). */
  #farSlotOf(turn: number): number {
    const n = this.#turns;
    return ((turn % n) + n) % n;
  }

  /**
   * The far slot holding the earliest deadlines after the current turn (the first non-empty one from the
   * next turn on, cyclically), -1 when every far slot is empty.
   */
  #firstFarSlot(): number {
    const bm = this.#farBitmap;
    const from = this.#farSlotOf(this.#turn + 1);
    // From `from` to the end, then from 0 to `from`: at most one pass over the words, plus the first word again.
    for (let k = 0, w = from >>> 5, bits = bm[w] & (-1 << (from & 31)); k <= bm.length; k++) {
      if (bits !== 0) return (w << 5) + 31 - Math.clz32(bits & -bits);
      w = w + 1 === bm.length ? 0 : w + 1;
      bits = bm[w];
    }
    return -1;
  }

  /** At or below every deadline after the current turn (far slots and overflow), Infinity when there is none. */
  #laterMin(): number {
    const f = this.#firstFarSlot();
    const far = f >= 0 ? this.#farMin[f] : Infinity;
    return far < this.#overflowMin ? far : this.#overflowMin;
  }

  /** Move every entry of `list` to where its tick now belongs. */
  #replaceAll(list: number): void {
    let id = this.#heads[list];
    if (id < 0) return;
    this.#heads[list] = -1;
    this.#emptied(list);
    while (id >= 0) {
      const next = this.#next[id];
      this.#place(id, Math.floor(this.#deadline[id] / this.#tickMs));
      id = next;
    }
  }

  /**
   * Make `tick` the current tick, in its turn: the far slot of that turn moves into the near slots, and
   * when the far level now reaches the earliest overflow entry, the overflow list is sorted out again
   * (its minimum becomes exact). The turns skipped to get here held nothing.
   */
  #enterTurn(tick: number): void {
    const slots = this.#slots;
    this.#tick = tick;
    this.#low = tick;
    this.#turnBase = tick - (((tick % slots) + slots) % slots);
    this.#turnEnd = this.#turnBase + slots;
    this.#turn = this.#turnBase / slots;
    this.#replaceAll(this.#far + this.#farSlotOf(this.#turn));
    if (Math.floor(Math.floor(this.#overflowMin / this.#tickMs) / slots) - this.#turn <= this.#turns) {
      this.#overflowMin = Infinity;
      this.#replaceAll(this.#overflow);
    }
  }

  /**
   * Fire (call fire(id), after unlinking it) every entry whose deadline is
   * <= nowMs, earliest ticks first (deadlines already overdue before this
   * call come first; within one tick, in no set order). fire may schedule or
   * cancel any id: an id re-armed for a tick this call has not reached yet
   * fires in this call when due, one re-armed for a tick already reached
   * (the past, or now) waits for the next call. Returns how many fired.
   */
  advance(nowMs: number, fire: (id: number) => void): number {
    let nowTick = Math.floor(nowMs / this.#tickMs);
    let fired = 0;
    if (!this.#started) {
      // The first call gives the wheel its time. Everything scheduled before it waits in
      // the overdue list; start at its earliest tick so that it fires in tick order.
      this.#started = true;
      let start = nowTick;
      const first = Math.floor(this.#overdueMin / this.#tickMs);
      if (first < start) start = first;
      this.#enterTurn(start);
      let id = this.#heads[this.#overdue];
      this.#heads[this.#overdue] = -1;
      this.#overdueMin = Infinity;
      while (id >= 0) {
        const next = this.#next[id];
        this.#place(id, Math.floor(this.#deadline[id] / this.#tickMs));
        id = next;
      }
    } else if (nowTick < this.#tick) {
      nowTick = this.#tick; // the clock went back: only the current tick's slot is looked at
    }
    if (this.#heads[this.#overdue] >= 0) fired += this.#fireList(this.#overdue, nowMs, fire);
    for (;;) {
      let slot = this.#nextSlot(this.#tick - this.#turnBase);
      while (slot >= 0) {
        const tick = this.#turnBase + slot;
        if (tick > nowTick) break;
        this.#tick = tick;
        // While a passed tick fires, its own tick counts as passed: a re-arm there is overdue.
        this.#low = tick < nowTick ? tick + 1 : tick;
        fired += this.#fireList(slot, nowMs, fire);
        slot = this.#nextSlot(slot + 1);
      }
      if (nowTick < this.#turnEnd) break;
      // Every slot of this turn has fired (nowTick is past it): go on to the next turn, or
      // straight to the turn of the earliest later entry (or of nowTick, if earlier).
      const first = Math.floor(this.#laterMin() / this.#tickMs);
      this.#enterTurn(first < nowTick ? (first > this.#turnEnd ? first : this.#turnEnd) : nowTick);
    }
    this.#tick = nowTick;
    this.#low = nowTick;
    return fired;
  }

  /**
   * Fire the due entries of `list`. The list is first moved to the firing
   * list, so fire() may schedule or cancel anything (what it schedules
   * never joins this pass); entries not due are placed again.
   */
  #fireList(list: number, nowMs: number, fire: (id: number) => void): number {
    let id = this.#heads[list];
    const firing = this.#firing;
    for (let k = id; k >= 0; k = this.#next[k]) this.#listOf[k] = firing;
    this.#heads[list] = -1;
    this.#heads[firing] = id;
    this.#emptied(list);
    let fired = 0;
    while ((id = this.#heads[firing]) >= 0) {
      this.#unlink(id);
      if (this.#deadline[id] <= nowMs) {
        this.#deadline[id] = -1;
        this.#size--;
        fired++;
        fire(id);
      } else {
        this.#place(id, Math.floor(this.#deadline[id] / this.#tickMs));
      }
    }
    return fired;
  }

  /**
   * Earliest armed deadline, Infinity when none. Exact for deadlines in the
   * current turn; a deadline in a later turn may be reported by a lower
   * bound (one that was cancelled), never earlier than the next turn; a
   * deadline already due may be reported as an earlier past time. Costs a
   * bitmap scan of at most slots/32 (or turns/32) words plus one slot's list.
   */
  nextDeadline(): number {
    if (this.#size === 0) return Infinity;
    let best = this.#overdueMin;
    const slot = this.#started ? this.#nextSlot(this.#tick - this.#turnBase) : -1;
    if (slot >= 0) {
      for (let id = this.#heads[slot]; id >= 0; id = this.#next[id]) {
        if (this.#deadline[id] < best) best = this.#deadline[id];
      }
      return best;
    }
    const later = this.#laterMin();
    return later < best ? later : best;
  }
}
