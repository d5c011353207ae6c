/**
 * An impairment wrapper around any driver: frames are lost or corrupted on
 * the way in and out, and on the way in also duplicated, delayed and
 * reordered, each with its own rate, from a seeded generator. Delayed and
 * reordered frames are copied into a preallocated holding ring (nothing is
 * allocated per frame); a full ring lets frames through undelayed.
 *
 * Through it the link may corrupt frames, and no checksum is offloaded: the
 * wrapped port would sign a frame corrupted on its way out as good, and its
 * verdict on a received frame no longer holds once a bit is flipped here.
 */
import { Prng } from './sim.ts';
import { copyBytes } from '../stack/copy.ts';
import type { LinkImpairments } from '../stack/impairments.ts';
import { FrameBatch, type PacketDriver, type PortCapabilities } from '../stack/port.ts';
import { DriverWrapper } from './wrapper.ts';

export interface ImpairmentCounters {
  lostIn: number;
  lostOut: number;
  corruptedIn: number;
  corruptedOut: number;
  duplicated: number;
  reordered: number;
}

const HOLD_SLOTS = 1024;

export class ImpairedDriver extends DriverWrapper {
  readonly counters: ImpairmentCounters = { lostIn: 0, lostOut: 0, corruptedIn: 0, corruptedOut: 0, duplicated: 0, reordered: 0 };
  readonly #rnd: Prng;
  readonly #imp: LinkImpairments;
  /** Held received frames: copies, with the time each may be delivered (a FIFO per slot order, -1 when free). */
  readonly #hold: Uint8Array;
  readonly #holdLen: Int32Array;
  readonly #holdAt: Float64Array;
  readonly #slotSize: number;
  /** The wrapped driver's burst, referenced by the frames handed on until rxRelease. */
  readonly #inner = new FrameBatch(256);
  /** The wrapped port's capabilities, less what impairments make untrue. */
  readonly #caps: PortCapabilities;
  #holding = 0;

  constructor(inner: PacketDriver, imp: Partial<LinkImpairments>, seed: number, readonly clock: () => number = () => performance.now()) {
    super(inner, 'impair');
    this.#imp = { loss: 0, corrupt: 0, duplicate: 0, reorder: 0, reorderMs: 5, delayMs: 0, ...imp };
    for (const k of ['loss', 'corrupt', 'duplicate', 'reorder'] as const) {
      const v = this.#imp[k];
      if (!(v >= 0 && v <= 1)) throw new RangeError(`impairment ${k} = ${v} must be a probability from 0 to 1`);
    }
    if (!(this.#imp.delayMs >= 0) || !(this.#imp.reorderMs >= 0)) throw new RangeError('impairment delays must be >= 0 ms');
    this.#rnd = new Prng(seed);
    inner.stopTxChecksumOffload();
    // Corrupted frames reach the stack with the port's checksum verdicts dropped (rxBurst hands on no checksumOk).
    this.#caps = { ...inner.capabilities, txChecksumOffload: false, rxChecksumOffload: false, tsoMaxBytes: 0, trustedLink: false };
    this.#slotSize = this.#caps.maxFrameBytes;
    this.#hold = new Uint8Array(HOLD_SLOTS * this.#slotSize);
    this.#holdLen = new Int32Array(HOLD_SLOTS);
    this.#holdAt = new Float64Array(HOLD_SLOTS).fill(-1);
  }

  override get capabilities(): PortCapabilities {
    return this.#caps;
  }

  override rxBurst(queue: number, out: FrameBatch, max: number): number {
    const imp = this.#imp;
    const rnd = this.#rnd;
    const lim = max < out.capacity ? max : out.capacity;
    let n = 0;
    // Frames whose time has come leave the holding ring first.
    const now = this.clock();
    for (let i = 0; i < HOLD_SLOTS && this.#holding > 0 && n < lim; i++) {
      if (this.#holdAt[i] >= 0 && this.#holdAt[i] <= now) {
        out.buf[n] = this.#hold;
        out.off[n] = i * this.#slotSize;
        out.len[n] = this.#holdLen[i];
        out.id[n] = -1 - i; // released in rxRelease
        n++;
      }
    }
    const room = lim - n;
    const inner = this.#inner;
    inner.count = 0;
    const got = room > 0 ? this.inner.rxBurst(queue, inner, room < inner.capacity ? room : inner.capacity) : 0;
    for (let i = 0; i < got; i++) {
      if (imp.loss > 0 && rnd.next() < imp.loss) {
        this.counters.lostIn++;
        continue;
      }
      const buf = inner.buf[i];
      const off = inner.off[i];
      const len = inner.len[i];
      if (imp.corrupt > 0 && rnd.next() < imp.corrupt) {
        const bit = rnd.nextU32() % (len * 8);
        buf[off + (bit >>> 3)] ^= 1 << (bit & 7);
        this.counters.corruptedIn++;
      }
      let delay = imp.delayMs;
      if (imp.reorder > 0 && rnd.next() < imp.reorder) {
        delay += imp.reorderMs;
        this.counters.reordered++;
      }
      const copies = imp.duplicate > 0 && rnd.next() < imp.duplicate ? 2 : 1;
      if (copies === 2) this.counters.duplicated++;
      for (let c = 0; c < copies; c++) {
        if (delay > 0 && this.#holdFrame(buf, off, len, now + delay)) continue;
        if (n < lim && c === 0) {
          out.buf[n] = buf;
          out.off[n] = off;
          out.len[n] = len;
          out.id[n] = i;
          n++;
        } else {
          this.#holdFrame(buf, off, len, now); // a duplicate beyond this burst waits for the next one
        }
      }
    }
    // The wrapped driver's frames stay referenced until rxRelease; with none handed on, the stack will not call it.
    if (n === 0 && got > 0) {
      this.inner.rxRelease(queue, inner);
      inner.count = 0;
    }
    return (out.count = n);
  }

  #holdFrame(buf: Uint8Array, off: number, len: number, at: number): boolean {
    if (this.#holding >= HOLD_SLOTS || len > this.#slotSize) return false;
    for (let i = 0; i < HOLD_SLOTS; i++) {
      if (this.#holdAt[i] < 0) {
        copyBytes(buf, off, this.#hold, i * this.#slotSize, len);
        this.#holdLen[i] = len;
        this.#holdAt[i] = at;
        this.#holding++;
        return true;
      }
    }
    return false;
  }

  override rxRelease(queue: number, batch: FrameBatch): void {
    for (let i = 0; i < batch.count; i++) {
      const id = batch.id[i];
      if (id < 0 && this.#holdAt[-1 - id] >= 0) {
        this.#holdAt[-1 - id] = -1;
        this.#holding--;
      }
    }
    if (this.#inner.count > 0) {
      this.inner.rxRelease(queue, this.#inner);
      this.#inner.count = 0;
    }
  }

  override txBurst(queue: number, batch: FrameBatch, count: number): void {
    const imp = this.#imp;
    const rnd = this.#rnd;
    // Lost frames leave the batch: move the kept ones down (slot ids travel with them).
    let kept = 0;
    for (let i = 0; i < count; i++) {
      if (imp.loss > 0 && rnd.next() < imp.loss) {
        this.counters.lostOut++;
        continue;
      }
      if (imp.corrupt > 0 && rnd.next() < imp.corrupt) {
        const bit = rnd.nextU32() % (batch.len[i] * 8);
        batch.buf[i][batch.off[i] + (bit >>> 3)] ^= 1 << (bit & 7);
        this.counters.corruptedOut++;
      }
      if (kept !== i) swap(batch, kept, i);
      kept++;
    }
    this.inner.txBurst(queue, batch, kept);
  }

  override waitRx(queue: number, timeoutMs: number): Promise<void> {
    if (this.#holding > 0) {
      let soonest = Infinity;
      for (let i = 0; i < HOLD_SLOTS; i++) if (this.#holdAt[i] >= 0 && this.#holdAt[i] < soonest) soonest = this.#holdAt[i];
      const wait = soonest - this.clock();
      if (wait < timeoutMs) timeoutMs = wait > 0 ? wait : 0;
    }
    return this.inner.waitRx(queue, timeoutMs);
  }
}

function swap(b: FrameBatch, i: number, j: number): void {
  const buf = b.buf[i];
  b.buf[i] = b.buf[j];
  b.buf[j] = buf;
  let t = b.off[i];
  b.off[i] = b.off[j];
  b.off[j] = t;
  t = b.len[i];
  b.len[i] = b.len[j];
  b.len[j] = t;
  t = b.id[i];
  b.id[i] = b.id[j];
  b.id[j] = t;
}
