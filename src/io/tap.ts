/**
 * The TAP driver: a Linux TAP interface through koffi (no C). open
 * /dev/net/tun, TUNSETIFF with IFF_TAP | IFF_NO_PI, non-blocking reads and
 * writes of whole Ethernet frames into preallocated slots. The kernel hands a
 * TAP one frame per read(2) and takes one per write(2) (readv/writev too: a
 * TAP descriptor has no batched call), so a burst is a loop of reads until
 * EAGAIN; an idle stack waits in poll(2) on a koffi worker thread (`.async`),
 * woken by the frame or by an eventfd the application rings (wakeRx).
 *
 * Offloads (one core): with IFF_VNET_HDR every frame is preceded by a
 * virtio-net header (struct virtio_net_hdr, 10 bytes, include/uapi/linux/
 * virtio_net.h), and TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4) tells the kernel
 * we take partial checksums and large segments. Then a system call moves up
 * to 64 KiB instead of 1500 bytes, each way, as between a virtio-net guest and
 * its host:
 * - sent: the stack leaves TCP checksums to us (txChecksumOffload) and hands
 *   segments of many MSS (tsoMaxBytes, FrameBatch.segmentBytes); we seed the
 *   checksum field with the pseudo-header sum and mark the frame
 *   VIRTIO_NET_HDR_F_NEEDS_CSUM (csum_start, csum_offset), and a large one
 *   VIRTIO_NET_HDR_GSO_TCPV4 with gso_size the MSS: the kernel delivers it
 *   whole to its own TCP, or cuts and checksums it where it must forward it.
 * - received: the kernel hands us its TSO and GRO segments whole (up to 64 KiB)
 *   and marks frames whose checksum needs no check: NEEDS_CSUM (made by the
 *   kernel itself, the field holds only the pseudo-header sum) or DATA_VALID
 *   (verified); those get checksumOk (rxChecksumOffload), the rest the stack
 *   verifies.
 * A wrapper that must see final bytes (impair, capture) stops the offloads
 * (stopTxChecksumOffload): TUNSETOFFLOAD 0 makes the kernel checksum and cut
 * what it sends us, and we send final MTU-sized frames, still behind a header.
 *
 * Several cores share one TAP (openTap with queues > 1; the descriptor is
 * the process's, so every worker thread may use it). A TAP has no RSS, so the
 * driver does it: whichever core reads a frame puts it on an shm wire whose
 * port 0 has a queue per reading core and port 1 a queue per receiving core,
 * and that wire's txBurst steers it to the core the Toeplitz hash picks (the
 * reader's own frames stay in place); each core then receives its frames from
 * port 1. A core that sleeps waits for the TAP in poll(2) and for frames other
 * cores steered to it on the wire's doorbell. Cores write their frames to the
 * TAP directly.
 */
import koffi from 'koffi';
import { FrameBatch, withoutOffloads, type DriverStats, type PacketDriver, type PortCapabilities } from '../stack/port.ts';
import { ENODEV, ENOENT, errnoName, ErrnoError } from '../stack/errno.ts';
import type { DriverFactory, DriverSettings, RuntimePort } from './factory.ts';
import { readFileSync } from 'node:fs';
import { AF_INET, bindLibc, CLONE_NEWNET, EFD_NONBLOCK, O_NONBLOCK, O_RDONLY, O_RDWR, POLLIN, SOCK_DGRAM, type Libc } from './libc.ts';
import { attachShm, ShmWire, type ShmDriver, type ShmWireShared } from './shm.ts';

const TUNSETIFF = 0x400454ca;
const TUNGETDEVNETNS = 0x54e3;
const SIOCGIFTXQLEN = 0x8942;
const SIOCSIFTXQLEN = 0x8943;
/**
 * Frames the kernel may hold for us on the TAP (its tx_queue_len; a new TAP has 500). A burst
 * larger than one read burst waits there while the stack takes it 64 frames at a time: 2,000 SYNs
 * sent at once must all arrive, not be dropped by a full queue (the kernel counts those drops as
 * the interface's TX drops). Holding a frame costs the kernel its sk_buff only while it waits.
 */
export const TAP_QUEUE_FRAMES = 8192;
/** _IOW('T', 208, unsigned int): the offloads (TUN_F_*) the reader of the TAP accepts; the argument is the value. */
const TUNSETOFFLOAD = 0x400454d0;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
/** Every frame read or written is preceded by a struct virtio_net_hdr. */
const IFF_VNET_HDR = 0x4000;
const IFNAMSIZ = 16;
/** struct ifreq: the name, then a union (flags first), 40 bytes in all. */
const IFREQ_SIZE = 40;
/** We accept frames whose TCP checksum is partial (VIRTIO_NET_HDR_F_NEEDS_CSUM). */
const TUN_F_CSUM = 0x01;
/** We accept IPv4 TCP segments larger than the MTU (VIRTIO_NET_HDR_GSO_TCPV4); needs TUN_F_CSUM. */
const TUN_F_TSO4 = 0x02;

/** struct virtio_net_hdr (little-endian on the hosts this runs on), ahead of every frame under IFF_VNET_HDR. */
export const VNET_HDR_BYTES = 10;
const VNET_FLAGS = 0;
const VNET_GSO_TYPE = 1;
const VNET_HDR_LEN = 2;
const VNET_GSO_SIZE = 4;
const VNET_CSUM_START = 6;
const VNET_CSUM_OFFSET = 8;
/** The checksum from csum_start to the end is to be computed and stored at csum_start + csum_offset. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** The kernel verified the frame's checksums. */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;

/** The largest frame a TAP with offloads moves: an Ethernet header and the longest IPv4 datagram. RFC 791 §3.1 */
const TSO_FRAME_BYTES = 14 + 0xffff;
/** Offset of the TCP checksum in its header. RFC 9293 §3.1 */
const TCP_CHECKSUM_AT = 16;

/** What every core's driver of one TAP needs (structured-cloneable: it crosses to worker threads). */
export interface TapPortShared {
  /** The interface's name. */
  ifname: string;
  /** The TAP's file descriptor (process-wide: any thread of the process may use it). */
  fd: number;
  /** Cores (receive queues) sharing it. */
  queues: number;
  /** Largest frame, bytes (the MTU's; with TSO, segments sent and received may be larger, up to TSO_FRAME_BYTES). */
  maxFrameBytes: number;
  /** Frames carry a virtio-net header (IFF_VNET_HDR): one queue; several share plain frames over the fabric. */
  vnetHdr: boolean;
  /** The TUN_F_* offloads the kernel was told at open (0 when it refused them or with several queues). */
  offloads: number;
  /** With several queues: the wire that hands each frame to its core (port 0: readers, port 1: receivers). */
  fabric: ShmWireShared | null;
}

/** A driver that moved a frame this recently (ms) is busy: it waits for the next in a short poll(2) of its own. */
const BUSY_MS = 5;
/** The longest such wait, ms (it holds the thread: timers and the application wait as long). */
const BUSY_WAIT_MS = 1;

/** Frames a fabric ring holds: a few bursts of 64 (frames move on at the reader's next turn). */
const FABRIC_SLOTS = 256;

/**
 * Attach to (or create) TAP interface `ifname` for `queues` cores. Throws a
 * clear error when /dev/net/tun is missing or the caller lacks CAP_NET_ADMIN.
 * With one queue and `offloads` (the default) frames carry a virtio-net header
 * and the checksum and segmentation offloads are on, where the kernel takes
 * them; with several, each core's frames go over the fabric plain.
 */
export function openTap(ifname: string, queues = 1, maxFrameBytes = 2048, offloads = true): TapPortShared {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) throw new RangeError(`tap: interface name ${JSON.stringify(ifname)} must be 1 to 15 letters, digits, '_', '.' or '-'`);
  const c = bindLibc();
  const fd = c.open('/dev/net/tun', O_RDWR | O_NONBLOCK);
  if (fd < 0) {
    // No device node or no tun module is a missing device; a refusal (EACCES, EPERM) keeps its errno.
    const e = koffi.errno();
    throw new ErrnoError(e === ENOENT || e === ENODEV ? ENODEV : e,
      `tap: cannot open /dev/net/tun: ${errnoName(e)} (TAP needs the tun module and CAP_NET_ADMIN, e.g. root)`);
  }
  const vnetHdr = offloads && queues === 1;
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(new TextEncoder().encode(ifname));
  new DataView(ifr.buffer).setUint16(IFNAMSIZ, IFF_TAP | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0), true);
  if (c.ioctl(fd, TUNSETIFF, ifr) < 0) {
    const e = koffi.errno();
    c.close(fd);
    throw new ErrnoError(e, `tap: TUNSETIFF ${ifname}: ${errnoName(e)}`);
  }
  deepenQueue(c, ifr);
  // A kernel without these offloads refuses them: frames then stay final, each way.
  const tunOffloads = vnetHdr && c.ioctl(fd, TUNSETOFFLOAD, BigInt(TUN_F_CSUM | TUN_F_TSO4)) === 0 ? TUN_F_CSUM | TUN_F_TSO4 : 0;
  const fabric = queues > 1 ? ShmWire.create({ queues, slots: FABRIC_SLOTS, slotSize: (maxFrameBytes + 3) & ~3, checksumOffload: false }).share() : null;
  return { ifname, fd, queues, maxFrameBytes, vnetHdr, offloads: tunOffloads, fabric };
}

/**
 * Raise the TAP's queue to TAP_QUEUE_FRAMES (a deeper queue set by the user stays). `ifr` holds the
 * interface's name. Without the right to (no CAP_NET_ADMIN in this namespace) the queue stays as it is.
 */
function deepenQueue(c: Libc, ifr: Uint8Array): void {
  const sock = c.socket(AF_INET, SOCK_DGRAM, 0);
  if (sock < 0) return;
  const qlen = new DataView(ifr.buffer, IFNAMSIZ, 4);
  if (c.ioctl(sock, SIOCGIFTXQLEN, ifr) === 0 && qlen.getInt32(0, true) < TAP_QUEUE_FRAMES) {
    qlen.setInt32(0, TAP_QUEUE_FRAMES, true);
    c.ioctl(sock, SIOCSIFTXQLEN, ifr);
  }
  c.close(sock);
}

/**
 * Frames the kernel dropped on their way to us on this TAP, its queue full: the interface's TX
 * drops, read from /proc/thread-self/net/dev of the namespace the interface is in now (this thread
 * visits that namespace for the read, setns(2), and comes back). NaN when it cannot be read.
 */
export function tapWireDrops(port: TapPortShared): number {
  const c = bindLibc();
  const there = c.ioctl(port.fd, TUNGETDEVNETNS, null);
  if (there < 0) return NaN;
  const home = c.open('/proc/thread-self/ns/net', O_RDONLY);
  let table = '';
  try {
    if (home < 0 || c.setns(there, CLONE_NEWNET) !== 0) return NaN;
    try {
      table = readFileSync('/proc/thread-self/net/dev', 'latin1');
    } finally {
      // A thread left in another namespace would send its sockets there: nothing sensible can go on.
      if (c.setns(home, CLONE_NEWNET) !== 0) process.abort();
    }
  } finally {
    c.close(there);
    if (home >= 0) c.close(home);
  }
  // "  name: rx bytes packets errs drop fifo frame compressed multicast tx bytes packets errs drop ..."
  const line = table.split('\n').find((l) => l.trimStart().startsWith(`${port.ifname}:`));
  return line ? Number(line.slice(line.indexOf(':') + 1).trim().split(/\s+/)[11]) : NaN;
}

/** Close the TAP (every core's driver must be closed first); the interface goes unless it is persistent. */
export function closeTap(port: TapPortShared): void {
  bindLibc().close(port.fd);
}

export interface TapOptions {
  /** Frames per burst and slots per direction (default 64). */
  slots?: number;
}

/** One core's driver of a TAP opened by openTap (in this thread or another of the process). */
export class TapDriver implements PacketDriver {
  readonly name = 'tap';
  /**
   * A queue per core of the TAP. With the offloads on (one core, see the top of this file): TX checksums,
   * TSO up to 64 KiB and RX checksum verdicts; none once a wrapper stopped them, nor with several cores.
   */
  #caps: PortCapabilities;
  readonly stats: DriverStats;
  readonly #libc: Libc;
  readonly #fd: number;
  /** Rung by wakeRx to end a poll early. */
  readonly #wakeFd: number;
  readonly #slots: number;
  /** Bytes of virtio-net header ahead of each frame in a slot (0 without IFF_VNET_HDR). */
  readonly #hdr: number;
  /** Bytes a slot holds, header included. */
  readonly #slotBytes: number;
  readonly #rxArena: Uint8Array;
  readonly #txArena: Uint8Array;
  /** One view per slot, made once: the pointer koffi passes to read(2) and write(2). */
  readonly #rxSlot: Uint8Array[];
  readonly #txSlot: Uint8Array[];
  readonly #pollFds = new Uint8Array(16);
  readonly #counter = new Uint8Array(8);
  /** Several queues: the readers' end of the fabric (frames read here are steered from it). */
  readonly #steer: ShmDriver | null;
  /** Several queues: the receivers' end of the fabric (this core's frames arrive there). */
  readonly #deliver: ShmDriver | null;
  /** Several queues: per queue, a view per slot of its steering ring, for read(2). */
  readonly #steerSlots: Uint8Array[][];
  /** Several queues: the burst read from the TAP, on its way to the fabric. */
  readonly #read: FrameBatch;
  /** A poll(2) is in flight on koffi's thread. */
  #polling = false;
  /** performance.now() when a burst last received or sent a frame. */
  #lastBusy = -Infinity;
  #closed = false;

  constructor(
    readonly port: TapPortShared,
    readonly mac: number,
    options: TapOptions = {},
    /** Called once when this driver closes (its owner may then close the TAP). */
    readonly onClose: () => void = () => {},
  ) {
    const c = bindLibc();
    this.#libc = c;
    this.#fd = port.fd;
    this.stats = {
      rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0,
      get rxDropped(): number {
        return tapWireDrops(port);
      },
    };
    this.#slots = options.slots ?? 64;
    const offloaded = (port.offloads & TUN_F_TSO4) !== 0;
    this.#caps = offloaded
      ? { maxFrameBytes: port.maxFrameBytes, queues: 1, txChecksumOffload: true, rxChecksumOffload: true, tsoMaxBytes: TSO_FRAME_BYTES, trustedLink: false }
      : withoutOffloads(port.queues, port.maxFrameBytes);
    this.#hdr = port.vnetHdr ? VNET_HDR_BYTES : 0;
    // Received frames may be the kernel's large segments whenever it was told we take them.
    const frame = port.offloads !== 0 ? TSO_FRAME_BYTES : port.maxFrameBytes;
    this.#slotBytes = (this.#hdr + frame + 7) & ~7;
    this.#wakeFd = c.eventfd(0, EFD_NONBLOCK);
    const dv = new DataView(this.#pollFds.buffer);
    dv.setInt32(0, this.#fd, true);
    dv.setInt16(4, POLLIN, true);
    dv.setInt32(8, this.#wakeFd, true);
    dv.setInt16(12, POLLIN, true);
    const cap = this.#slotBytes;
    this.#rxArena = new Uint8Array(this.#slots * cap);
    this.#txArena = new Uint8Array(this.#slots * cap);
    this.#rxSlot = Array.from({ length: this.#slots }, (_, i) => this.#rxArena.subarray(i * cap, (i + 1) * cap));
    this.#txSlot = Array.from({ length: this.#slots }, (_, i) => this.#txArena.subarray(i * cap, (i + 1) * cap));
    this.#steer = port.fabric ? attachShm(port.fabric, 0, mac) : null;
    this.#deliver = port.fabric ? attachShm(port.fabric, 1, mac) : null;
    this.#steerSlots = [];
    for (let q = 0; this.#steer && q < port.queues; q++) this.#steerSlots.push(this.#steer.homeSlotViews(q));
    this.#read = new FrameBatch(this.#slots);
  }

  get capabilities(): PortCapabilities {
    return this.#caps;
  }

  rxBurst(queue: number, out: FrameBatch, max: number): number {
    if (this.#closed) return (out.count = 0);
    let lim = max < out.capacity ? max : out.capacity;
    if (lim > this.#slots) lim = this.#slots;
    if (this.#deliver) return this.#rxSteered(queue, out, lim);
    const c = this.#libc;
    const cap = this.#slotBytes;
    const hdr = this.#hdr;
    const arena = this.#rxArena;
    let n = 0;
    while (n < lim) {
      const r = c.read(this.#fd, this.#rxSlot[n], cap);
      if (r <= hdr) break; // EAGAIN: nothing more now (an error shows up the same way; the next burst retries)
      const at = n * cap;
      out.buf[n] = arena;
      out.off[n] = at + hdr;
      out.len[n] = r - hdr;
      out.id[n] = n;
      // Made by the kernel (partial checksum) or verified by it: the stack need not check it again.
      out.checksumOk[n] = hdr > 0 && (arena[at + VNET_FLAGS] & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) !== 0 ? 1 : 0;
      this.stats.rxBytes += r - hdr;
      n++;
    }
    this.stats.rxFrames += n;
    if (n > 0) this.#lastBusy = performance.now();
    return (out.count = n);
  }

  /** Several queues: read a burst from the TAP and steer it, then take this queue's frames. */
  #rxSteered(queue: number, out: FrameBatch, lim: number): number {
    const steer = this.#steer!;
    const read = this.#read;
    const views = this.#steerSlots[queue];
    const c = this.#libc;
    const cap = this.#caps.maxFrameBytes;
    const n = steer.txAlloc(queue, read, lim);
    let got = 0;
    while (got < n) {
      const r = c.read(this.#fd, views[read.id[got]], cap);
      if (r <= 0) break; // EAGAIN
      read.len[got++] = r;
    }
    steer.txBurst(queue, read, got); // each frame to the core RSS picks; the slots not filled go back
    const m = this.#deliver!.rxBurst(queue, out, lim);
    for (let i = 0; i < m; i++) this.stats.rxBytes += out.len[i];
    this.stats.rxFrames += m;
    return m;
  }

  rxRelease(queue: number, batch: FrameBatch): void {
    // One core: slots are reused by the next burst. Several: the fabric's slots go back.
    if (this.#deliver) this.#deliver.rxRelease(queue, batch);
  }

  txAlloc(_queue: number, out: FrameBatch, max: number): number {
    if (this.#closed) return (out.count = 0);
    let n = max < out.capacity ? max : out.capacity;
    if (n > this.#slots) n = this.#slots;
    const cap = this.#slotBytes;
    const room = this.#caps.tsoMaxBytes > 0 ? this.#caps.tsoMaxBytes : this.#caps.maxFrameBytes;
    for (let i = 0; i < n; i++) {
      out.buf[i] = this.#txArena;
      out.off[i] = i * cap + this.#hdr;
      out.len[i] = room;
      out.id[i] = i;
    }
    return (out.count = n);
  }

  txBurst(_queue: number, batch: FrameBatch, count: number): void {
    const c = this.#libc;
    const hdr = this.#hdr;
    const offload = this.#caps.txChecksumOffload;
    for (let i = 0; i < count; i++) {
      const len = batch.len[i];
      const id = batch.id[i];
      if (hdr > 0) this.#writeVnetHeader(id * this.#slotBytes, len, offload ? batch.segmentBytes[i] : -1);
      if (this.#closed || c.write(this.#fd, this.#txSlot[id], hdr + len) !== hdr + len) {
        this.stats.txDropped++;
        continue;
      }
      this.stats.txFrames++;
      this.stats.txBytes += len;
    }
    if (count > 0) this.#lastBusy = performance.now();
    batch.count = 0;
  }

  /**
   * The virtio-net header of the `len`-byte frame after `at` in the TX arena. `segmentBytes` -1: the frame is
   * final (no offload). Otherwise an IPv4 TCP frame gets its checksum left to the kernel (NEEDS_CSUM, the field
   * seeded with the pseudo-header sum as Linux's tcp_v4_send_check does) and, when segmentBytes > 0, is a large
   * segment for the kernel to cut into segments of that many payload bytes (GSO_TCPV4).
   */
  #writeVnetHeader(at: number, len: number, segmentBytes: number): void {
    const b = this.#txArena;
    b.fill(0, at, at + VNET_HDR_BYTES);
    const f = at + VNET_HDR_BYTES; // the Ethernet header
    if (segmentBytes < 0 || len < 14 + 20 + 20 || b[f + 12] !== 0x08 || b[f + 13] !== 0x00 || b[f + 23] !== 6) return;
    const ipHlen = (b[f + 14] & 0x0f) * 4;
    const l4 = 14 + ipHlen;
    const tcpLen = ((b[f + 16] << 8) | b[f + 17]) - ipHlen;
    // Pseudo-header: source and destination addresses, protocol, TCP length (RFC 9293 §3.1), folded, not complemented.
    let sum = ((b[f + 26] << 8) | b[f + 27]) + ((b[f + 28] << 8) | b[f + 29]) + ((b[f + 30] << 8) | b[f + 31])
      + ((b[f + 32] << 8) | b[f + 33]) + 6 + tcpLen;
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    b[f + l4 + TCP_CHECKSUM_AT] = sum >>> 8;
    b[f + l4 + TCP_CHECKSUM_AT + 1] = sum & 0xff;
    b[at + VNET_FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    b[at + VNET_CSUM_START] = l4;
    b[at + VNET_CSUM_OFFSET] = TCP_CHECKSUM_AT;
    if (segmentBytes === 0) return;
    const hdrLen = l4 + (b[f + l4 + 12] >>> 4) * 4;
    b[at + VNET_GSO_TYPE] = VIRTIO_NET_HDR_GSO_TCPV4;
    b[at + VNET_HDR_LEN] = hdrLen & 0xff;
    b[at + VNET_HDR_LEN + 1] = hdrLen >>> 8;
    b[at + VNET_GSO_SIZE] = segmentBytes & 0xff;
    b[at + VNET_GSO_SIZE + 1] = segmentBytes >>> 8;
  }

  async waitRx(queue: number, timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    // Busy (a frame moved within BUSY_MS; a bulk sender waiting for the next ACK): wait right here, briefly. A
    // poll(2) on this thread costs a system call; one on koffi's thread a hand-off each way, which cost a quarter
    // of the CPU time of a 1 GiB transfer.
    if (!this.#deliver && performance.now() - this.#lastBusy < BUSY_MS) {
      if (this.#libc.poll(this.#pollFds, 2, timeoutMs < BUSY_WAIT_MS ? Math.max(0, Math.ceil(timeoutMs)) : BUSY_WAIT_MS) > 0) {
        this.#libc.read(this.#wakeFd, this.#counter, 8); // drain the doorbell (EAGAIN when nobody rang)
        return;
      }
    }
    const polled = this.#poll(timeoutMs);
    if (!this.#deliver) return polled;
    // Frames other cores steered here ring the fabric's doorbell, not the TAP: wait for both, end the other.
    const steered = this.#deliver.waitRx(queue, timeoutMs);
    await Promise.race([polled, steered]);
    this.#deliver.wakeRx(queue);
    this.#endPoll();
    await Promise.all([polled, steered]);
  }

  /** poll(2) on the TAP and the wake eventfd, on koffi's thread. */
  #poll(timeoutMs: number): Promise<void> {
    this.#polling = true;
    return new Promise((resolve) => {
      this.#libc.poll.async(this.#pollFds, 2, Math.max(0, Math.ceil(timeoutMs)), () => {
        this.#polling = false;
        // Drain the doorbell (non-blocking: EAGAIN when nobody rang).
        if (!this.#closed) this.#libc.read(this.#wakeFd, this.#counter, 8);
        resolve();
      });
    });
  }

  /** End a poll in flight (a no-op when none is). */
  #endPoll(): void {
    if (!this.#polling || this.#closed) return;
    this.#counter[0] = 1;
    this.#libc.write(this.#wakeFd, this.#counter, 8);
  }

  wakeRx(queue: number): void {
    if (this.#closed) return;
    this.#endPoll();
    this.#deliver?.wakeRx(queue);
  }

  /**
   * A wrapper must see final bytes both ways: we stop leaving checksums and segmentation to the kernel, and
   * TUNSETOFFLOAD 0 makes the kernel checksum and cut what it sends us (the TAP is the process's: this holds
   * for every core on it). Frames keep their virtio-net header, with no flag set.
   */
  stopTxChecksumOffload(): void {
    if (this.port.offloads === 0 || !this.#caps.txChecksumOffload) return;
    this.#libc.ioctl(this.#fd, TUNSETOFFLOAD, 0n);
    this.#caps = { ...this.#caps, txChecksumOffload: false, tsoMaxBytes: 0 };
  }

  close(): void {
    if (this.#closed) return;
    this.#endPoll(); // a poll in flight returns before its descriptors go
    this.#closed = true;
    this.#steer?.close();
    this.#deliver?.close();
    this.#libc.close(this.#wakeFd);
    this.onClose();
  }
}

/**
 * io = tap: the TAP interface named by the port (created when missing), opened by the first context or by
 * share() with a queue per core. The descriptor is the process's: worker threads get the TAP the main
 * thread opened (MtcpShared.tap). It closes with the last context's driver, unless it was lent to workers;
 * then destroy() closes it.
 */
export const tapFactory: DriverFactory<TapPortShared> = {
  forRuntime: (settings, opened) => new TapRuntimePort(settings, opened),
};

class TapRuntimePort implements RuntimePort<TapPortShared> {
  readonly clock = null;
  /** The TAP this runtime opened, with a queue per core (on first use). */
  #tap: TapPortShared | null = null;
  /** Drivers of this thread on #tap not yet closed. */
  #users = 0;
  /** #tap was lent to worker threads (share): it stays open until destroy(). */
  #lent = false;

  constructor(
    readonly settings: DriverSettings,
    /** In a worker: the TAP the main thread opened. */
    readonly opened: TapPortShared | undefined,
  ) {}

  driver(_core: number): PacketDriver {
    const mac = this.settings.ports[0].mac;
    if (this.opened) return new TapDriver(this.opened, mac);
    const tap = this.#open();
    this.#users++;
    return new TapDriver(tap, mac, {}, () => {
      if (--this.#users === 0 && !this.#lent) this.#close();
    });
  }

  share(): TapPortShared {
    if (this.opened) return this.opened;
    const tap = this.#open();
    this.#lent = true;
    return tap;
  }

  destroy(): void {
    if (this.#tap && this.#users === 0) this.#close();
  }

  /** This runtime's TAP, opened on first use with a queue per core; the interface is the port's name. */
  #open(): TapPortShared {
    const s = this.settings;
    this.#tap ??= openTap(s.ports[0].name, s.numCores, Math.max(2048, s.mtu + 14));
    return this.#tap;
  }

  #close(): void {
    if (this.#tap) closeTap(this.#tap);
    this.#tap = null;
    this.#lent = false;
  }
}
