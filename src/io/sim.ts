/**
 * The simulated wire: stacks in one thread joined by an in-memory switch with
 * a virtual clock, repeatable from a seed, able to drop, duplicate, reorder,
 * corrupt, delay and rate-limit frames.
 *
 * Switching. A port is attached with a MAC. A frame goes to the other port
 * whose MAC equals its destination MAC; a broadcast, multicast or unknown
 * destination goes to every other open port. A port with several queues
 * receives a frame on queue `wire.selectQueue(frame, queues)`: by default the
 * queue RSS picks as a DPDK port would (src/stack/rss.ts: the Toeplitz hash of
 * the 4-tuple with the symmetric key, so both directions of a flow land on the
 * same queue index; ARP on every queue, one copy each).
 *
 * Time: the rule. `wire.clock` is virtual and moves only when told to.
 * - Manual mode (default): tests move it with advanceTo/advanceBy; a frame
 *   becomes receivable when its delivery time <= now. waitRx resolves on the
 *   next macrotask (setImmediate), whatever happens.
 * - Auto-advance mode (`autoAdvance: true`), a discrete-event simulator for
 *   async code. A port is idle when it has an outstanding waitRx on every
 *   queue it uses (a queue is used once rxBurst, txAlloc or waitRx touched
 *   it; a one-queue port is idle exactly when it waits). When EVERY attached,
 *   open port is idle, the wire moves the clock to the earliest of all waits'
 *   deadlines and the next frame delivery, and resolves the waits whose
 *   deadline has passed or whose queue now holds a frame. A frame that reaches
 *   a waiting queue resolves that wait at once, without moving the clock.
 *   Waits resolve on a macrotask (setImmediate), so the caller's pending
 *   microtasks run first. A port that is not waiting holds the clock still:
 *   computation takes zero virtual time. So a port that is attached and never
 *   waits (nor closes) stops the clock for everyone. Attaching a port while
 *   the others wait holds the clock until it waits; closing one lets the
 *   others' clock move again.
 *
 * Memory. Frames are copied exactly once, at transmit, from a port's TX
 * staging slot into wire-owned slot memory (a pool of `slots` slots of
 * maxFrameBytes bytes, allocated lazily in chunks of 1024 slots); the
 * receiving port hands out views of those slots from rxBurst and frees them
 * on rxRelease. In-flight frames sit in a binary heap of slot ids keyed by
 * (delivery time, sequence); delivered frames wait in per-queue linked lists
 * threaded through a slot array. Nothing is allocated per frame. When the
 * pool is empty the frame is dropped and counted in stats.dropsNoSlot.
 */
import { EINVAL, ErrnoError } from '../stack/errno.ts';
import { RSS_EVERY_QUEUE, RssSteering } from '../stack/rss.ts';
import { FrameBatch, withoutOffloads, type DriverStats, type PacketDriver, type PortCapabilities } from '../stack/port.ts';
import type { DriverFactory, DriverSettings, RuntimePort } from './factory.ts';
import { PortShare } from './wrapper.ts';

export class VirtualClock {
  /** Current virtual time in milliseconds (a float); never moves backward. */
  #now: number;

  constructor(start = 0) {
    this.#now = start;
  }

  /** Current virtual time, ms. */
  now(): number {
    return this.#now;
  }

  /** Move forward to t (never backward). */
  set(t: number): void {
    if (t > this.#now) this.#now = t;
  }
}

/** sfc32: a small fast PRNG with 128 bits of state, deterministic from a seed. */
export class Prng {
  /** State word a. */
  #a: number;
  /** State word b. */
  #b: number;
  /** State word c. */
  #c: number;
  /** State word d (also the counter). */
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 20; i++) this.nextU32();
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
}

export interface Impairments {
  /** Probability a frame is lost (0..1). */
  loss: number;
  /** Probability a frame is delivered twice (0..1). */
  duplicate: number;
  /** Probability a frame is held back an extra random time so later frames overtake it (0..1). */
  reorder: number;
  /** Probability one random bit of the frame (any byte, headers included) is flipped (0..1). */
  corrupt: number;
  /** One-way latency, ms. */
  delayMs: number;
  /** Extra latency, uniform in [0, jitterMs). Frames of one direction keep their order unless reordered. */
  jitterMs: number;
  /** Link rate in bits/s per direction (0: unlimited): a frame occupies the link len*8/bps s, frames queue behind it. */
  bandwidthBps: number;
  /** Extra hold of a reordered frame, uniform in [reorderMs, 2*reorderMs); 0 means max(delayMs, 1). */
  reorderMs: number;
}

export interface SimWireStats {
  /** Frames moved into a receiving port's queue. */
  delivered: number;
  /** Frames lost to the `loss` rate or to dropNext. */
  lost: number;
  /** Frames sent twice. */
  duplicated: number;
  /** Frames held back by `reorder`. */
  reordered: number;
  /** Frame copies with a flipped bit. */
  corrupted: number;
  /** Frame copies dropped because the slot pool was empty. */
  dropsNoSlot: number;
  /** Frames shorter than an Ethernet header (14 bytes), dropped at transmit. */
  dropsRunt: number;
  /** Frames longer than maxFrameBytes, dropped at transmit. */
  dropsOversize: number;
  /** Frames that reached a port closed while they were in flight. */
  dropsClosed: number;
  /** Frames dropped by the onFrame hook. */
  filtered: number;
  /** Bytes delivered. */
  bytes: number;
}

export interface SimWireOptions {
  /** PRNG seed: the same seed and the same inputs give the same run. */
  seed: number;
  /** Discrete-event time driven by waitRx (see the rule at the top of the file). */
  autoAdvance?: boolean;
  /** Largest frame, bytes (default 2048). */
  maxFrameBytes?: number;
  /** Frame slots in flight or waiting to be received, for the whole wire (default 65536). */
  slots?: number;
  /** Virtual time to start at, ms (default 0). */
  startMs?: number;
}

export interface SimAttachOptions {
  /** RX/TX queue pairs (default 1). */
  queues?: number;
  /** TX staging slots of this port (default 256): txAlloc hands out at most this many at once. */
  txSlots?: number;
}

/**
 * Picks the receive queue of a frame on a port with `queues` queues: a queue
 * index, or RSS_EVERY_QUEUE for a copy on each queue.
 */
export type QueueSelector = (buf: Uint8Array, off: number, len: number, queues: number) => number;

const NONE: Impairments = {
  loss: 0, duplicate: 0, reorder: 0, corrupt: 0, delayMs: 0, jitterMs: 0, bandwidthBps: 0, reorderMs: 0,
};

function checkImpairments(imp: Partial<Impairments>): void {
  for (const k of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) {
    const v = imp[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`sim wire: ${k} = ${v} is not a rate in 0..1`);
  }
  for (const k of ['delayMs', 'jitterMs', 'bandwidthBps', 'reorderMs'] as const) {
    const v = imp[k];
    if (v !== undefined && !(v >= 0 && v < Infinity)) throw new RangeError(`sim wire: ${k} = ${v} must be finite and >= 0`);
  }
}

/** Slots per lazily allocated chunk of frame memory (a power of two). */
const CHUNK_SHIFT = 10;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

export class SimWire {
  /** Virtual time. */
  readonly clock: VirtualClock;
  /** Wire-wide counters. */
  readonly stats: SimWireStats = {
    delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, dropsNoSlot: 0, dropsRunt: 0, dropsOversize: 0,
    dropsClosed: 0, filtered: 0, bytes: 0,
  };
  /** Sees every frame a port transmits (before any impairment); returning false drops it. */
  onFrame: ((from: SimDriver, buf: Uint8Array, off: number, len: number) => boolean) | null = null;
  /** Sees every frame as it reaches a port's receive queue (after the impairments: what the port gets). */
  onDeliver: ((to: SimDriver, buf: Uint8Array, off: number, len: number, queue: number) => void) | null = null;
  /** Receive-queue choice for ports with several queues; replaceable. By default RSS, as a NIC (see the top of the file). */
  selectQueue: QueueSelector;
  /** Largest frame in bytes. */
  readonly maxFrameBytes: number;
  /** Discrete-event time (see the rule at the top of the file). */
  readonly autoAdvance: boolean;
  /** Size of the slot pool. */
  readonly slots: number;
  /** Bytes between consecutive slots of a chunk: maxFrameBytes rounded up to 4, for word copies. */
  readonly #stride: number;
  /** The PRNG every impairment decision draws from. */
  readonly #prng: Prng;
  /** Every port ever attached, by index (closed ones stay, so indexes are stable). */
  readonly #ports: SimDriver[] = [];
  /** Wire-wide impairments. */
  #impair: Impairments = NONE;
  /** Frames still to drop, whoever sends them. */
  #dropNext = 0;
  /** Row length of the per-link matrices (grows as ports attach). */
  #portCap = 0;
  /** Per link (from * portCap + to): time the link finishes serializing its last frame (bandwidth). */
  #linkBusy = new Float64Array(0);
  /** Per link: delivery time of its last in-order frame (keeps FIFO under jitter). */
  #linkLast = new Float64Array(0);

  /** Frame memory, one Uint8Array per chunk of 1024 slots (created on first use). */
  readonly #chunks: Uint8Array[] = [];
  /** Int32 views of #chunks, for word copies. */
  readonly #chunks32: Int32Array[] = [];
  /** Slots that have memory behind them (ids below this were handed out at least once). */
  #materialized = 0;
  /** Stack of free slot ids. */
  readonly #free: Int32Array;
  /** Entries in #free. */
  #freeCount = 0;
  /** Frame length per slot. */
  readonly #len: Int32Array;
  /** Delivery time per slot. */
  readonly #at: Float64Array;
  /** Transmit sequence per slot (ties of #at break in sending order). */
  readonly #seq: Float64Array;
  /** Destination port index per slot. */
  readonly #dst: Int32Array;
  /** Destination queue per slot. */
  readonly #queue: Int32Array;
  /** Next slot in a receive queue's list, -1 at the end. */
  readonly #next: Int32Array;
  /** Min-heap of in-flight slot ids keyed by (#at, #seq). */
  readonly #heap: Int32Array;
  /** Entries in #heap. */
  #heapSize = 0;
  /** Next transmit sequence number. */
  #seqNo = 0;
  /** A setImmediate for #tick is pending. */
  #scheduled = false;
  /** Bound once: the macrotask that delivers, advances time and resolves waits. */
  readonly #tickFn = (): void => this.#tick();

  constructor(opts: SimWireOptions) {
    const rss = new RssSteering();
    this.selectQueue = (buf, off, len, queues) => rss.queueOfFrame(buf, off, len, queues);
    this.#prng = new Prng(opts.seed);
    this.autoAdvance = opts.autoAdvance ?? false;
    this.clock = new VirtualClock(opts.startMs ?? 0);
    const cap = opts.maxFrameBytes ?? 2048;
    if (!Number.isInteger(cap) || cap < 14) throw new RangeError(`sim wire: maxFrameBytes = ${cap} must be an integer >= 14`);
    this.maxFrameBytes = cap;
    this.#stride = (cap + 3) & ~3;
    const slots = opts.slots ?? 65536;
    if (!Number.isInteger(slots) || slots < 1 || slots > 1 << 24) throw new RangeError(`sim wire: slots = ${slots} out of range`);
    this.slots = slots;
    this.#free = new Int32Array(slots);
    this.#len = new Int32Array(slots);
    this.#at = new Float64Array(slots);
    this.#seq = new Float64Array(slots);
    this.#dst = new Int32Array(slots);
    this.#queue = new Int32Array(slots);
    this.#next = new Int32Array(slots);
    this.#heap = new Int32Array(slots);
  }

  /** The PRNG the wire draws from. */
  get prng(): Prng {
    return this.#prng;
  }

  /** Slots holding a frame (in flight, queued at a port, or held by a receiver until rxRelease). */
  get slotsInUse(): number {
    return this.#materialized - this.#freeCount;
  }

  /** A new port with this MAC (48-bit integer). */
  attach(mac: number, opts: SimAttachOptions = {}): SimDriver {
    const index = this.#ports.length;
    if (index >= this.#portCap) this.#growLinks(index === 0 ? 4 : this.#portCap * 2);
    const d = new SimDriver(this, index, mac, opts.queues ?? 1, opts.txSlots ?? 256, this.#stride);
    d.imp = this.#impair;
    this.#ports.push(d);
    return d;
  }

  #growLinks(cap: number): void {
    const busy = new Float64Array(cap * cap);
    const last = new Float64Array(cap * cap);
    for (let f = 0; f < this.#portCap; f++) {
      for (let t = 0; t < this.#portCap; t++) {
        busy[f * cap + t] = this.#linkBusy[f * this.#portCap + t];
        last[f * cap + t] = this.#linkLast[f * this.#portCap + t];
      }
    }
    this.#linkBusy = busy;
    this.#linkLast = last;
    this.#portCap = cap;
  }

  /**
   * Set impairments wire-wide, or (with `from`) for frames sent by that port
   * only: a per-port value overrides the wire-wide one field by field.
   */
  impair(imp: Partial<Impairments>, from?: SimDriver): void {
    checkImpairments(imp);
    if (from) {
      from.impOverride = { ...from.impOverride, ...imp };
      from.imp = { ...this.#impair, ...from.impOverride };
      return;
    }
    this.#impair = { ...this.#impair, ...imp };
    for (const p of this.#ports) p.imp = { ...this.#impair, ...p.impOverride };
  }

  /** Remove impairments: wire-wide and every port's (no argument), or one port's overrides. */
  clearImpairments(from?: SimDriver): void {
    if (from) {
      from.impOverride = {};
      from.imp = this.#impair;
      return;
    }
    this.#impair = NONE;
    for (const p of this.#ports) {
      p.impOverride = {};
      p.imp = NONE;
    }
  }

  /** The impairments frames sent by `from` (or by a port without overrides) get. */
  impairments(from?: SimDriver): Impairments {
    return { ...(from ? from.imp : this.#impair) };
  }

  /** Drop the next n frames sent by `from`, or by anyone (counted as lost). Replaces an earlier count. */
  dropNext(n: number, from?: SimDriver): void {
    if (from) from.dropNext = n;
    else this.#dropNext = n;
  }

  /** Move the clock to t (never backward). Frames due by then become receivable. */
  advanceTo(t: number): void {
    this.clock.set(t);
    this.#afterClockMove();
  }

  /** Move the clock forward by ms. */
  advanceBy(ms: number): void {
    this.clock.set(this.clock.now() + ms);
    this.#afterClockMove();
  }

  #afterClockMove(): void {
    this.deliverDue();
    for (let i = 0; i < this.#ports.length; i++) {
      if (this.#ports[i].waitCount > 0) {
        this.#schedule();
        return;
      }
    }
  }

  /** Earliest pending delivery, Infinity when nothing is in flight. */
  nextEventAt(): number {
    return this.#heapSize > 0 ? this.#at[this.#heap[0]] : Infinity;
  }

  /** Frames in flight (not yet delivered to a port's queue). */
  get inFlight(): number {
    return this.#heapSize;
  }

  // ---- transmit (called by SimDriver.txBurst) ------------------------------

  /** @internal Put one transmitted frame on the wire. Returns false when the port must count it as not sent. */
  transmit(from: SimDriver, buf: Uint8Array, off: number, len: number): boolean {
    if (len < 14) {
      this.stats.dropsRunt++;
      return false;
    }
    if (len > this.maxFrameBytes) {
      this.stats.dropsOversize++;
      return false;
    }
    if (this.onFrame !== null && !this.onFrame(from, buf, off, len)) {
      this.stats.filtered++;
      return true;
    }
    if (from.dropNext > 0) {
      from.dropNext--;
      this.stats.lost++;
      return true;
    }
    if (this.#dropNext > 0) {
      this.#dropNext--;
      this.stats.lost++;
      return true;
    }
    const imp = from.imp;
    const rnd = this.#prng;
    if (imp.loss > 0 && rnd.next() < imp.loss) {
      this.stats.lost++;
      return true;
    }
    let copies = 1;
    if (imp.duplicate > 0 && rnd.next() < imp.duplicate) {
      copies = 2;
      this.stats.duplicated++;
    }
    const hi = (buf[off] << 8) | buf[off + 1];
    const lo = (buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5];
    const ports = this.#ports;
    let to = -1;
    // Group bit clear: unicast, to its port if one has the MAC. Broadcast, multicast and unknown unicast flood.
    if ((buf[off] & 1) === 0) {
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i];
        if (p.macLo === lo && p.macHi === hi && p !== from && !p.closed) {
          to = i;
          break;
        }
      }
    }
    for (let c = 0; c < copies; c++) {
      if (to >= 0) {
        this.#steer(from, ports[to], buf, off, len, imp);
        continue;
      }
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i];
        if (p !== from && !p.closed) this.#steer(from, p, buf, off, len, imp);
      }
    }
    return true;
  }

  /** Queue a frame for port `to` on the receive queue selectQueue picks, or a copy on each. */
  #steer(from: SimDriver, to: SimDriver, buf: Uint8Array, off: number, len: number, imp: Impairments): void {
    const q = to.queues > 1 ? this.selectQueue(buf, off, len, to.queues) : 0;
    if (q !== RSS_EVERY_QUEUE) {
      this.#enqueue(from, to, buf, off, len, imp, q);
      return;
    }
    for (let i = 0; i < to.queues; i++) this.#enqueue(from, to, buf, off, len, imp, i);
  }

  #allocSlot(): number {
    if (this.#freeCount > 0) return this.#free[--this.#freeCount];
    if (this.#materialized === this.slots) return -1;
    const s = this.#materialized++;
    if ((s & CHUNK_MASK) === 0) {
      const n = Math.min(CHUNK_MASK + 1, this.slots - s);
      const chunk = new Uint8Array(n * this.#stride);
      this.#chunks.push(chunk);
      this.#chunks32.push(new Int32Array(chunk.buffer));
    }
    return s;
  }

  /** @internal Return a slot to the pool. */
  freeSlot(slot: number): void {
    this.#free[this.#freeCount++] = slot;
  }

  #enqueue(from: SimDriver, to: SimDriver, buf: Uint8Array, off: number, len: number, imp: Impairments, queue: number): void {
    const slot = this.#allocSlot();
    if (slot < 0) {
      this.stats.dropsNoSlot++;
      return;
    }
    const chunk = this.#chunks[slot >> CHUNK_SHIFT];
    const base = (slot & CHUNK_MASK) * this.#stride;
    // The one copy of the wire. From a staging slot: 32-bit words (both sides 4-aligned, strides rounded up to 4).
    if (buf === from.txArena && (off & 3) === 0) {
      const src = from.txArena32;
      const dst = this.#chunks32[slot >> CHUNK_SHIFT];
      const s0 = off >> 2;
      const d0 = base >> 2;
      const words = (len + 3) >> 2;
      for (let i = 0; i < words; i++) dst[d0 + i] = src[s0 + i];
    } else {
      for (let i = 0; i < len; i++) chunk[base + i] = buf[off + i];
    }
    this.#len[slot] = len;
    const rnd = this.#prng;
    if (imp.corrupt > 0 && rnd.next() < imp.corrupt) {
      const bit = rnd.nextU32() % (len * 8);
      chunk[base + (bit >>> 3)] ^= 1 << (bit & 7);
      this.stats.corrupted++;
    }
    const now = this.clock.now();
    const link = from.index * this.#portCap + to.index;
    let at: number;
    if (imp.bandwidthBps > 0) {
      let start = this.#linkBusy[link];
      if (start < now) start = now;
      const done = start + (len * 8000) / imp.bandwidthBps;
      this.#linkBusy[link] = done;
      at = done + imp.delayMs;
    } else {
      at = now + imp.delayMs;
    }
    if (imp.jitterMs > 0) at += rnd.next() * imp.jitterMs;
    if (at < this.#linkLast[link]) at = this.#linkLast[link]; // one direction stays FIFO unless reordered
    this.#linkLast[link] = at;
    if (imp.reorder > 0 && rnd.next() < imp.reorder) {
      const hold = imp.reorderMs > 0 ? imp.reorderMs : imp.delayMs > 1 ? imp.delayMs : 1;
      at += hold * (1 + rnd.next());
      this.stats.reordered++;
    }
    this.#at[slot] = at;
    this.#seq[slot] = this.#seqNo++;
    this.#dst[slot] = to.index;
    this.#queue[slot] = queue >= 0 && queue < to.queues ? queue : 0;
    this.#heapPush(slot);
    if (to.waitCount > 0) this.#schedule();
  }

  // ---- the in-flight heap --------------------------------------------------

  /** Slot a is due before slot b. */
  #before(a: number, b: number): boolean {
    const ta = this.#at[a];
    const tb = this.#at[b];
    return ta < tb || (ta === tb && this.#seq[a] < this.#seq[b]);
  }

  #heapPush(slot: number): void {
    const h = this.#heap;
    let i = this.#heapSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(slot, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = slot;
  }

  #heapPop(): void {
    const h = this.#heap;
    const n = --this.#heapSize;
    if (n === 0) return;
    const last = h[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.#before(h[c + 1], h[c])) c++;
      if (!this.#before(h[c], last)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
  }

  /** @internal Move every frame due by now into its port's receive queue. */
  deliverDue(): void {
    const now = this.clock.now();
    const h = this.#heap;
    while (this.#heapSize > 0) {
      const slot = h[0];
      if (this.#at[slot] > now) break;
      this.#heapPop();
      const p = this.#ports[this.#dst[slot]];
      if (p.closed) {
        this.freeSlot(slot);
        this.stats.dropsClosed++;
        continue;
      }
      const q = this.#queue[slot];
      this.#next[slot] = -1;
      const tail = p.rxTail[q];
      if (tail < 0) p.rxHead[q] = slot;
      else this.#next[tail] = slot;
      p.rxTail[q] = slot;
      p.rxCount[q]++;
      this.stats.delivered++;
      this.stats.bytes += this.#len[slot];
      if (this.onDeliver !== null) this.onDeliver(p, this.#chunks[slot >> CHUNK_SHIFT], (slot & CHUNK_MASK) * this.#stride, this.#len[slot], q);
    }
  }

  // ---- receive (called by SimDriver) ---------------------------------------

  /** @internal rxBurst of port p. */
  receive(p: SimDriver, queue: number, out: FrameBatch, max: number): number {
    this.deliverDue();
    let n = 0;
    let lim = max < out.capacity ? max : out.capacity;
    if (lim > p.rxCount[queue]) lim = p.rxCount[queue];
    let s = p.rxHead[queue];
    const stride = this.#stride;
    let bytes = 0;
    while (n < lim) {
      const len = this.#len[s];
      out.buf[n] = this.#chunks[s >> CHUNK_SHIFT];
      out.off[n] = (s & CHUNK_MASK) * stride;
      out.len[n] = len;
      out.id[n] = s;
      bytes += len;
      n++;
      s = this.#next[s];
    }
    if (n > 0) {
      p.rxHead[queue] = s;
      p.rxCount[queue] -= n;
      if (p.rxCount[queue] === 0) p.rxTail[queue] = -1;
      p.stats.rxFrames += n;
      p.stats.rxBytes += bytes;
    }
    out.count = n;
    return n;
  }

  /** @internal Free every frame queued at port p (it is closing). */
  drop(p: SimDriver): void {
    for (let q = 0; q < p.queues; q++) {
      let s = p.rxHead[q];
      while (p.rxCount[q] > 0) {
        const next = this.#next[s];
        this.freeSlot(s);
        s = next;
        p.rxCount[q]--;
      }
      p.rxHead[q] = -1;
      p.rxTail[q] = -1;
    }
  }

  // ---- time ----------------------------------------------------------------

  /** @internal Run #tick on a later macrotask (once, however often asked). */
  schedule(): void {
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#tickFn);
  }

  /** Deliver what is due, resolve the waits that can go, and in auto-advance mode move the clock when every port idles. */
  #tick(): void {
    this.#scheduled = false;
    this.deliverDue();
    const ports = this.#ports;
    if (!this.autoAdvance) {
      for (let i = 0; i < ports.length; i++) ports[i].resolveAll();
      return;
    }
    let resolved = this.#resolveReady();
    while (resolved === 0) {
      let waiting = false;
      let t = this.nextEventAt();
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i];
        if (p.closed) continue;
        if (!p.idle()) return; // a busy port holds the clock
        waiting = true;
        const d = p.earliestDeadline();
        if (d < t) t = d;
      }
      if (!waiting || t === Infinity) return;
      this.clock.set(t);
      this.deliverDue();
      resolved = this.#resolveReady();
    }
  }

  /** Resolve waits whose queue has a frame or whose deadline passed. */
  #resolveReady(): number {
    const now = this.clock.now();
    let n = 0;
    const ports = this.#ports;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i];
      if (p.waitCount > 0) n += p.resolveReady(now);
    }
    return n;
  }
}

export class SimDriver implements PacketDriver {
  readonly name = 'sim';
  /** No offloads; frames up to the wire's maxFrameBytes. The wire may corrupt frames (`corrupt`). */
  readonly capabilities: PortCapabilities;
  /** Per-port counters. */
  readonly stats: DriverStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  /** Closed: sends nothing, receives nothing. */
  closed = false;
  /** @internal Upper 16 bits of the MAC. */
  readonly macHi: number;
  /** @internal Lower 32 bits of the MAC, as an int32. */
  readonly macLo: number;
  /** @internal Effective impairments of frames this port sends. */
  imp: Impairments = NONE;
  /** @internal This port's overrides of the wire-wide impairments. */
  impOverride: Partial<Impairments> = {};
  /** @internal Frames of this port still to drop. */
  dropNext = 0;
  /** @internal First slot of each receive queue's list, -1 when empty. */
  readonly rxHead: Int32Array;
  /** @internal Last slot of each receive queue's list, -1 when empty. */
  readonly rxTail: Int32Array;
  /** @internal Frames in each receive queue's list. */
  readonly rxCount: Int32Array;
  /** @internal TX staging memory: txSlots slots of stride bytes. */
  readonly txArena: Uint8Array;
  /** @internal Int32 view of txArena, for word copies. */
  readonly txArena32: Int32Array;
  /** Stack of free staging slot ids. */
  readonly #txFree: Int32Array;
  /** Entries in #txFree. */
  #txFreeCount: number;
  /** 1 while a staging slot is reserved by txAlloc (guards against double free and foreign batches). */
  readonly #txReserved: Uint8Array;
  /** Bytes between staging slots. */
  readonly #stride: number;
  /** Outstanding waitRx resolver per queue, null when none. */
  readonly #waitResolve: ((() => void) | null)[];
  /** Deadline of each queue's outstanding wait (virtual ms). */
  readonly #waitDeadline: Float64Array;
  /** @internal Queues with an outstanding wait. */
  waitCount = 0;
  /** 1 for each queue this port has used (rxBurst, txAlloc or waitRx). */
  readonly #used: Uint8Array;
  /** Queues marked in #used. */
  #usedCount = 0;

  constructor(
    readonly wire: SimWire,
    /** Index of this port on the wire. */
    readonly index: number,
    readonly mac: number,
    readonly queues: number,
    txSlots: number,
    stride: number,
  ) {
    if (!Number.isInteger(queues) || queues < 1) throw new RangeError(`sim port: queues = ${queues} must be >= 1`);
    if (!Number.isInteger(txSlots) || txSlots < 1) throw new RangeError(`sim port: txSlots = ${txSlots} must be >= 1`);
    this.capabilities = withoutOffloads(queues, wire.maxFrameBytes);
    this.macHi = Math.floor(mac / 0x100000000) & 0xffff;
    this.macLo = mac % 0x100000000 | 0;
    this.rxHead = new Int32Array(queues).fill(-1);
    this.rxTail = new Int32Array(queues).fill(-1);
    this.rxCount = new Int32Array(queues);
    this.#stride = stride;
    this.txArena = new Uint8Array(txSlots * stride);
    this.txArena32 = new Int32Array(this.txArena.buffer);
    this.#txFree = new Int32Array(txSlots);
    for (let i = 0; i < txSlots; i++) this.#txFree[i] = txSlots - 1 - i;
    this.#txFreeCount = txSlots;
    this.#txReserved = new Uint8Array(txSlots);
    this.#waitResolve = new Array<(() => void) | null>(queues).fill(null);
    this.#waitDeadline = new Float64Array(queues);
    this.#used = new Uint8Array(queues);
  }

  #use(queue: number): void {
    if (this.#used[queue] === 0) {
      this.#used[queue] = 1;
      this.#usedCount++;
    }
  }

  /** Frames queued for receive on `queue` (delivered, not yet taken by rxBurst). */
  pending(queue = 0): number {
    this.wire.deliverDue();
    return this.rxCount[queue];
  }

  rxBurst(queue: number, out: FrameBatch, max: number): number {
    if (this.#used[queue] === 0) this.#use(queue);
    if (this.closed) {
      out.count = 0;
      return 0;
    }
    return this.wire.receive(this, queue, out, max);
  }

  rxRelease(_queue: number, batch: FrameBatch): void {
    for (let i = 0; i < batch.count; i++) this.wire.freeSlot(batch.id[i]);
    batch.count = 0;
  }

  txAlloc(queue: number, out: FrameBatch, max: number): number {
    if (this.#used[queue] === 0) this.#use(queue);
    let n = max < out.capacity ? max : out.capacity;
    if (n > this.#txFreeCount) n = this.#txFreeCount;
    if (this.closed) n = 0;
    const stride = this.#stride;
    const cap = this.capabilities.maxFrameBytes;
    for (let i = 0; i < n; i++) {
      const s = this.#txFree[--this.#txFreeCount];
      this.#txReserved[s] = 1;
      out.buf[i] = this.txArena;
      out.off[i] = s * stride;
      out.len[i] = cap;
      out.id[i] = s;
    }
    out.count = n;
    return n;
  }

  txBurst(_queue: number, batch: FrameBatch, count: number): void {
    if (count > batch.count) count = batch.count;
    for (let i = 0; i < count; i++) {
      const len = batch.len[i];
      if (!this.closed && this.wire.transmit(this, batch.buf[i], batch.off[i], len)) {
        this.stats.txFrames++;
        this.stats.txBytes += len;
      } else {
        this.stats.txDropped++;
      }
    }
    // Give back every staging slot of the batch, sent or not.
    const arena = this.txArena;
    for (let i = 0; i < batch.count; i++) {
      const s = batch.id[i];
      if (batch.buf[i] === arena && s >= 0 && s < this.#txReserved.length && this.#txReserved[s] === 1) {
        this.#txReserved[s] = 0;
        this.#txFree[this.#txFreeCount++] = s;
      }
    }
    batch.count = 0;
  }

  waitRx(queue: number, timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.#used[queue] === 0) this.#use(queue);
    if (this.#waitResolve[queue] !== null) this.#resolve(queue);
    const deadline = this.wire.clock.now() + (timeoutMs > 0 ? timeoutMs : 0);
    return new Promise<void>((resolve) => {
      this.#waitResolve[queue] = resolve;
      this.#waitDeadline[queue] = deadline;
      this.waitCount++;
      this.wire.schedule();
    });
  }

  #resolve(queue: number): void {
    const r = this.#waitResolve[queue];
    if (r === null) return;
    this.#waitResolve[queue] = null;
    this.waitCount--;
    r();
  }

  /** @internal Every used queue has an outstanding wait. */
  idle(): boolean {
    return this.waitCount > 0 && this.waitCount === this.#usedCount;
  }

  /** @internal Earliest deadline among this port's waits (Infinity when none). */
  earliestDeadline(): number {
    let t = Infinity;
    for (let q = 0; q < this.queues; q++) {
      if (this.#waitResolve[q] !== null && this.#waitDeadline[q] < t) t = this.#waitDeadline[q];
    }
    return t;
  }

  /** @internal Resolve the waits whose queue has frames or whose deadline passed; returns how many. */
  resolveReady(now: number): number {
    let n = 0;
    for (let q = 0; q < this.queues; q++) {
      if (this.#waitResolve[q] !== null && (this.rxCount[q] > 0 || this.#waitDeadline[q] <= now)) {
        this.#resolve(q);
        n++;
      }
    }
    return n;
  }

  /** @internal Resolve every outstanding wait. */
  resolveAll(): void {
    for (let q = 0; q < this.queues; q++) this.#resolve(q);
  }

  wakeRx(queue: number): void {
    this.#resolve(queue);
  }

  stopTxChecksumOffload(): void {} // nothing is offloaded

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wire.drop(this);
    this.resolveAll();
    this.wire.schedule(); // the others may all be idle now
  }
}

/**
 * io = sim: the application's SimWire (`mtcp_init(conf, { sim: wire })`), whose virtual clock drives the
 * stacks. A runtime's contexts share one port with a queue each; the port lives in the wire's thread.
 */
export const simFactory: DriverFactory<SimWire> = {
  forRuntime(settings, wire) {
    if (!wire) throw new ErrnoError(EINVAL, 'io = sim needs a SimWire: mtcp_init(conf, { sim: wire })');
    return new SimRuntimePort(settings, wire);
  },
};

class SimRuntimePort implements RuntimePort<SimWire> {
  readonly clock: VirtualClock;
  /** The port this runtime's contexts share, one queue each: made with the first driver, again after the last closed it. */
  #port: SimDriver | null = null;
  /** Drivers on #port not yet closed. */
  #users = 0;

  constructor(readonly settings: DriverSettings, readonly wire: SimWire) {
    this.clock = wire.clock;
  }

  driver(_core: number): PacketDriver {
    if (!this.#port || this.#port.closed) {
      const queues = this.settings.numCores;
      // Staging slots: a full burst (64) for every context at once, with room to spare.
      this.#port = this.wire.attach(this.settings.ports[0].mac, { queues, txSlots: 256 * queues });
    }
    const port = this.#port;
    this.#users++;
    return new PortShare(port, () => {
      if (--this.#users === 0) port.close();
    });
  }

  share(): never {
    throw new ErrnoError(EINVAL, 'io = sim runs in the thread that owns the SimWire; it cannot be shared with workers');
  }

  destroy(): void {} // the port closes with its last driver
}
