/**
 * The shared-memory wire: two ports joined by SharedArrayBuffer rings, one
 * single-producer single-consumer ring per direction and queue, for stacks in
 * different worker threads. Zero copy, as memif does: the sender builds the
 * frame in a ring slot, the receiver parses it in that slot and releases it.
 *
 * Ring layout (per direction and queue): `slots` slots of `slotSize` bytes in
 * a data SAB, their lengths in an Int32Array, and a control block of Int32s:
 * HEAD (frames published, free-running), TAIL (frames released by the
 * consumer), SLEEPING (the consumer waits on DOORBELL), DOORBELL.
 * The producer writes frame bytes and lengths before it publishes HEAD with
 * Atomics.store, which orders them for the consumer's Atomics.load.
 */
import { FrameBatch, type DriverStats, type PacketDriver } from './driver.ts';

const HEAD = 0;
const TAIL = 1;
const SLEEPING = 2;
const DOORBELL = 3;
const CONTROL_INTS = 16; // a cache line per ring's control block

export interface ShmWireShared {
  queues: number;
  slots: number;
  slotSize: number;
  /** [direction 0→1 queues..., direction 1→0 queues...] */
  data: SharedArrayBuffer[];
  lengths: SharedArrayBuffer[];
  control: SharedArrayBuffer[];
}

export interface ShmWireOptions {
  queues?: number;
  slots?: number;
  slotSize?: number;
}

export class ShmWire {
  private constructor(readonly shared: ShmWireShared) {}

  static create(opts: ShmWireOptions = {}): ShmWire {
    const queues = opts.queues ?? 1;
    const slots = opts.slots ?? 1024;
    const slotSize = opts.slotSize ?? 2048;
    if ((slots & (slots - 1)) !== 0 || slots < 2) throw new RangeError(`shm wire: slots = ${slots} must be a power of two`);
    const shared: ShmWireShared = { queues, slots, slotSize, data: [], lengths: [], control: [] };
    for (let i = 0; i < 2 * queues; i++) {
      shared.data.push(new SharedArrayBuffer(slots * slotSize));
      shared.lengths.push(new SharedArrayBuffer(slots * 4));
      shared.control.push(new SharedArrayBuffer(CONTROL_INTS * 4));
    }
    return new ShmWire(shared);
  }

  /** Structured-cloneable description for workerData. */
  share(): ShmWireShared {
    return this.shared;
  }
}

/** One direction of one queue. */
class Ring {
  readonly bytes: Uint8Array;
  readonly lengths: Int32Array;
  readonly control: Int32Array;
  readonly mask: number;

  constructor(shared: ShmWireShared, index: number) {
    this.bytes = new Uint8Array(shared.data[index]);
    this.lengths = new Int32Array(shared.lengths[index]);
    this.control = new Int32Array(shared.control[index]);
    this.mask = shared.slots - 1;
  }
}

export function attachShm(shared: ShmWireShared, port: 0 | 1, mac: number): ShmDriver {
  return new ShmDriver(shared, port, mac);
}

export class ShmDriver implements PacketDriver {
  readonly name = 'shm';
  readonly queues: number;
  readonly frameCapacity: number;
  readonly stats: DriverStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  readonly #rx: Ring[] = [];
  readonly #tx: Ring[] = [];
  readonly #slots: number;
  readonly #slotSize: number;
  /** Frames handed out by rxBurst and not yet released, per queue. */
  readonly #rxHeld: Int32Array;
  /** Slots reserved by txAlloc, per queue. */
  readonly #txReserved: Int32Array;
  #closed = false;

  constructor(shared: ShmWireShared, port: 0 | 1, readonly mac: number) {
    this.queues = shared.queues;
    this.#slots = shared.slots;
    this.#slotSize = shared.slotSize;
    this.frameCapacity = shared.slotSize;
    for (let q = 0; q < shared.queues; q++) {
      const out = port === 0 ? q : shared.queues + q;
      const inn = port === 0 ? shared.queues + q : q;
      this.#tx.push(new Ring(shared, out));
      this.#rx.push(new Ring(shared, inn));
    }
    this.#rxHeld = new Int32Array(shared.queues);
    this.#txReserved = new Int32Array(shared.queues);
  }

  rxBurst(queue: number, out: FrameBatch, max: number): number {
    const r = this.#rx[queue];
    const c = r.control;
    const head = Atomics.load(c, HEAD);
    const tail = c[TAIL];
    let n = (head - tail) | 0;
    if (n > max) n = max;
    if (n > out.capacity) n = out.capacity;
    const size = this.#slotSize;
    for (let i = 0; i < n; i++) {
      const slot = (tail + i) & r.mask;
      const len = r.lengths[slot];
      out.buf[i] = r.bytes;
      out.off[i] = slot * size;
      out.len[i] = len;
      out.id[i] = slot;
      this.stats.rxBytes += len;
    }
    this.stats.rxFrames += n;
    this.#rxHeld[queue] = n;
    out.count = n;
    return n;
  }

  rxRelease(queue: number, batch: FrameBatch): void {
    const n = this.#rxHeld[queue];
    if (n === 0) return;
    const c = this.#rx[queue].control;
    Atomics.store(c, TAIL, (c[TAIL] + n) | 0);
    this.#rxHeld[queue] = 0;
    batch.count = 0;
  }

  txAlloc(queue: number, out: FrameBatch, max: number): number {
    const r = this.#tx[queue];
    const c = r.control;
    const head = c[HEAD];
    const tail = Atomics.load(c, TAIL);
    let n = this.#slots - ((head - tail) | 0);
    if (n > max) n = max;
    if (n > out.capacity) n = out.capacity;
    const size = this.#slotSize;
    for (let i = 0; i < n; i++) {
      const slot = (head + i) & r.mask;
      out.buf[i] = r.bytes;
      out.off[i] = slot * size;
      out.len[i] = size;
      out.id[i] = slot;
    }
    this.#txReserved[queue] = n;
    out.count = n;
    return n;
  }

  txBurst(queue: number, batch: FrameBatch, count: number): void {
    const reserved = this.#txReserved[queue];
    if (count > reserved) count = reserved;
    this.#txReserved[queue] = 0;
    batch.count = 0;
    if (count <= 0 || this.#closed) return;
    const r = this.#tx[queue];
    const c = r.control;
    const head = c[HEAD];
    for (let i = 0; i < count; i++) {
      const len = batch.len[i];
      r.lengths[(head + i) & r.mask] = len;
      this.stats.txBytes += len;
    }
    this.stats.txFrames += count;
    Atomics.store(c, HEAD, (head + count) | 0);
    // Ring the doorbell only when the consumer sleeps: notify is costly.
    if (Atomics.load(c, SLEEPING) !== 0) {
      Atomics.add(c, DOORBELL, 1);
      Atomics.notify(c, DOORBELL);
    }
  }

  async waitRx(queue: number, timeoutMs: number): Promise<void> {
    const c = this.#rx[queue].control;
    if (this.#closed || Atomics.load(c, HEAD) !== c[TAIL]) return;
    const bell = Atomics.load(c, DOORBELL);
    Atomics.store(c, SLEEPING, 1);
    // Re-check after announcing sleep: a frame published in between would otherwise be missed.
    if (Atomics.load(c, HEAD) === c[TAIL]) {
      const w = Atomics.waitAsync(c, DOORBELL, bell, timeoutMs > 0 ? timeoutMs : 0);
      if (w.async) await w.value;
    }
    Atomics.store(c, SLEEPING, 0);
  }

  wakeRx(queue: number): void {
    const c = this.#rx[queue].control;
    if (Atomics.load(c, SLEEPING) === 0) return;
    Atomics.add(c, DOORBELL, 1);
    Atomics.notify(c, DOORBELL);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (let q = 0; q < this.queues; q++) this.wakeRx(q);
  }
}
