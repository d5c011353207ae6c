/**
 * The simulated wire: stacks in one thread joined by an in-memory switch with
 * a virtual clock, repeatable from a seed, able to drop, duplicate, reorder,
 * corrupt and delay frames.
 *
 * Time. `wire.clock` is virtual. In manual mode tests move it with advanceTo.
 * In auto-advance mode it moves by itself, as a discrete-event simulator: when
 * every attached, open port is waiting in waitRx, the clock jumps to the
 * earliest of their deadlines and the next frame delivery, and the waits that
 * are due resolve. A port that is not waiting holds the clock still:
 * computation takes no virtual time.
 *
 * Memory. Frames are copied once, at transmit, into wire-owned slots; the
 * receiving driver hands out views of those slots and frees them on release.
 * In-flight frames sit in a binary heap over typed arrays keyed by
 * (delivery time, sequence). Nothing is allocated per frame.
 */
import { FrameBatch, type DriverStats, type PacketDriver } from './driver.ts';

export class VirtualClock {
  #now: number;

  constructor(start = 0) {
    this.#now = start;
  }

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
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

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
  /** Probability a frame is lost. */
  loss: number;
  /** Probability a frame is delivered twice. */
  duplicate: number;
  /** Probability a frame is held back so later frames overtake it. */
  reorder: number;
  /** Probability one random bit of the frame is flipped. */
  corrupt: number;
  /** One-way latency, ms. */
  delayMs: number;
  /** Extra latency, uniform in [0, jitterMs). Frames keep their order unless reordered. */
  jitterMs: number;
  /** Link rate in bits/s (0: unlimited): frames queue behind each other. */
  bandwidthBps: number;
}

const NO_IMPAIRMENTS: Impairments = { loss: 0, duplicate: 0, reorder: 0, corrupt: 0, delayMs: 0, jitterMs: 0, bandwidthBps: 0 };

export interface SimWireStats {
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  dropsNoSlot: number;
  dropsRunt: number;
  bytes: number;
}

export interface SimWireOptions {
  seed: number;
  autoAdvance?: boolean;
  /** Bytes per frame slot (default 2048). */
  frameCapacity?: number;
  /** Frame slots in flight or waiting to be received, for the whole wire (default 65536). */
  slots?: number;
}

const TX_STAGING = 256;

export class SimWire {
  readonly clock = new VirtualClock();
  readonly stats: SimWireStats = { delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, dropsNoSlot: 0, dropsRunt: 0, bytes: 0 };
  /** Inspect (or drop, by returning false) every frame as it is transmitted. */
  onFrame: ((from: SimDriver, buf: Uint8Array, off: number, len: number) => boolean) | null = null;
  readonly frameCapacity: number;
  readonly autoAdvance: boolean;
  readonly #prng: Prng;
  readonly #ports: SimDriver[] = [];
  #impair: Impairments = NO_IMPAIRMENTS;
  readonly #impairFrom = new Map<SimDriver, Impairments>();
  readonly #dropNext = new Map<SimDriver | null, number>();
  /** Last delivery time per link direction (from, to), so jitter doesn't reorder and bandwidth serializes. */
  readonly #linkFree = new Map<number, number>();

  // Slot memory
  readonly bytes: Uint8Array;
  readonly #slotLen: Int32Array;
  readonly #freeSlots: Int32Array;
  #freeCount: number;

  // In-flight heap, ordered by (deliverAt, seq)
  readonly #heapAt: Float64Array;
  readonly #heapSeq: Float64Array;
  readonly #heapSlot: Int32Array;
  readonly #heapPort: Int32Array;
  readonly #heapQueue: Int32Array;
  #heapSize = 0;
  #seq = 0;
  #advanceScheduled = false;

  constructor(opts: SimWireOptions) {
    this.#prng = new Prng(opts.seed);
    this.autoAdvance = opts.autoAdvance ?? false;
    this.frameCapacity = opts.frameCapacity ?? 2048;
    const slots = opts.slots ?? 65536;
    this.bytes = new Uint8Array(slots * this.frameCapacity);
    this.#slotLen = new Int32Array(slots);
    this.#freeSlots = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.#freeSlots[i] = slots - 1 - i;
    this.#freeCount = slots;
    this.#heapAt = new Float64Array(slots);
    this.#heapSeq = new Float64Array(slots);
    this.#heapSlot = new Int32Array(slots);
    this.#heapPort = new Int32Array(slots);
    this.#heapQueue = new Int32Array(slots);
  }

  /** The PRNG the wire draws from (tests may share it for their own choices). */
  get prng(): Prng {
    return this.#prng;
  }

  /** A new port with this MAC. */
  attach(mac: number, opts: { queues?: number } = {}): SimDriver {
    const d = new SimDriver(this, this.#ports.length, mac, opts.queues ?? 1);
    this.#ports.push(d);
    return d;
  }

  /** Set impairments wire-wide, or for frames sent by `from`. */
  impair(imp: Partial<Impairments>, from?: SimDriver): void {
    if (from) this.#impairFrom.set(from, { ...(this.#impairFrom.get(from) ?? this.#impair), ...imp });
    else this.#impair = { ...this.#impair, ...imp };
  }

  /** Drop the next n frames (sent by `from`, or by anyone). */
  dropNext(n: number, from?: SimDriver): void {
    this.#dropNext.set(from ?? null, n);
  }

  advanceTo(t: number): void {
    this.clock.set(t);
  }

  advanceBy(ms: number): void {
    this.clock.set(this.clock.now() + ms);
  }

  /** Earliest pending delivery, Infinity when nothing is in flight. */
  nextEventAt(): number {
    return this.#heapSize > 0 ? this.#heapAt[0] : Infinity;
  }

  // ---- internals used by SimDriver --------------------------------------

  /** Copy a transmitted frame onto the wire. */
  transmit(from: SimDriver, buf: Uint8Array, off: number, len: number): void {
    if (len < 14) {
      this.stats.dropsRunt++;
      return;
    }
    if (this.onFrame && !this.onFrame(from, buf, off, len)) {
      this.stats.lost++;
      return;
    }
    for (const key of [from, null] as const) {
      const n = this.#dropNext.get(key);
      if (n !== undefined && n > 0) {
        this.#dropNext.set(key, n - 1);
        this.stats.lost++;
        return;
      }
    }
    const imp = this.#impairFrom.get(from) ?? this.#impair;
    const rnd = this.#prng;
    if (imp.loss > 0 && rnd.next() < imp.loss) {
      this.stats.lost++;
      return;
    }
    const copies = imp.duplicate > 0 && rnd.next() < imp.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const dst = (buf[off] << 8 | buf[off + 1]) * 0x100000000 +
      (((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0);
    for (let c = 0; c < copies; c++) {
      for (const to of this.#ports) {
        if (to === from || to.closed) continue;
        if (dst !== 0xffffffffffff && dst !== to.mac) continue;
        this.#enqueue(from, to, buf, off, len, imp);
      }
    }
  }

  #enqueue(from: SimDriver, to: SimDriver, buf: Uint8Array, off: number, len: number, imp: Impairments): void {
    if (this.#freeCount === 0) {
      this.stats.dropsNoSlot++;
      return;
    }
    const slot = this.#freeSlots[--this.#freeCount];
    const base = slot * this.frameCapacity;
    this.bytes.set(buf.subarray(off, off + len), base);
    this.#slotLen[slot] = len;
    const rnd = this.#prng;
    if (imp.corrupt > 0 && rnd.next() < imp.corrupt) {
      const bit = rnd.nextU32() % (len * 8);
      this.bytes[base + (bit >>> 3)] ^= 1 << (bit & 7);
      this.stats.corrupted++;
    }
    const now = this.clock.now();
    const link = from.index * 65536 + to.index;
    const linkFree = this.#linkFree.get(link) ?? 0;
    let at = now + imp.delayMs + (imp.jitterMs > 0 ? rnd.next() * imp.jitterMs : 0);
    if (imp.bandwidthBps > 0) {
      const start = linkFree > now ? linkFree : now;
      at = start + (len * 8 * 1000) / imp.bandwidthBps + imp.delayMs;
      this.#linkFree.set(link, at - imp.delayMs);
    } else if (at < linkFree) {
      at = linkFree; // jitter alone does not reorder
    }
    if (imp.bandwidthBps === 0) this.#linkFree.set(link, at);
    if (imp.reorder > 0 && rnd.next() < imp.reorder) {
      at += (imp.delayMs > 0 ? imp.delayMs : 1) * (1 + rnd.next());
      this.stats.reordered++;
    }
    this.#heapPush(at, slot, to.index, to.selectQueue(this.bytes, base, len));
    if (to.waiting) this.#scheduleAdvance();
  }

  #heapPush(at: number, slot: number, port: number, queue: number): void {
    let i = this.#heapSize++;
    const seq = this.#seq++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.#heapAt[p] < at || (this.#heapAt[p] === at && this.#heapSeq[p] < seq)) break;
      this.#heapAt[i] = this.#heapAt[p];
      this.#heapSeq[i] = this.#heapSeq[p];
      this.#heapSlot[i] = this.#heapSlot[p];
      this.#heapPort[i] = this.#heapPort[p];
      this.#heapQueue[i] = this.#heapQueue[p];
      i = p;
    }
    this.#heapAt[i] = at;
    this.#heapSeq[i] = seq;
    this.#heapSlot[i] = slot;
    this.#heapPort[i] = port;
    this.#heapQueue[i] = queue;
  }

  #heapPop(): void {
    const n = --this.#heapSize;
    if (n === 0) return;
    const at = this.#heapAt[n];
    const seq = this.#heapSeq[n];
    const slot = this.#heapSlot[n];
    const port = this.#heapPort[n];
    const queue = this.#heapQueue[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (this.#heapAt[c + 1] < this.#heapAt[c] || (this.#heapAt[c + 1] === this.#heapAt[c] && this.#heapSeq[c + 1] < this.#heapSeq[c]))) c++;
      if (at < this.#heapAt[c] || (at === this.#heapAt[c] && seq < this.#heapSeq[c])) break;
      this.#heapAt[i] = this.#heapAt[c];
      this.#heapSeq[i] = this.#heapSeq[c];
      this.#heapSlot[i] = this.#heapSlot[c];
      this.#heapPort[i] = this.#heapPort[c];
      this.#heapQueue[i] = this.#heapQueue[c];
      i = c;
    }
    this.#heapAt[i] = at;
    this.#heapSeq[i] = seq;
    this.#heapSlot[i] = slot;
    this.#heapPort[i] = port;
    this.#heapQueue[i] = queue;
  }

  /** Move every frame due by now into its port's receive queue. */
  deliverDue(): void {
    const now = this.clock.now();
    while (this.#heapSize > 0 && this.#heapAt[0] <= now) {
      const slot = this.#heapSlot[0];
      const port = this.#ports[this.#heapPort[0]];
      const queue = this.#heapQueue[0];
      this.#heapPop();
      if (port.closed || !port.accept(queue, slot)) {
        this.freeSlot(slot);
        this.stats.dropsNoSlot++;
        continue;
      }
      this.stats.delivered++;
      this.stats.bytes += this.#slotLen[slot];
    }
  }

  slotLen(slot: number): number {
    return this.#slotLen[slot];
  }

  freeSlot(slot: number): void {
    this.#freeSlots[this.#freeCount++] = slot;
  }

  /** Auto-advance: re-evaluate once the current turn's microtasks are done. */
  #scheduleAdvance(): void {
    if (this.#advanceScheduled) return;
    this.#advanceScheduled = true;
    setImmediate(() => {
      this.#advanceScheduled = false;
      this.#advance();
    });
  }

  /** Called when a port starts waiting or a frame arrives for a waiting port. */
  portWaits(): void {
    this.#scheduleAdvance();
  }

  #advance(): void {
    this.deliverDue();
    // Wake ports that have frames now.
    let allWaiting = true;
    let earliest = this.nextEventAt();
    for (const p of this.#ports) {
      if (p.closed) continue;
      if (!p.waiting) {
        allWaiting = false;
        continue;
      }
      if (p.hasFrames()) {
        p.resolveWait();
        allWaiting = false;
        continue;
      }
      if (p.waitDeadline < earliest) earliest = p.waitDeadline;
    }
    if (!this.autoAdvance || !allWaiting || earliest === Infinity) {
      if (!this.autoAdvance) for (const p of this.#ports) if (p.waiting && !p.closed) p.resolveWait();
      return;
    }
    this.clock.set(earliest);
    this.deliverDue();
    const now = this.clock.now();
    for (const p of this.#ports) {
      if (p.closed || !p.waiting) continue;
      if (p.hasFrames() || p.waitDeadline <= now) p.resolveWait();
    }
  }
}

export class SimDriver implements PacketDriver {
  readonly name = 'sim';
  readonly frameCapacity: number;
  readonly stats: DriverStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  closed = false;
  /** A waitRx is outstanding. */
  waiting = false;
  waitDeadline = Infinity;
  #resolve: (() => void) | null = null;
  /** Per-queue receive rings of wire slot ids. */
  readonly #rx: Int32Array[];
  readonly #rxHead: Int32Array;
  readonly #rxCount: Int32Array;
  readonly #tx: Uint8Array;

  constructor(readonly wire: SimWire, readonly index: number, readonly mac: number, readonly queues: number) {
    this.frameCapacity = wire.frameCapacity;
    this.#rx = [];
    for (let q = 0; q < queues; q++) this.#rx.push(new Int32Array(4096));
    this.#rxHead = new Int32Array(queues);
    this.#rxCount = new Int32Array(queues);
    this.#tx = new Uint8Array(TX_STAGING * this.frameCapacity);
  }

  /** Receive queue for a frame: a symmetric hash of the IPv4 addresses and ports, so both directions agree. */
  selectQueue(buf: Uint8Array, off: number, len: number): number {
    if (this.queues === 1 || len < 38 || buf[off + 12] !== 0x08 || buf[off + 13] !== 0x00) return 0;
    const ip = off + 14;
    const ihl = (buf[ip] & 0x0f) << 2;
    let h = 0;
    for (let k = 12; k < 20; k += 4) h ^= ((buf[ip + k] << 24) | (buf[ip + k + 1] << 16) | (buf[ip + k + 2] << 8) | buf[ip + k + 3]);
    if (len >= 14 + ihl + 4) h ^= ((buf[ip + ihl] << 8) | buf[ip + ihl + 1]) ^ ((buf[ip + ihl + 2] << 8) | buf[ip + ihl + 3]);
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    return ((h ^ (h >>> 16)) >>> 0) % this.queues;
  }

  /** The wire delivers a slot to a queue; false when the queue is full. */
  accept(queue: number, slot: number): boolean {
    const ring = this.#rx[queue];
    if (this.#rxCount[queue] === ring.length) return false;
    ring[(this.#rxHead[queue] + this.#rxCount[queue]) % ring.length] = slot;
    this.#rxCount[queue]++;
    return true;
  }

  hasFrames(): boolean {
    for (let q = 0; q < this.queues; q++) if (this.#rxCount[q] > 0) return true;
    return false;
  }

  rxBurst(queue: number, out: FrameBatch, max: number): number {
    this.wire.deliverDue();
    const ring = this.#rx[queue];
    let n = this.#rxCount[queue];
    if (n > max) n = max;
    if (n > out.capacity) n = out.capacity;
    const cap = this.frameCapacity;
    let head = this.#rxHead[queue];
    for (let i = 0; i < n; i++) {
      const slot = ring[head];
      head = head + 1 === ring.length ? 0 : head + 1;
      out.buf[i] = this.wire.bytes;
      out.off[i] = slot * cap;
      out.len[i] = this.wire.slotLen(slot);
      out.id[i] = slot;
      this.stats.rxFrames++;
      this.stats.rxBytes += out.len[i];
    }
    this.#rxHead[queue] = head;
    this.#rxCount[queue] -= n;
    out.count = n;
    return n;
  }

  rxRelease(_queue: number, batch: FrameBatch): void {
    for (let i = 0; i < batch.count; i++) this.wire.freeSlot(batch.id[i]);
    batch.count = 0;
  }

  txAlloc(_queue: number, out: FrameBatch, max: number): number {
    let n = max < TX_STAGING ? max : TX_STAGING;
    if (n > out.capacity) n = out.capacity;
    const cap = this.frameCapacity;
    for (let i = 0; i < n; i++) {
      out.buf[i] = this.#tx;
      out.off[i] = i * cap;
      out.len[i] = cap;
      out.id[i] = i;
    }
    out.count = n;
    return n;
  }

  txBurst(_queue: number, batch: FrameBatch, count: number): void {
    for (let i = 0; i < count; i++) {
      const len = batch.len[i];
      this.stats.txFrames++;
      this.stats.txBytes += len;
      if (this.closed) continue;
      this.wire.transmit(this, batch.buf[i], batch.off[i], len);
    }
    batch.count = 0;
  }

  waitRx(_queue: number, timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.#resolve) this.resolveWait();
    return new Promise<void>((resolve) => {
      this.#resolve = resolve;
      this.waiting = true;
      this.waitDeadline = this.wire.clock.now() + (timeoutMs > 0 ? timeoutMs : 0);
      this.wire.portWaits();
    });
  }

  resolveWait(): void {
    const r = this.#resolve;
    this.#resolve = null;
    this.waiting = false;
    this.waitDeadline = Infinity;
    if (r) r();
  }

  wakeRx(): void {
    if (this.waiting) this.resolveWait();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let q = 0; q < this.queues; q++) {
      const ring = this.#rx[q];
      while (this.#rxCount[q] > 0) {
        this.wire.freeSlot(ring[this.#rxHead[q]]);
        this.#rxHead[q] = (this.#rxHead[q] + 1) % ring.length;
        this.#rxCount[q]--;
      }
    }
    this.resolveWait();
    this.wire.portWaits();
  }
}
