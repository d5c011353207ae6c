/**
 * The TAP driver: a Linux TAP interface through koffi (no C). open
 * /dev/net/tun, TUNSETIFF with IFF_TAP | IFF_NO_PI, non-blocking reads and
 * writes of whole Ethernet frames into preallocated slots. The kernel hands a
 * TAP one frame per read(2), so a burst is a loop of reads until EAGAIN; an
 * idle stack waits in poll(2) on a koffi worker thread (`.async`), woken by
 * the frame or by an eventfd the application rings (wakeRx).
 */
import koffi from 'koffi';
import type { DriverStats, FrameBatch, PacketDriver } from './driver.ts';
import { bindLibc, Doorbell, errnoText, O_NONBLOCK, O_RDWR, type Libc } from './libc.ts';

const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFNAMSIZ = 16;
/** struct ifreq: the name, then a union (flags first), 40 bytes in all. */
const IFREQ_SIZE = 40;

export interface TapOptions {
  /** Frames per burst and slots per direction (default 64). */
  slots?: number;
  /** Largest frame, bytes (default 2048: MTU 1500 with room). */
  frameCapacity?: number;
}

export class TapDriver implements PacketDriver {
  readonly name = 'tap';
  readonly queues = 1;
  readonly frameCapacity: number;
  readonly stats: DriverStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  readonly #libc: Libc;
  readonly #fd: number;
  /** The idle wait on #fd, rung by wakeRx to end it early. */
  readonly #doorbell: Doorbell;
  readonly #slots: number;
  readonly #rxArena: Uint8Array;
  readonly #txArena: Uint8Array;
  /** One view per slot, made once: the pointer koffi passes to read(2) and write(2). */
  readonly #rxSlot: Uint8Array[];
  readonly #txSlot: Uint8Array[];
  #closed = false;

  /**
   * Attach to (or create) TAP interface `ifname`. Throws a clear error when
   * /dev/net/tun is missing or the caller lacks CAP_NET_ADMIN.
   */
  constructor(readonly ifname: string, readonly mac: number, options: TapOptions = {}) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) throw new RangeError(`tap: interface name ${JSON.stringify(ifname)} must be 1 to 15 letters, digits, '_', '.' or '-'`);
    const c = bindLibc();
    this.#libc = c;
    this.#slots = options.slots ?? 64;
    this.frameCapacity = options.frameCapacity ?? 2048;
    const fd = c.open('/dev/net/tun', O_RDWR | O_NONBLOCK);
    if (fd < 0) throw new Error(`tap: cannot open /dev/net/tun: ${errnoText(koffi.errno())} (TAP needs the tun module and CAP_NET_ADMIN, e.g. root)`);
    const ifr = new Uint8Array(IFREQ_SIZE);
    ifr.set(new TextEncoder().encode(ifname));
    new DataView(ifr.buffer).setUint16(IFNAMSIZ, IFF_TAP | IFF_NO_PI, true);
    if (c.ioctl(fd, TUNSETIFF, ifr) < 0) {
      const e = koffi.errno();
      c.close(fd);
      throw new Error(`tap: TUNSETIFF ${ifname}: ${errnoText(e)}`);
    }
    this.#fd = fd;
    this.#doorbell = new Doorbell(fd);
    const cap = this.frameCapacity;
    this.#rxArena = new Uint8Array(this.#slots * cap);
    this.#txArena = new Uint8Array(this.#slots * cap);
    this.#rxSlot = Array.from({ length: this.#slots }, (_, i) => this.#rxArena.subarray(i * cap, (i + 1) * cap));
    this.#txSlot = Array.from({ length: this.#slots }, (_, i) => this.#txArena.subarray(i * cap, (i + 1) * cap));
  }

  rxBurst(_queue: number, out: FrameBatch, max: number): number {
    if (this.#closed) return (out.count = 0);
    const c = this.#libc;
    const cap = this.frameCapacity;
    let lim = max < out.capacity ? max : out.capacity;
    if (lim > this.#slots) lim = this.#slots;
    let n = 0;
    while (n < lim) {
      const r = c.read(this.#fd, this.#rxSlot[n], cap);
      if (r <= 0) break; // EAGAIN: nothing more now (an error shows up the same way; the next burst retries)
      out.buf[n] = this.#rxArena;
      out.off[n] = n * cap;
      out.len[n] = r;
      out.id[n] = n;
      this.stats.rxBytes += r;
      n++;
    }
    this.stats.rxFrames += n;
    return (out.count = n);
  }

  rxRelease(): void {
    // Slots are reused by the next burst.
  }

  txAlloc(_queue: number, out: FrameBatch, max: number): number {
    if (this.#closed) return (out.count = 0);
    let n = max < out.capacity ? max : out.capacity;
    if (n > this.#slots) n = this.#slots;
    const cap = this.frameCapacity;
    for (let i = 0; i < n; i++) {
      out.buf[i] = this.#txArena;
      out.off[i] = i * cap;
      out.len[i] = cap;
      out.id[i] = i;
    }
    return (out.count = n);
  }

  txBurst(_queue: number, batch: FrameBatch, count: number): void {
    const c = this.#libc;
    for (let i = 0; i < count; i++) {
      const len = batch.len[i];
      if (this.#closed || c.write(this.#fd, this.#txSlot[batch.id[i]], len) !== len) {
        this.stats.txDropped++;
        continue;
      }
      this.stats.txFrames++;
      this.stats.txBytes += len;
    }
    batch.count = 0;
  }

  waitRx(_queue: number, timeoutMs: number): Promise<void> {
    return this.#doorbell.wait(timeoutMs);
  }

  wakeRx(): void {
    this.#doorbell.ring();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#doorbell.close(); // a poll in flight returns before the descriptor goes
    this.#libc.close(this.#fd);
  }
}
