/**
 * Fixed-size byte slots for connection buffers. The slots live in arenas of
 * at most ARENA_BYTES each, made when a slot in them is first handed out, so
 * a pool of any size costs nothing to create and the process's memory grows
 * only with the slots actually used. A pool never holds more than `count`
 * slots: when it runs out, alloc() returns -1 and the caller reports
 * ENOMEM/EAGAIN or drops and counts.
 */
import { SlotAllocator } from './slot-allocator.ts';

/** Largest arena, bytes (the OS commits its pages as they are first touched). */
const ARENA_BYTES = 1 << 30;

export class BufferPool {
  /** Slots per arena. */
  readonly slotsPerArena: number;
  /** The arenas made so far; slot s lives in arenas[s / slotsPerArena] at byte (s % slotsPerArena) * size. */
  readonly arenas: Uint8Array[] = [];
  readonly #slots: SlotAllocator;

  constructor(
    readonly count: number,
    readonly size: number,
    /** Largest arena, bytes (at least one slot). */
    arenaBytes = ARENA_BYTES,
  ) {
    if (!Number.isInteger(count) || !Number.isInteger(size) || count < 1 || size < 1) {
      throw new RangeError(`buffer pool: count ${count} and size ${size} must be positive integers`);
    }
    if (size > arenaBytes || arenaBytes > ARENA_BYTES) {
      throw new RangeError(`buffer pool: a ${size}-byte slot does not fit a ${arenaBytes}-byte arena (at most ${ARENA_BYTES})`);
    }
    this.slotsPerArena = Math.floor(arenaBytes / size);
    this.#slots = new SlotAllocator(count);
  }

  /** A free slot, or -1 when all `count` are in use. */
  alloc(): number {
    const slot = this.#slots.alloc();
    if (slot >= 0 && ((slot / this.slotsPerArena) | 0) === this.arenas.length) this.#addArena();
    return slot;
  }

  free(slot: number): void {
    this.#slots.free(slot);
  }

  /** The arena holding `slot`. */
  arenaOf(slot: number): Uint8Array {
    return this.arenas[(slot / this.slotsPerArena) | 0];
  }

  /** Byte offset of `slot` in its arena. */
  baseOf(slot: number): number {
    return (slot % this.slotsPerArena) * this.size;
  }

  get inUse(): number {
    return this.#slots.inUse;
  }

  /** Whether alloc() would succeed. */
  get available(): boolean {
    return this.#slots.available;
  }

  get highWater(): number {
    return this.#slots.highWater;
  }

  #addArena(): void {
    const first = this.arenas.length * this.slotsPerArena;
    const slots = Math.min(this.slotsPerArena, this.count - first);
    this.arenas.push(new Uint8Array(slots * this.size));
  }
}
