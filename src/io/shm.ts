/**
 * The shared-memory wire: two ports joined by SharedArrayBuffer rings, for
 * stacks in different worker threads (or the same one). Zero copy, as memif
 * does: the sender builds the frame in a ring slot, the receiver parses it in
 * that same slot and then releases it.
 *
 * Topology: point to point. For each direction (0→1, 1→0) and each queue q
 * there is one single-producer single-consumer ring; port p queue q transmits
 * into ring (p→1-p, selectQueue(q)) (the same index by default) and receives
 * from ring (1-p→p, q).
 *
 * Ring layout: `slots` (a power of two) slots of `slotSize` bytes in a data
 * SAB, the frame length of each slot in an Int32Array SAB, and a control block
 * of Int32s with HEAD (frames published by the producer, free running), TAIL
 * (frames released by the consumer, free running), SLEEPING (the consumer
 * waits on DOORBELL) and DOORBELL. HEAD and TAIL sit on separate cache lines.
 * Slot i of the ring holds frame number n where n & (slots - 1) === i.
 *
 * Memory ordering: the producer writes frame bytes and lengths with plain
 * stores, then publishes HEAD with Atomics.store; the consumer reads HEAD with
 * Atomics.load before touching the slots (a release/acquire pair). Likewise
 * the consumer is done with a slot before it stores TAIL, and the producer
 * loads TAIL before reusing it.
 *
 * Rules for the user of a port: one thread per (port, queue) end; rxRelease
 * batches in the order rxBurst returned them; one txAlloc reservation per
 * queue at a time (a new txAlloc replaces an unsent one); nothing allocated
 * per frame or per burst.
 */
import { FrameBatch, type DriverStats, type PacketDriver } from './driver.ts';

/** Control block: frames published (producer). */
const HEAD = 0;
/** Control block: frames released (consumer), a cache line away from HEAD. */
const TAIL = 16;
/** Control block: 1 while the consumer sleeps in waitRx. */
const SLEEPING = 32;
/** Control block: bumped by whoever wakes the consumer. */
const DOORBELL = 33;
/** Int32s per control block: three cache lines. */
const CONTROL_INTS = 48;

export interface ShmWireShared {
  /** Queue pairs per port. */
  queues: number;
  /** Slots per ring (a power of two). */
  slots: number;
  /** Bytes per slot: the largest frame. */
  slotSize: number;
  /** Frame bytes per ring: [direction 0→1 queue 0..queues-1, direction 1→0 queue 0..queues-1]. */
  data: SharedArrayBuffer[];
  /** Frame length per slot, per ring (same order). */
  lengths: SharedArrayBuffer[];
  /** Control block per ring (same order). */
  control: SharedArrayBuffer[];
}

export interface ShmWireOptions {
  /** Ports: always 2 (point to point). */
  ports?: 2;
  /** Queue pairs per port (default 1). */
  queues?: number;
  /** Slots per ring, a power of two (default 1024). */
  slots?: number;
  /** Bytes per slot (default 2048). */
  slotSize?: number;
}

export class ShmWire {
  private constructor(
    /** The shared buffers and geometry. */
    readonly shared: ShmWireShared,
  ) {}

  static create(opts: ShmWireOptions = {}): ShmWire {
    const ports = opts.ports ?? 2;
    const queues = opts.queues ?? 1;
    const slots = opts.slots ?? 1024;
    const slotSize = opts.slotSize ?? 2048;
    if (ports !== 2) throw new RangeError(`shm wire: ports = ${String(ports)}: the wire is point to point`);
    if (!Number.isInteger(queues) || queues < 1) throw new RangeError(`shm wire: queues = ${queues} must be >= 1`);
    if (!Number.isInteger(slots) || slots < 2 || slots > 1 << 24 || (slots & (slots - 1)) !== 0) {
      throw new RangeError(`shm wire: slots = ${slots} must be a power of two`);
    }
    if (!Number.isInteger(slotSize) || slotSize < 64) throw new RangeError(`shm wire: slotSize = ${slotSize} must be >= 64`);
    const shared: ShmWireShared = { queues, slots, slotSize, data: [], lengths: [], control: [] };
    for (let i = 0; i < 2 * queues; i++) {
      shared.data.push(new SharedArrayBuffer(slots * slotSize));
      shared.lengths.push(new SharedArrayBuffer(slots * 4));
      shared.control.push(new SharedArrayBuffer(CONTROL_INTS * 4));
    }
    return new ShmWire(shared);
  }

  /** A structured-cloneable object holding the SharedArrayBuffers, for workerData or postMessage. */
  share(): ShmWireShared {
    return this.shared;
  }
}

/** Maps a transmit queue to the peer's receive queue. Must be one-to-one (rings are single-producer). */
export type ShmQueueSelector = (txQueue: number, queues: number) => number;

/** The default: the same queue index. */
export function selectQueue(txQueue: number, _queues: number): number {
  return txQueue;
}

/** One end of one direction of one queue, with that end's private cursors. */
class RingEnd {
  /** The ring's frame bytes: the one arena every view of this ring points into. */
  readonly bytes: Uint8Array;
  /** Frame length per slot. */
  readonly lengths: Int32Array;
  /** The control block. */
  readonly control: Int32Array;
  /** slots - 1. */
  readonly mask: number;
  /** Producer: frames published (a private copy of HEAD). Consumer: last HEAD seen. */
  head: number;
  /** Consumer: frames released (a private copy of TAIL). Producer: last TAIL seen. */
  tail: number;
  /** Consumer: next frame rxBurst hands out (tail + frames held by the stack). */
  next: number;
  /** Producer: slots reserved by the last txAlloc. */
  reserved = 0;

  constructor(shared: ShmWireShared, index: number) {
    this.bytes = new Uint8Array(shared.data[index]);
    this.lengths = new Int32Array(shared.lengths[index]);
    this.control = new Int32Array(shared.control[index]);
    this.mask = shared.slots - 1;
    this.head = Atomics.load(this.control, HEAD);
    this.tail = Atomics.load(this.control, TAIL);
    this.next = this.tail;
  }
}

export interface ShmAttachOptions {
  /** Peer receive queue for each transmit queue (default: the same index). */
  selectQueue?: ShmQueueSelector;
}

/** Attach to one end of a shm wire (in any thread that has `shared`). */
export function attachShm(shared: ShmWireShared, port: 0 | 1, mac: number, opts: ShmAttachOptions = {}): ShmDriver {
  return new ShmDriver(shared, port, mac, opts.selectQueue ?? selectQueue);
}

function noop(): void {}

export class ShmDriver implements PacketDriver {
  readonly name = 'shm';
  /** Queue pairs. */
  readonly queues: number;
  /** Largest frame: the slot size. */
  readonly frameCapacity: number;
  /** Per-port counters. */
  readonly stats: DriverStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  /** Receive ring ends, by queue. */
  readonly #rx: RingEnd[] = [];
  /** Transmit ring ends, by queue. */
  readonly #tx: RingEnd[] = [];
  /** Slots per ring. */
  readonly #slots: number;
  /** Bytes per slot. */
  readonly #slotSize: number;
  /** Closed: sends and receives nothing. */
  #closed = false;

  constructor(
    shared: ShmWireShared,
    /** Which end of the wire this is. */
    readonly port: 0 | 1,
    readonly mac: number,
    select: ShmQueueSelector = selectQueue,
  ) {
    if (port !== 0 && port !== 1) throw new RangeError(`shm wire: port = ${String(port)} must be 0 or 1`);
    const { queues } = shared;
    if (shared.data.length !== 2 * queues || shared.lengths.length !== 2 * queues || shared.control.length !== 2 * queues) {
      throw new RangeError('shm wire: the shared object does not match its geometry');
    }
    this.queues = queues;
    this.#slots = shared.slots;
    this.#slotSize = shared.slotSize;
    this.frameCapacity = shared.slotSize;
    const outBase = port === 0 ? 0 : queues;
    const inBase = port === 0 ? queues : 0;
    const taken = new Uint8Array(queues);
    for (let q = 0; q < queues; q++) {
      const peerQ = select(q, queues);
      if (!Number.isInteger(peerQ) || peerQ < 0 || peerQ >= queues || taken[peerQ]) {
        throw new RangeError(`shm wire: selectQueue must map queues one to one (queue ${q} → ${peerQ})`);
      }
      taken[peerQ] = 1;
      this.#tx.push(new RingEnd(shared, outBase + peerQ));
      this.#rx.push(new RingEnd(shared, inBase + q));
    }
  }

  rxBurst(queue: number, out: FrameBatch, max: number): number {
    const r = this.#rx[queue];
    let want = max < out.capacity ? max : out.capacity;
    if (this.#closed) want = 0;
    const next = r.next;
    let n = (r.head - next) | 0;
    if (n < want) {
      r.head = Atomics.load(r.control, HEAD); // acquire: the slots up to HEAD are written
      n = (r.head - next) | 0;
    }
    if (n > want) n = want;
    const size = this.#slotSize;
    const mask = r.mask;
    const bytes = r.bytes;
    const lengths = r.lengths;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const slot = (next + i) & mask;
      const len = lengths[slot];
      out.buf[i] = bytes;
      out.off[i] = slot * size;
      out.len[i] = len;
      out.id[i] = slot;
      total += len;
    }
    r.next = (next + n) | 0;
    this.stats.rxFrames += n;
    this.stats.rxBytes += total;
    out.count = n;
    return n;
  }

  rxRelease(queue: number, batch: FrameBatch): void {
    const n = batch.count;
    batch.count = 0;
    if (n <= 0) return;
    const r = this.#rx[queue];
    let tail = (r.tail + n) | 0;
    if (((r.next - tail) | 0) < 0) tail = r.next; // never release what was not handed out
    r.tail = tail;
    Atomics.store(r.control, TAIL, tail); // release: the producer may reuse these slots
  }

  txAlloc(queue: number, out: FrameBatch, max: number): number {
    const r = this.#tx[queue];
    let want = max < out.capacity ? max : out.capacity;
    if (this.#closed) want = 0;
    const head = r.head;
    let free = this.#slots - ((head - r.tail) | 0);
    if (free < want) {
      r.tail = Atomics.load(r.control, TAIL); // acquire: the consumer is done with slots below TAIL
      free = this.#slots - ((head - r.tail) | 0);
    }
    const n = free < want ? free : want;
    const size = this.#slotSize;
    const mask = r.mask;
    const bytes = r.bytes;
    for (let i = 0; i < n; i++) {
      const slot = (head + i) & mask;
      out.buf[i] = bytes;
      out.off[i] = slot * size;
      out.len[i] = size;
      out.id[i] = slot;
    }
    r.reserved = n;
    out.count = n;
    return n;
  }

  txBurst(queue: number, batch: FrameBatch, count: number): void {
    const r = this.#tx[queue];
    if (count > r.reserved) count = r.reserved;
    if (count > batch.count) count = batch.count;
    r.reserved = 0;
    batch.count = 0;
    if (count <= 0) return;
    if (this.#closed) {
      this.stats.txDropped += count;
      return;
    }
    const head = r.head;
    const mask = r.mask;
    const lengths = r.lengths;
    const size = this.#slotSize;
    let total = 0;
    for (let i = 0; i < count; i++) {
      let len = batch.len[i];
      if (!(len >= 0)) len = 0;
      else if (len > size) len = size; // a slot can't hold more; never let the reader run into the next slot
      lengths[(head + i) & mask] = len;
      total += len;
    }
    r.head = (head + count) | 0;
    Atomics.store(r.control, HEAD, r.head); // publish the whole burst at once
    this.stats.txFrames += count;
    this.stats.txBytes += total;
    // Ring the doorbell only when the consumer sleeps: notify is costly.
    if (Atomics.load(r.control, SLEEPING) !== 0) {
      Atomics.add(r.control, DOORBELL, 1);
      Atomics.notify(r.control, DOORBELL, 1);
    }
  }

  /** Frames published to `queue` and not yet handed out by rxBurst. */
  pending(queue = 0): number {
    const r = this.#rx[queue];
    return (Atomics.load(r.control, HEAD) - r.next) | 0;
  }

  waitRx(queue: number, timeoutMs: number): Promise<void> {
    const r = this.#rx[queue];
    if (this.#closed || Atomics.load(r.control, HEAD) !== r.next) return Promise.resolve();
    return this.#sleep(r, timeoutMs > 0 ? timeoutMs : 0);
  }

  async #sleep(r: RingEnd, timeoutMs: number): Promise<void> {
    const c = r.control;
    const bell = Atomics.load(c, DOORBELL);
    Atomics.store(c, SLEEPING, 1);
    // Re-check after announcing the sleep: a burst published in between saw no sleeper and rang no bell.
    if (Atomics.load(c, HEAD) === r.next && !this.#closed && timeoutMs > 0) {
      const w = Atomics.waitAsync(c, DOORBELL, bell, timeoutMs);
      if (w.async) {
        // A pending waitAsync does not keep the thread alive; this timer does, until the wait ends.
        const keepAlive = setInterval(noop, 1 << 30);
        await w.value;
        clearInterval(keepAlive);
      }
    }
    Atomics.store(c, SLEEPING, 0);
  }

  wakeRx(queue: number): void {
    const c = this.#rx[queue].control;
    if (Atomics.load(c, SLEEPING) === 0) return;
    Atomics.add(c, DOORBELL, 1);
    Atomics.notify(c, DOORBELL, 1);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (let q = 0; q < this.queues; q++) this.wakeRx(q);
  }
}
