/**
 * The netmap driver (io = netmap): netmap's user API through koffi, no C.
 * Open /dev/netmap, register the port with NIOCCTRL (one ring pair per core,
 * as mTCP's netmap_module.c opens `netmap:<if>-<core>`), mmap the shared
 * region once and view it as one Uint8Array. Received frames are handed to
 * the stack in place, in the slot buffers of the RX ring; frames to send are
 * built in place in free TX slot buffers. One NIOCTXSYNC per transmitted
 * burst; one NIOCRXSYNC per receive burst when the ring looks empty (or half
 * a ring was given back); an idle stack sleeps in poll(2) on koffi's worker
 * thread (libc.ts's Doorbell). No allocation per frame.
 *
 * API version: this driver speaks netmap API 14, the NIOCCTRL request
 * (struct nmreq_header + struct nmreq_register), not the legacy NIOCREGIF
 * with struct nmreq (API 11). API 14 is what netmap's own headers tell new
 * applications to use ("New applications should only use nmreq_xyz structs
 * with the NIOCCTRL ioctl()", net/netmap.h); the kernel serves NIOCREGIF only
 * through a translation layer (netmap_ioctl_legacy); nmreq_register carries
 * a 64-bit nr_memsize and separate nr_mode and nr_ringid fields where nmreq
 * packed the mode into nr_flags; and the API 14 netmap_if says how many host
 * rings precede the RX rings in ring_ofs[] (ni_host_tx_rings), which the API
 * 11 layout assumed to be one. The cost: a kernel module older than API 14
 * refuses the request with EINVAL, and the error says so.
 *
 * The ring logic (NetmapDriver) takes the mapped memory and a small sync
 * interface (NetmapSync), so its tests run against a region laid out as the
 * kernel lays it out, without the kernel module. Linux only (the ioctl
 * numbers are Linux's _IO/_IOWR encodings), little-endian hosts only.
 */
import koffi from 'koffi';
import { existsSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { withoutOffloads, type DriverStats, type FrameBatch, type PacketDriver, type PortCapabilities } from '../stack/port.ts';
import { EACCES, EBUSY, EFBIG, EINVAL, ENODEV, ENXIO, EOPNOTSUPP, errnoName, ErrnoError } from '../stack/errno.ts';
import type { DriverFactory } from './factory.ts';
import { bindLibc, Doorbell, MAP_FAILED, O_CLOEXEC, O_RDWR, type Libc, type Ptr } from './libc.ts';

/** The netmap control device. */
export const NETMAP_DEVICE = '/dev/netmap';
/** NETMAP_API in net/netmap.h: the request version this driver speaks. */
export const NETMAP_API = 14;

/** struct netmap_if (net/netmap.h, API 14): byte offsets. ring_ofs[] holds ssize_t offsets from the netmap_if. */
export const NETMAP_IF = {
  name: 0, version: 16, flags: 20, txRings: 24, rxRings: 28, bufsHead: 32, hostTxRings: 36, hostRxRings: 40, ringOfs: 56,
} as const;

/**
 * struct netmap_ring: byte offsets. buf_ofs is an int64 from the ring to its
 * buffer 0; `sem` is aligned to NM_CACHE_ALIGN (128) and 128 bytes long, so
 * slot[] starts at 256.
 */
export const NETMAP_RING = {
  bufOfs: 0, numSlots: 8, bufSize: 12, ringId: 16, dir: 18, head: 20, cur: 24, tail: 28, flags: 32, slots: 256,
} as const;

/** struct netmap_slot { uint32_t buf_idx; uint16_t len; uint16_t flags; uint64_t ptr; }: byte offsets and size. */
export const NETMAP_SLOT = { bufIdx: 0, len: 4, flags: 6, ptr: 8, size: 16 } as const;

/** Slot flag: the frame goes on in the next slot (net/netmap.h). */
export const NS_MOREFRAG = 0x0020;

/** struct nmreq_header: byte offsets; nr_name is NETMAP_REQ_IFNAMSIZ (64) bytes. */
const HDR = { version: 0, reqtype: 2, reserved: 4, name: 8, options: 72, body: 80, size: 88 } as const;
const NETMAP_REQ_IFNAMSIZ = 64;
/** struct nmreq_register: byte offsets. */
const REG = {
  offset: 0, memsize: 8, txSlots: 16, rxSlots: 20, txRings: 24, rxRings: 26, hostTxRings: 28, hostRxRings: 30,
  memId: 32, ringId: 34, mode: 36, extraBufs: 40, flags: 48, size: 56,
} as const;
const NETMAP_REQ_REGISTER = 1;
const NR_REG_ALL_NIC = 1;
const NR_REG_ONE_NIC = 4;
/** nr_flags: "request exclusive access to the selected rings" (net/netmap.h). */
const NR_EXCLUSIVE = 0x800;

/** Linux's _IO and _IOWR ('i' is netmap's ioctl group). */
const ioc = (dir: number, nr: number, size: number): number => dir * 2 ** 30 + size * 2 ** 16 + 0x69 * 2 ** 8 + nr;
/** NIOCCTRL = _IOWR('i', 151, struct nmreq_header). */
const NIOCCTRL = ioc(3, 151, HDR.size);
/** NIOCTXSYNC = _IO('i', 148), NIOCRXSYNC = _IO('i', 149): no argument. */
const NIOCTXSYNC = ioc(0, 148, 0);
const NIOCRXSYNC = ioc(0, 149, 0);

const PROT_READ_WRITE = 0x3;
const MAP_SHARED = 0x1;
/** FrameBatch offsets are int32: the region must fit below 2 GiB. */
const MAX_REGION = 2 ** 31 - 1;

/** netmap is missing here (no /dev/netmap, not Linux): a clear error instead of a failed open(2); errno ENODEV. */
export class NetmapUnavailableError extends ErrnoError {
  constructor(message: string) {
    super(ENODEV, message);
  }
}

/** The kernel refused the port (registration or mapping failed), or its memory makes no sense; `errno` says why. */
export class NetmapPortError extends ErrnoError {}

/** Why netmap cannot be used on this machine (its message), or null when /dev/netmap is there. */
export function netmapUnavailable(): string | null {
  if (process.platform !== 'linux') return `io = netmap: this driver supports Linux only (this is ${process.platform})`;
  if (endianness() !== 'LE') return 'io = netmap: this driver supports little-endian hosts only';
  if (!existsSync(NETMAP_DEVICE)) {
    return `io = netmap: ${NETMAP_DEVICE} does not exist; load the netmap kernel module (https://github.com/luigirizzo/netmap) or choose io = dpdk or tap`;
  }
  return null;
}

/**
 * What the ring logic needs from the kernel: the two sync ioctls and poll(2)
 * on the port's descriptor. The kernel reads head and cur and updates tail
 * only inside these calls ("the kernel only accesses them during a netmap
 * system call", net/netmap.h), so the ring in memory changes nowhere else.
 */
export interface NetmapSync {
  /** ioctl(NIOCTXSYNC): send the slots before head, and move tail past the ones done. */
  txSync(): void;
  /** ioctl(NIOCRXSYNC): take back the slots before head, and move tail past new frames. */
  rxSync(): void;
  /** poll(2) for POLLIN on the port: resolves when a frame is there, wake() is called, or after timeoutMs. */
  waitRx(timeoutMs: number): Promise<void>;
  /** End a waitRx in flight. */
  wake(): void;
  /** Unmap the region and close the descriptor; called once, with no waitRx in flight. */
  close(): void;
}

/** A descriptor's bound rings and the memory they live in. */
export interface NetmapMemory {
  /** The whole shared region, one view made once. */
  region: Uint8Array;
  /** Byte offset of this descriptor's struct netmap_if in region (nmreq_register.nr_offset). */
  nifOffset: number;
  /** The NIC ring pair this descriptor bound (NR_REG_ONE_NIC), or -1 for every NIC ring (NR_REG_ALL_NIC). */
  ringId: number;
}

/** One bound ring: where its fields and buffers are, read once from its header. */
class NetmapRing {
  /** Uint32Array indices of head, cur and tail in the region. */
  readonly headWord: number;
  readonly curWord: number;
  readonly tailWord: number;
  readonly numSlots: number;
  /** Byte offset of slot[0] in the region. */
  readonly slotsOffset: number;
  /** Byte offset of buffer 0 (NETMAP_BUF(ring, 0): the ring plus buf_ofs). */
  readonly bufBase: number;
  /** Bytes per buffer (nr_buf_size). */
  readonly bufSize: number;

  constructor(dv: DataView, ringOffset: number, what: string) {
    if (ringOffset % 8 !== 0 || ringOffset + NETMAP_RING.slots > dv.byteLength) {
      throw new NetmapPortError(EINVAL, `netmap: ${what} is at offset ${ringOffset}, outside the mapped region or misaligned`);
    }
    this.numSlots = dv.getUint32(ringOffset + NETMAP_RING.numSlots, true);
    this.bufSize = dv.getUint32(ringOffset + NETMAP_RING.bufSize, true);
    this.bufBase = ringOffset + Number(dv.getBigInt64(ringOffset + NETMAP_RING.bufOfs, true));
    this.slotsOffset = ringOffset + NETMAP_RING.slots;
    this.headWord = (ringOffset + NETMAP_RING.head) >>> 2;
    this.curWord = (ringOffset + NETMAP_RING.cur) >>> 2;
    this.tailWord = (ringOffset + NETMAP_RING.tail) >>> 2;
    if (this.numSlots < 2 || this.slotsOffset + this.numSlots * NETMAP_SLOT.size > dv.byteLength || this.bufSize < 64
      || this.bufBase < 0 || this.bufBase >= dv.byteLength) {
      throw new NetmapPortError(EINVAL, `netmap: ${what} has an impossible layout (${this.numSlots} slots, buffers of ${this.bufSize} bytes at ${this.bufBase})`);
    }
  }
}

export class NetmapDriver implements PacketDriver {
  readonly name = 'netmap';
  /**
   * One descriptor, one ring pair (or every NIC ring pair with ringId -1): the stack sees one queue. Frames up to
   * a netmap buffer; no offloads (netmap hands over raw frames, and its docs ask for the NIC's offloads off).
   */
  readonly capabilities: PortCapabilities;
  readonly stats: DriverStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  /** Frames dropped on receive because they spanned several slots (NS_MOREFRAG): larger than a buffer. */
  rxMultiSlotDropped = 0;
  readonly #sync: NetmapSync;
  /** The shared region: every frame handed out is an offset into it. */
  readonly #region: Uint8Array;
  /** The same region as 32- and 16-bit words, for ring and slot fields (host order, as the kernel writes them). */
  readonly #u32: Uint32Array;
  readonly #u16: Uint16Array;
  readonly #rx: NetmapRing[];
  readonly #tx: NetmapRing[];
  /** RX ring the next burst starts with (round robin when several are bound). */
  #rxNext = 0;
  /** Slots given back (head moved) since the last NIOCRXSYNC. */
  #rxReleasedSinceSync = 0;
  /** Inside a frame that spans slots: its remaining slots are skipped. */
  #rxSkippingFragments = false;
  /** TX ring of the current reservation, and how many slots from its head are reserved. */
  #txRing = 0;
  #txReserved = 0;
  /** waitRx calls in flight: close() waits for them before unmapping. */
  #waiting = 0;
  #closed = false;

  constructor(memory: NetmapMemory, readonly mac: number, sync: NetmapSync) {
    const { region, nifOffset, ringId } = memory;
    if (region.byteOffset % 8 !== 0 || region.byteLength > MAX_REGION) {
      throw new NetmapPortError(EINVAL, `netmap: the region (${region.byteLength} bytes) must be 8-byte aligned and under 2 GiB`);
    }
    this.#sync = sync;
    this.#region = region;
    this.#u32 = new Uint32Array(region.buffer, region.byteOffset, region.byteLength >>> 2);
    this.#u16 = new Uint16Array(region.buffer, region.byteOffset, region.byteLength >>> 1);
    const dv = new DataView(region.buffer, region.byteOffset, region.byteLength);
    if (nifOffset % 8 !== 0 || nifOffset + NETMAP_IF.ringOfs > region.byteLength) {
      throw new NetmapPortError(EINVAL, `netmap: netmap_if offset ${nifOffset} is outside the region`);
    }
    const txRings = dv.getUint32(nifOffset + NETMAP_IF.txRings, true);
    const rxRings = dv.getUint32(nifOffset + NETMAP_IF.rxRings, true);
    const hostTxRings = dv.getUint32(nifOffset + NETMAP_IF.hostTxRings, true);
    if (ringId >= txRings || ringId >= rxRings) {
      throw new NetmapPortError(EINVAL, `netmap: ring ${ringId} is not on this port (${txRings} TX, ${rxRings} RX rings)`);
    }
    // NETMAP_TXRING(nifp, i) is ring_ofs[i]; NETMAP_RXRING(nifp, i) is ring_ofs[i + ni_tx_rings + ni_host_tx_rings]
    // (netmap_user.h). Rings this descriptor did not bind have offset 0.
    const ring = (index: number, what: string): NetmapRing => {
      const ofs = Number(dv.getBigInt64(nifOffset + NETMAP_IF.ringOfs + 8 * index, true));
      if (ofs === 0) throw new NetmapPortError(EINVAL, `netmap: ${what} is not bound to this descriptor`);
      return new NetmapRing(dv, nifOffset + ofs, what);
    };
    const ids = (n: number): number[] => (ringId >= 0 ? [ringId] : Array.from({ length: n }, (_, i) => i));
    this.#tx = ids(txRings).map((i) => ring(i, `TX ring ${i}`));
    this.#rx = ids(rxRings).map((i) => ring(i + txRings + hostTxRings, `RX ring ${i}`));
    let cap = Infinity;
    for (const r of [...this.#tx, ...this.#rx]) cap = Math.min(cap, r.bufSize);
    this.capabilities = withoutOffloads(1, cap);
  }

  rxBurst(_queue: number, out: FrameBatch, max: number): number {
    if (this.#closed) return (out.count = 0);
    const u32 = this.#u32;
    const u16 = this.#u16;
    const rings = this.#rx;
    // Sync when every bound ring looks empty (cur reached tail: nothing more until the kernel moves tail), and
    // also once half a ring has been given back, so a ring that never drains still returns buffers to the NIC.
    let empty = true;
    for (let k = 0; k < rings.length; k++) if (u32[rings[k].curWord] !== u32[rings[k].tailWord]) empty = false;
    if (empty || this.#rxReleasedSinceSync * 2 >= rings[0].numSlots) {
      this.#sync.rxSync();
      this.#rxReleasedSinceSync = 0;
    }
    const lim = max < out.capacity ? max : out.capacity;
    let n = 0;
    for (let k = 0; k < rings.length && n < lim; k++) {
      const r = rings[(this.#rxNext + k) % rings.length];
      const tail = u32[r.tailWord];
      let cur = u32[r.curWord];
      while (cur !== tail && n < lim) {
        const slot = r.slotsOffset + cur * NETMAP_SLOT.size;
        const flags = u16[(slot + NETMAP_SLOT.flags) >>> 1];
        if ((flags & NS_MOREFRAG) !== 0 || this.#rxSkippingFragments) {
          // A frame larger than one buffer: the stack takes whole frames in one slot, so drop it, counted once.
          if (!this.#rxSkippingFragments) this.rxMultiSlotDropped++;
          this.#rxSkippingFragments = (flags & NS_MOREFRAG) !== 0;
        } else {
          const len = u16[(slot + NETMAP_SLOT.len) >>> 1];
          out.buf[n] = this.#region;
          out.off[n] = r.bufBase + u32[(slot + NETMAP_SLOT.bufIdx) >>> 2] * r.bufSize;
          out.len[n] = len;
          out.id[n] = cur;
          this.stats.rxBytes += len;
          n++;
        }
        cur = cur + 1 === r.numSlots ? 0 : cur + 1;
      }
      // "'cur' can be moved further ahead if we want to wait for new packets without returning the previous ones"
      // (net/netmap.h): the frames up to cur are the stack's until rxRelease moves head there.
      u32[r.curWord] = cur;
    }
    if (rings.length > 1) this.#rxNext = (this.#rxNext + 1) % rings.length;
    this.stats.rxFrames += n;
    return (out.count = n);
  }

  rxRelease(_queue: number, _batch: FrameBatch): void {
    const u32 = this.#u32;
    const rings = this.#rx;
    for (let k = 0; k < rings.length; k++) {
      const r = rings[k];
      const head = u32[r.headWord];
      const cur = u32[r.curWord];
      // "head and cur must be incremented as slots are consumed and can be returned to the kernel" (net/netmap.h).
      this.#rxReleasedSinceSync += cur >= head ? cur - head : cur + r.numSlots - head;
      u32[r.headWord] = cur;
    }
  }

  txAlloc(_queue: number, out: FrameBatch, max: number): number {
    this.#txReserved = 0; // a new reservation replaces one that was never sent
    if (this.#closed) return (out.count = 0);
    let pick = this.#freeTxRing();
    if (pick < 0) {
      // Every ring looks full: TXSYNC reclaims the slots the kernel has sent (tail moves on), once.
      this.#sync.txSync();
      pick = this.#freeTxRing();
      if (pick < 0) return (out.count = 0);
    }
    const r = this.#tx[pick];
    const u32 = this.#u32;
    const head = u32[r.headWord];
    const tail = u32[r.tailWord];
    // "[head .. tail-1] can be used for new packets to send" (net/netmap.h); the kernel keeps one slot empty.
    const space = tail >= head ? tail - head : tail + r.numSlots - head;
    let n = max < out.capacity ? max : out.capacity;
    if (n > space) n = space;
    const cap = this.capabilities.maxFrameBytes;
    let i = head;
    for (let k = 0; k < n; k++) {
      const slot = r.slotsOffset + i * NETMAP_SLOT.size;
      out.buf[k] = this.#region;
      out.off[k] = r.bufBase + u32[(slot + NETMAP_SLOT.bufIdx) >>> 2] * r.bufSize;
      out.len[k] = cap;
      out.id[k] = i;
      i = i + 1 === r.numSlots ? 0 : i + 1;
    }
    this.#txRing = pick;
    this.#txReserved = n;
    return (out.count = n);
  }

  /** A bound TX ring with a free slot, starting from the one used last; -1 when all look full. */
  #freeTxRing(): number {
    const rings = this.#tx;
    for (let k = 0; k < rings.length; k++) {
      const idx = (this.#txRing + k) % rings.length;
      if (this.#u32[rings[idx].headWord] !== this.#u32[rings[idx].tailWord]) return idx;
    }
    return -1;
  }

  txBurst(_queue: number, batch: FrameBatch, count: number): void {
    const reserved = this.#txReserved;
    this.#txReserved = 0;
    const sent = this.#closed ? 0 : count < reserved ? count : reserved;
    this.stats.txDropped += count - sent;
    if (sent <= 0) return;
    const r = this.#tx[this.#txRing];
    const u32 = this.#u32;
    const u16 = this.#u16;
    let head = u32[r.headWord];
    for (let k = 0; k < sent; k++) {
      const slot = r.slotsOffset + head * NETMAP_SLOT.size;
      const len = batch.len[k];
      u16[(slot + NETMAP_SLOT.len) >>> 1] = len;
      u16[(slot + NETMAP_SLOT.flags) >>> 1] = 0; // one slot per frame: no NS_MOREFRAG
      this.stats.txBytes += len;
      head = head + 1 === r.numSlots ? 0 : head + 1;
    }
    // "head and cur must be incremented as slots are filled with new packets to be sent" (net/netmap.h);
    // the slots reserved but not filled stay free for the next txAlloc.
    u32[r.curWord] = head;
    u32[r.headWord] = head;
    this.stats.txFrames += sent;
    this.#sync.txSync();
  }

  waitRx(_queue: number, timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#waiting++;
    return this.#sync.waitRx(timeoutMs).then(() => {
      if (--this.#waiting === 0 && this.#closed) this.#release();
    });
  }

  wakeRx(_queue: number): void {
    if (!this.#closed) this.#sync.wake();
  }

  stopTxChecksumOffload(): void {} // nothing is offloaded

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#waiting > 0) this.#sync.wake(); // the poll returns first; #release runs then
    else this.#release();
  }

  /** Push out what the last txBurst may have left, then unmap and close (once: closed, with no wait in flight). */
  #release(): void {
    this.#sync.txSync();
    this.#sync.close();
  }
}

/** The kernel side of a registered descriptor: ioctls, poll with a doorbell, and the mapping. */
class KernelSync implements NetmapSync {
  readonly #libc: Libc;
  readonly #fd: number;
  readonly #doorbell: Doorbell;
  readonly #mem: Ptr;
  readonly #length: number;

  constructor(libc: Libc, fd: number, mem: Ptr, length: number) {
    this.#libc = libc;
    this.#fd = fd;
    this.#mem = mem;
    this.#length = length;
    this.#doorbell = new Doorbell(fd);
  }

  // A failed sync (EIO from a ring being reset) needs nothing: the next sync or poll retries.
  txSync(): void {
    this.#libc.ioctl(this.#fd, NIOCTXSYNC, null);
  }

  rxSync(): void {
    this.#libc.ioctl(this.#fd, NIOCRXSYNC, null);
  }

  /** netmap's poll does an RXSYNC itself and returns when tail has moved past cur (and, by default, a TXSYNC). */
  waitRx(timeoutMs: number): Promise<void> {
    return this.#doorbell.wait(timeoutMs);
  }

  wake(): void {
    this.#doorbell.ring();
  }

  close(): void {
    this.#doorbell.close();
    this.#libc.munmap(this.#mem, this.#length);
    this.#libc.close(this.#fd); // the last close unregisters the port (netmap's dtor)
  }
}

export interface NetmapOpenOptions {
  /**
   * The netmap port as the kernel names it: an interface (eth0), a VALE port
   * (vale0:a) or a pipe end (eth0{1, eth0}1). A leading `netmap:` is dropped.
   */
  port: string;
  /** The NIC ring pair to bind (NR_REG_ONE_NIC), or -1 for every NIC ring pair (NR_REG_ALL_NIC). */
  ringId: number;
  /** This port's MAC address (48-bit integer). */
  mac: number;
}

/** `eth0` from `netmap:eth0`; the name the kernel's nr_name takes. */
export function netmapPortName(port: string): string {
  return port.startsWith('netmap:') ? port.slice('netmap:'.length) : port;
}

/** An interface's MAC from /sys/class/net/<name>/address, or null (a VALE port or pipe has none). */
export function interfaceMac(port: string): number | null {
  const name = netmapPortName(port);
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) return null;
  try {
    const text = readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim();
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(text)) return null;
    return parseInt(text.replaceAll(':', ''), 16);
  } catch {
    return null;
  }
}

/** What an errno from NIOCCTRL means for a registration. */
function registerHint(errno: number, name: string, ringId: number): string {
  switch (errno) {
    case ENXIO: return `no netmap port named ${name} (an interface, a VALE port valeX:Y, or a pipe end name{N / name}N)`;
    case EBUSY: return `the rings of ${name} are in use by another netmap client, or ${name} is attached to a VALE switch`;
    case EINVAL: return `the kernel refused the request: ring ${ringId} may be beyond the port's rings (num_cores asks one ring pair per core), `
      + `or the netmap module is older than API ${NETMAP_API}`;
    case EOPNOTSUPP: return `${name} has no netmap support in this kernel (load netmap with its generic adapter, admode=0)`;
    default: return `registering ${name} failed`;
  }
}

/**
 * Register a netmap port and map its memory: the driver for one core. Throws
 * NetmapUnavailableError (ENODEV) where netmap is missing, NetmapPortError
 * (with the kernel's errno; ENODEV for a port that does not exist) when the
 * kernel refuses the port.
 */
export function openNetmap(o: NetmapOpenOptions): NetmapDriver {
  const missing = netmapUnavailable();
  if (missing) throw new NetmapUnavailableError(missing);
  const name = netmapPortName(o.port);
  if (name.length === 0 || name.length >= NETMAP_REQ_IFNAMSIZ || /[\s*^/@]/.test(name)) {
    throw new RangeError(`io = netmap: port ${JSON.stringify(o.port)} must be 1 to 63 characters without spaces or libnetmap suffixes (* ^ / @); `
      + 'the rings follow num_cores');
  }
  const c = bindLibc();
  const fd = c.open(NETMAP_DEVICE, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const e = koffi.errno();
    if (e === ENODEV || e === ENXIO) throw new NetmapUnavailableError(`io = netmap: ${NETMAP_DEVICE} is there but no driver answers (${errnoName(e)}); load the netmap kernel module`);
    throw new NetmapPortError(e, `io = netmap: cannot open ${NETMAP_DEVICE}: ${errnoName(e)}${e === EACCES ? ' (it needs root, or read-write access to the device)' : ''}`);
  }
  let mem: Ptr = MAP_FAILED;
  let length = 0;
  let nifOffset = 0;
  try {
    ({ length, nifOffset } = register(c, fd, name, o.ringId));
    mem = c.mmap(null, length, PROT_READ_WRITE, MAP_SHARED, fd, 0);
    if (mem === MAP_FAILED) {
      const e = koffi.errno();
      throw new NetmapPortError(e, `io = netmap: mmap of ${name}'s ${length}-byte region failed (${errnoName(e)})`);
    }
  } catch (err) {
    c.close(fd);
    throw err;
  }
  // From here the sync owns the descriptor and the mapping: its close() releases both.
  const sync = new KernelSync(c, fd, mem, length);
  try {
    return new NetmapDriver({ region: new Uint8Array(koffi.view(mem, length)), nifOffset, ringId: o.ringId }, o.mac, sync);
  } catch (err) {
    sync.close();
    throw err;
  }
}

/**
 * io = netmap: each core registers its own ring pair of the port, as mTCP's netmap_module.c opens
 * netmap:<if> with one core and netmap:<if>-<core> with several; a worker opens its core's ring itself,
 * so there is nothing to share. A NIC in netmap mode still filters on its own MAC, so the stack takes it
 * unless <port>.mac is given.
 */
export const netmapFactory: DriverFactory<undefined> = {
  forRuntime: (settings) => ({
    clock: null,
    driver: (core) => {
      const port = settings.ports[0];
      const name = port.device || port.name;
      return openNetmap({ port: name, ringId: settings.numCores > 1 ? core : -1, mac: port.macGiven ? port.mac : interfaceMac(name) ?? port.mac });
    },
    share: () => undefined,
    destroy: () => {},
  }),
};

/**
 * NIOCCTRL with NETMAP_REQ_REGISTER: bind `ringId` (or every NIC ring) of port
 * `name` to `fd`. Returns the shared region's size and the netmap_if's offset in it.
 */
function register(c: Libc, fd: number, name: string, ringId: number): { length: number; nifOffset: number } {
  // struct nmreq_header followed by its struct nmreq_register, in native memory: nr_body is the body's address.
  const req = koffi.alloc('uint8_t', HDR.size + REG.size) as Ptr;
  try {
    const bytes = new Uint8Array(koffi.view(req, HDR.size + REG.size));
    bytes.fill(0); // nr_reserved, nr_options and every ring and slot count zero: the port's own configuration
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    dv.setUint16(HDR.version, NETMAP_API, true);
    dv.setUint16(HDR.reqtype, NETMAP_REQ_REGISTER, true);
    bytes.set(new TextEncoder().encode(name), HDR.name);
    dv.setBigUint64(HDR.body, koffi.address(req) + BigInt(HDR.size), true);
    const body = HDR.size;
    dv.setUint32(body + REG.mode, ringId >= 0 ? NR_REG_ONE_NIC : NR_REG_ALL_NIC, true);
    dv.setUint16(body + REG.ringId, ringId >= 0 ? ringId : 0, true);
    dv.setBigUint64(body + REG.flags, BigInt(NR_EXCLUSIVE), true);
    if (c.ioctl(fd, NIOCCTRL, req) < 0) {
      const e = koffi.errno();
      // No port of that name (ENXIO) is a missing device: ENODEV, as for a missing /dev/netmap.
      throw new NetmapPortError(e === ENXIO ? ENODEV : e, `io = netmap: ${registerHint(e, name, ringId)} (${errnoName(e)})`);
    }
    const memsize = dv.getBigUint64(body + REG.memsize, true);
    if (memsize > BigInt(MAX_REGION)) {
      throw new NetmapPortError(EFBIG, `io = netmap: the netmap memory region is ${memsize} bytes; this driver maps at most 2 GiB `
        + '(lower the netmap module\'s buf_num)');
    }
    return { length: Number(memsize), nifOffset: Number(dv.getBigUint64(body + REG.offset, true)) };
  } finally {
    koffi.free(req);
  }
}
