/**
 * The TAP driver: a Linux TAP interface through koffi (no C). open
 * /dev/net/tun, TUNSETIFF with IFF_TAP | IFF_NO_PI, non-blocking reads and
 * writes of whole Ethernet frames into preallocated slots. The kernel hands a
 * TAP one frame per read(2), so a burst is a loop of reads until EAGAIN; an
 * idle stack waits in poll(2) on a koffi worker thread (`.async`), woken by
 * the frame or by an eventfd the application rings (wakeRx).
 */
import koffi from 'koffi';
import { EAGAIN } from '../stack/errno.ts';
import type { DriverStats, FrameBatch, PacketDriver } from './driver.ts';

const O_RDWR = 2;
const O_NONBLOCK = 0o4000;
const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFNAMSIZ = 16;
/** struct ifreq: the name, then a union (flags first), 40 bytes in all. */
const IFREQ_SIZE = 40;
const POLLIN = 0x001;
const EFD_NONBLOCK = 0o4000;

interface Libc {
  open(path: string, flags: number): number;
  close(fd: number): number;
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  read(fd: number, buf: Uint8Array, count: number): number;
  write(fd: number, buf: Uint8Array, count: number): number;
  eventfd(initval: number, flags: number): number;
  poll: ((fds: Uint8Array, nfds: number, timeout: number) => number) & {
    async(fds: Uint8Array, nfds: number, timeout: number, cb: (err: unknown, res: number) => void): void;
  };
}

/** Bindings are made once per thread (koffi functions do not cross threads). */
let libc: Libc | null = null;

function bind(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    open: lib.func('int open(const char *path, int flags)') as Libc['open'],
    close: lib.func('int close(int fd)') as Libc['close'],
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)') as Libc['ioctl'],
    read: lib.func('long read(int fd, void *buf, size_t count)') as Libc['read'],
    write: lib.func('long write(int fd, const void *buf, size_t count)') as Libc['write'],
    eventfd: lib.func('int eventfd(unsigned int initval, int flags)') as Libc['eventfd'],
    poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)') as Libc['poll'],
  };
  return libc;
}

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
  /** Rung by wakeRx to end a poll early. */
  readonly #wakeFd: number;
  readonly #slots: number;
  readonly #rxArena: Uint8Array;
  readonly #txArena: Uint8Array;
  /** One view per slot, made once: the pointer koffi passes to read(2) and write(2). */
  readonly #rxSlot: Uint8Array[];
  readonly #txSlot: Uint8Array[];
  readonly #pollFds = new Uint8Array(16);
  readonly #counter = new Uint8Array(8);
  #closed = false;

  /**
   * Attach to (or create) TAP interface `ifname`. Throws a clear error when
   * /dev/net/tun is missing or the caller lacks CAP_NET_ADMIN.
   */
  constructor(readonly ifname: string, readonly mac: number, options: TapOptions = {}) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) throw new RangeError(`tap: interface name ${JSON.stringify(ifname)} must be 1 to 15 letters, digits, '_', '.' or '-'`);
    const c = bind();
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
    this.#wakeFd = c.eventfd(0, EFD_NONBLOCK);
    const dv = new DataView(this.#pollFds.buffer);
    dv.setInt32(0, fd, true);
    dv.setInt16(4, POLLIN, true);
    dv.setInt32(8, this.#wakeFd, true);
    dv.setInt16(12, POLLIN, true);
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
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#libc.poll.async(this.#pollFds, 2, Math.max(0, Math.ceil(timeoutMs)), () => {
        // Drain the doorbell (non-blocking: EAGAIN when nobody rang).
        if (!this.#closed) this.#libc.read(this.#wakeFd, this.#counter, 8);
        resolve();
      });
    });
  }

  wakeRx(): void {
    if (this.#closed) return;
    this.#counter[0] = 1;
    this.#libc.write(this.#wakeFd, this.#counter, 8);
  }

  close(): void {
    if (this.#closed) return;
    this.wakeRx(); // a poll in flight returns before its descriptors go
    this.#closed = true;
    this.#libc.close(this.#fd);
    this.#libc.close(this.#wakeFd);
  }
}

function errnoText(e: number): string {
  const names: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 16: 'EBUSY', 19: 'ENODEV', 22: 'EINVAL', [EAGAIN]: 'EAGAIN' };
  return names[e] ?? `errno ${e}`;
}
