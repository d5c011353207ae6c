/**
 * The shared-memory wire: two ports joined by SharedArrayBuffer rings, for
 * stacks in different worker threads (or the same one). Zero copy, as memif
 * does: the sender builds the frame in a ring slot, the receiver parses it in
 * that same slot and then releases it.
 *
 * Topology: point to point, each port with its own number of queue pairs (a
 * one-core client may face a two-core server). The receiving port's queue of a
 * frame is chosen as a NIC with RSS chooses it (src/stack/rss.ts: the Toeplitz
 * hash of the 4-tuple with the symmetric key, DPDK's default redirection
 * table; ARP to every queue), so each core of a multi-core stack receives the
 * flows that hash to it. Every ring stays single-producer single-consumer:
 * for each direction there is one ring per (sender queue s, receiver queue r)
 * pair, written only by the core of queue s and read only by the core of
 * queue r.
 *
 * Sender queue s builds frames in its home ring, (s, s % peer queues). At
 * txBurst each frame is steered: a frame for the home ring stays in its slot
 * (moved down over the slots of frames that left, with copyWithin); a frame
 * for another receiver queue is copied into ring (s, r), which is in the same
 * buffer, so the copy is one native memmove. When the two ends have equal
 * queue counts and the client picks its ports by RSS (mtcp_connect does), a
 * connection's frames never leave their home ring.
 *
 * Layout, per direction (the sending port's number): one data buffer with
 * every ring's `slots` slots of `slotSize` bytes (ring k = s * receiver queues
 * + r, slot i at byte (k * slots + i) * slotSize), one Int32 per slot for the
 * frame length, and a control block per ring of Int32s with HEAD (frames
 * published by the producer, free running) and TAIL (frames released by the
 * consumer), on separate cache lines. Per port, a doorbell block per receive
 * queue: SLEEPING (the consumer waits on DOORBELL) and DOORBELL. Slot i of a
 * ring holds frame number n where n & (slots - 1) === i.
 *
 * Memory ordering: the producer writes frame bytes and lengths with plain
 * stores, then publishes HEAD with Atomics.store; the consumer reads HEAD with
 * Atomics.load before touching the slots (a release/acquire pair). Likewise
 * the consumer is done with a slot before it stores TAIL, and the producer
 * loads TAIL before reusing it. A sender stores HEAD, then loads the
 * receiver's SLEEPING; a receiver stores SLEEPING, then loads HEAD: with
 * Atomics (sequentially consistent) one of them sees the other, so no wake-up
 * is lost.
 *
 * Checksums (unless the wire is made with checksumOffload false): memory between threads of one
 * process cannot corrupt a frame, so, as Linux's loopback does, TCP checksums are neither written nor
 * verified. The ports declare checksum offload both ways; a sent frame whose checksum the stack left
 * to the port is marked in its length word (FRAME_CHECKSUM_UNNECESSARY) and the receiving port hands
 * it up as verified (FrameBatch.checksumOk). When an end must see or check real checksums (the impair
 * and capture wrappers call stopTxChecksumOffload), it sets the wire's CHECKSUMS_REQUIRED word: from
 * then on both ports fill the TCP checksum of every frame whose stack left it to them, and mark none,
 * so a frame corrupted on an impaired link is still caught and a capture shows real checksums.
 *
 * Rules for the user of a port: one thread per (port, queue) end; rxRelease
 * batches in the order rxBurst returned them; one txAlloc reservation per
 * queue at a time (a new txAlloc replaces an unsent one); nothing allocated
 * per frame or per burst.
 */
import { EINVAL, ErrnoError } from '../stack/errno.ts';
import { RSS_EVERY_QUEUE, RssSteering } from '../stack/rss.ts';
import { FrameBatch, withoutOffloads, type DriverStats, type PacketDriver, type PortCapabilities } from '../stack/port.ts';
import { ETH_HLEN, ETHERTYPE_IPV4 } from '../stack/wire/ethernet.ts';
import { IPPROTO_TCP } from '../stack/wire/ipv4.ts';
import { fillTcpChecksum } from '../stack/wire/tcp.ts';
import type { DriverFactory } from './factory.ts';

/** Ring control block: frames published (producer). */
const HEAD = 0;
/** Ring control block: frames released (consumer), a cache line away from HEAD. */
const TAIL = 16;
/** Int32s per ring control block: two cache lines. */
const CONTROL_INTS = 32;
/** Doorbell block: 1 while the consumer sleeps in waitRx. */
const SLEEPING = 0;
/** Doorbell block: bumped by whoever wakes the consumer. */
const DOORBELL = 1;
/** Int32s per doorbell block: one cache line, so the queues' doorbells do not share one. */
const BELL_INTS = 16;
/** Most queue pairs per port (mtcp.conf's num_cores limit). */
const MAX_QUEUES = 128;
/** Largest slot: an Ethernet header and the largest IPv4 datagram, rounded up to 4. */
export const SHM_MAX_SLOT_SIZE = (ETH_HLEN + 0xffff + 3) & ~3;
/** Wire settings word: 1 when the ports offload checksums (ShmWireOptions.checksumOffload). */
const CHECKSUM_OFFLOAD = 0;
/** Wire settings word: 1 once an end needs real checksums on every frame (impair, capture). */
const CHECKSUMS_REQUIRED = 1;
/** Int32s of the wire settings. */
const SETTINGS_INTS = 2;
/** Bit of a slot's length word: the frame carries no TCP checksum and needs none (trusted wire). */
const FRAME_CHECKSUM_UNNECESSARY = 0x40000000;
/** Bits of a slot's length word that hold the length. */
const FRAME_LENGTH_MASK = 0x00ffffff;

/** The slot size for frames of an `mtu`-byte link: at least 2048, as today's frames. */
export function shmSlotSizeFor(mtu: number): number {
  return Math.max(2048, (mtu + ETH_HLEN + 3) & ~3);
}

export interface ShmWireShared {
  /** Queue pairs of port 0 and of port 1. */
  queues: [number, number];
  /** Slots per ring (a power of two). */
  slots: number;
  /** Bytes per slot: the largest frame. */
  slotSize: number;
  /** Frame bytes of every ring of a direction, indexed by the sending port. */
  data: [SharedArrayBuffer, SharedArrayBuffer];
  /** Frame length per slot of every ring of a direction, indexed by the sending port. */
  lengths: [SharedArrayBuffer, SharedArrayBuffer];
  /** Control block per ring of a direction, indexed by the sending port. */
  control: [SharedArrayBuffer, SharedArrayBuffer];
  /** Doorbell block per receive queue, indexed by the receiving port. */
  bells: [SharedArrayBuffer, SharedArrayBuffer];
  /** The wire's settings words: CHECKSUM_OFFLOAD, CHECKSUMS_REQUIRED. */
  settings: SharedArrayBuffer;
}

export interface ShmWireOptions {
  /** Ports: always 2 (point to point). */
  ports?: 2;
  /** Queue pairs per port: one number for both, or [port 0, port 1] (default 1). */
  queues?: number | [number, number];
  /** Slots per ring, a power of two (default 1024). */
  slots?: number;
  /** Bytes per slot (default 2048, at most SHM_MAX_SLOT_SIZE): the largest frame. */
  slotSize?: number;
  /**
   * The ports declare checksum offload and frames between them carry no TCP checksum until an end asks
   * for real ones (default true; false: the ports offload nothing and carry frames as they are, as tap's
   * steering wire needs).
   */
  checksumOffload?: boolean;
}

export class ShmWire {
  private constructor(
    /** The shared buffers and geometry. */
    readonly shared: ShmWireShared,
  ) {}

  static create(opts: ShmWireOptions = {}): ShmWire {
    const ports = opts.ports ?? 2;
    const queues: [number, number] = typeof opts.queues === 'object' ? [opts.queues[0], opts.queues[1]] : [opts.queues ?? 1, opts.queues ?? 1];
    const slots = opts.slots ?? 1024;
    const slotSize = opts.slotSize ?? 2048;
    if (ports !== 2) throw new RangeError(`shm wire: ports = ${String(ports)}: the wire is point to point`);
    for (const q of queues) {
      if (!Number.isInteger(q) || q < 1 || q > MAX_QUEUES) throw new RangeError(`shm wire: queues = ${q} must be from 1 to ${MAX_QUEUES}`);
    }
    if (!Number.isInteger(slots) || slots < 2 || slots > 1 << 24 || (slots & (slots - 1)) !== 0) {
      throw new RangeError(`shm wire: slots = ${slots} must be a power of two`);
    }
    // A multiple of 4 keeps every slot 4-byte aligned.
    if (!Number.isInteger(slotSize) || slotSize < 64 || slotSize > SHM_MAX_SLOT_SIZE || slotSize % 4 !== 0) {
      throw new RangeError(`shm wire: slotSize = ${slotSize} must be a multiple of 4 from 64 to ${SHM_MAX_SLOT_SIZE}`);
    }
    const rings = queues[0] * queues[1];
    const direction = (): [SharedArrayBuffer, SharedArrayBuffer] => [new SharedArrayBuffer(0), new SharedArrayBuffer(0)];
    const settings = new SharedArrayBuffer(SETTINGS_INTS * 4);
    new Int32Array(settings)[CHECKSUM_OFFLOAD] = opts.checksumOffload === false ? 0 : 1;
    const shared: ShmWireShared = {
      queues, slots, slotSize, data: direction(), lengths: direction(), control: direction(), bells: direction(), settings,
    };
    for (const p of [0, 1] as const) {
      shared.data[p] = new SharedArrayBuffer(rings * slots * slotSize);
      shared.lengths[p] = new SharedArrayBuffer(rings * slots * 4);
      shared.control[p] = new SharedArrayBuffer(rings * CONTROL_INTS * 4);
      shared.bells[p] = new SharedArrayBuffer(queues[p] * BELL_INTS * 4);
    }
    return new ShmWire(shared);
  }

  /** A structured-cloneable object holding the SharedArrayBuffers, for workerData or postMessage. */
  share(): ShmWireShared {
    return this.shared;
  }
}

/** One end of one ring, with that end's private cursors. */
class RingEnd {
  /** Byte offset of the ring's slot 0 in its direction's data buffer. */
  readonly base: number;
  /** Index of the ring's slot 0 in its direction's lengths. */
  readonly lengthBase: number;
  /** Index of the ring's control block in its direction's control Int32s. */
  readonly ctl: number;
  /** Producer: frames published (a private copy of HEAD). Consumer: last HEAD seen. */
  head: number;
  /** Consumer: frames released (a private copy of TAIL). Producer: last TAIL seen. */
  tail: number;
  /** Consumer: next frame rxBurst hands out (tail + frames held by the stack). */
  next: number;
  /** Producer: slots reserved by the last txAlloc (home rings only). */
  reserved = 0;
  /** Producer: frames copied in during the current txBurst, not yet published. */
  dirty = false;

  constructor(ring: number, slots: number, slotSize: number, control: Int32Array) {
    this.base = ring * slots * slotSize;
    this.lengthBase = ring * slots;
    this.ctl = ring * CONTROL_INTS;
    this.head = Atomics.load(control, this.ctl + HEAD);
    this.tail = Atomics.load(control, this.ctl + TAIL);
    this.next = this.tail;
  }
}

/** One end of a shm wire: what a stack needs to attach to it, in any thread (structured-cloneable). */
export interface ShmWireEnd {
  wire: ShmWireShared;
  port: 0 | 1;
}

/**
 * io = shm: a stack on one end of a shm wire, every core on its own queue of that end. The wire is the
 * application's (mtcp_init's `shm`: another stack's shmPeer(), or ShmWire.create({ queues: [a, b] }) for
 * ends with different core counts) or, by default, a new one whose port 0 this runtime takes.
 */
export const shmFactory: DriverFactory<ShmWireEnd> = {
  forRuntime(settings, given) {
    const cores = settings.numCores;
    const end = given ?? {
      wire: ShmWire.create({ slots: settings.shmSlots, queues: cores, slotSize: shmSlotSizeFor(settings.mtu) }).share(),
      port: 0,
    };
    const queues = end.wire.queues[end.port];
    if (queues !== cores) {
      throw new ErrnoError(EINVAL, `${settings.file}: num_cores = ${cores} but this end of the shm wire has ${queues} queue(s); `
        + 'make the wire with ShmWire.create({ queues: [port 0 cores, port 1 cores] })');
    }
    const mac = settings.ports[0].mac;
    return { clock: null, driver: () => attachShm(end.wire, end.port, mac), share: () => end, destroy: () => {} };
  },
};

/** Attach to one end of a shm wire (in any thread that has `shared`). */
export function attachShm(shared: ShmWireShared, port: 0 | 1, mac: number): ShmDriver {
  return new ShmDriver(shared, port, mac);
}

function noop(): void {}

/** Fill the TCP checksum of an IPv4 frame of `len` bytes at `off` whose stack left it zero (what an offloading NIC does). */
function fillFrameChecksum(buf: Uint8Array, off: number, len: number): void {
  if (len < ETH_HLEN + 20 || ((buf[off + 12] << 8) | buf[off + 13]) !== ETHERTYPE_IPV4 || buf[off + ETH_HLEN + 9] !== IPPROTO_TCP) return;
  const ip = off + ETH_HLEN;
  const ihl = (buf[ip] & 0x0f) << 2;
  const total = (buf[ip + 2] << 8) | buf[ip + 3];
  const tcpLen = total - ihl;
  if (tcpLen < 20 || ETH_HLEN + total > len) return;
  const src = (buf[ip + 12] << 24) | (buf[ip + 13] << 16) | (buf[ip + 14] << 8) | buf[ip + 15];
  const dst = (buf[ip + 16] << 24) | (buf[ip + 17] << 16) | (buf[ip + 18] << 8) | buf[ip + 19];
  fillTcpChecksum(buf, ip + ihl, tcpLen, src, dst);
}

export class ShmDriver implements PacketDriver {
  readonly name = 'shm';
  /** Queue pairs of this port. */
  readonly queues: number;
  /** Queue pairs of the port at the other end. */
  readonly peerQueues: number;
  /** Frames up to the slot size; checksum offload both ways unless the wire was made without. */
  #caps: PortCapabilities;
  /** Per-port counters. */
  readonly stats: DriverStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  /** Frame bytes of the rings this port sends on (one arena for all of them). */
  readonly #outBytes: Uint8Array;
  readonly #outLengths: Int32Array;
  readonly #outControl: Int32Array;
  /** Frame bytes of the rings this port receives from. */
  readonly #inBytes: Uint8Array;
  readonly #inLengths: Int32Array;
  readonly #inControl: Int32Array;
  /** This port's doorbells (one block per receive queue). */
  readonly #bells: Int32Array;
  /** The peer's doorbells. */
  readonly #peerBells: Int32Array;
  /** #out[s][r]: the ring from this port's queue s to the peer's queue r. */
  readonly #out: RingEnd[][] = [];
  /** #in[r][s]: the ring from the peer's queue s to this port's queue r. */
  readonly #in: RingEnd[][] = [];
  /** Per receive queue: the sender ring rxBurst starts at (rotates, so no sender starves the others). */
  readonly #rxStart: Int32Array;
  /** Scratch for rxRelease: frames released per sender ring. */
  readonly #released: Int32Array;
  /** Picks the peer's receive queue of each frame. */
  readonly #rss = new RssSteering();
  /** Slots per ring. */
  readonly #slots: number;
  /** Bytes per slot. */
  readonly #slotSize: number;
  /** Closed: sends and receives nothing. */
  #closed = false;
  /** The wire's settings words (shared by both ends). */
  readonly #settings: Int32Array;
  /** This port's stack leaves TCP checksums to it (until stopTxChecksumOffload). */
  #offloading: boolean;

  constructor(
    shared: ShmWireShared,
    /** Which end of the wire this is. */
    readonly port: 0 | 1,
    readonly mac: number,
  ) {
    if (port !== 0 && port !== 1) throw new RangeError(`shm wire: port = ${String(port)} must be 0 or 1`);
    const peer = port === 0 ? 1 : 0;
    const { slots, slotSize } = shared;
    const queues = shared.queues?.[port];
    const peerQueues = shared.queues?.[peer];
    if (!Array.isArray(shared.queues) || !Number.isInteger(queues) || !Number.isInteger(peerQueues) ||
      shared.data[port].byteLength !== queues * peerQueues * slots * slotSize || !(shared.settings?.byteLength >= SETTINGS_INTS * 4)) {
      throw new RangeError('shm wire: the shared object does not match its geometry');
    }
    this.queues = queues;
    this.peerQueues = peerQueues;
    this.#slots = slots;
    this.#slotSize = slotSize;
    this.#settings = new Int32Array(shared.settings);
    this.#offloading = Atomics.load(this.#settings, CHECKSUM_OFFLOAD) === 1;
    const caps = withoutOffloads(queues, slotSize);
    this.#caps = this.#offloading ? { ...caps, txChecksumOffload: true, rxChecksumOffload: true } : caps;
    this.#outBytes = new Uint8Array(shared.data[port]);
    this.#outLengths = new Int32Array(shared.lengths[port]);
    this.#outControl = new Int32Array(shared.control[port]);
    this.#inBytes = new Uint8Array(shared.data[peer]);
    this.#inLengths = new Int32Array(shared.lengths[peer]);
    this.#inControl = new Int32Array(shared.control[peer]);
    this.#bells = new Int32Array(shared.bells[port]);
    this.#peerBells = new Int32Array(shared.bells[peer]);
    for (let s = 0; s < queues; s++) {
      const row: RingEnd[] = [];
      for (let r = 0; r < peerQueues; r++) row.push(new RingEnd(s * peerQueues + r, slots, slotSize, this.#outControl));
      this.#out.push(row);
    }
    for (let r = 0; r < queues; r++) {
      const row: RingEnd[] = [];
      for (let s = 0; s < peerQueues; s++) row.push(new RingEnd(s * queues + r, slots, slotSize, this.#inControl));
      this.#in.push(row);
    }
    this.#rxStart = new Int32Array(queues);
    this.#released = new Int32Array(peerQueues);
  }

  get capabilities(): PortCapabilities {
    return this.#caps;
  }

  rxBurst(queue: number, out: FrameBatch, max: number): number {
    const rings = this.#in[queue];
    let want = max < out.capacity ? max : out.capacity;
    if (this.#closed) want = 0;
    const nrings = rings.length;
    const start = this.#rxStart[queue];
    const size = this.#slotSize;
    const mask = this.#slots - 1;
    const bytes = this.#inBytes;
    const lengths = this.#inLengths;
    let n = 0;
    let total = 0;
    for (let k = 0; k < nrings && n < want; k++) {
      const s = start + k < nrings ? start + k : start + k - nrings;
      const r = rings[s];
      const next = r.next;
      let avail = (r.head - next) | 0;
      if (avail < want - n) {
        r.head = Atomics.load(this.#inControl, r.ctl + HEAD); // acquire: the slots up to HEAD are written
        avail = (r.head - next) | 0;
      }
      if (avail > want - n) avail = want - n;
      for (let i = 0; i < avail; i++) {
        const slot = (next + i) & mask;
        const word = lengths[r.lengthBase + slot];
        const len = word & FRAME_LENGTH_MASK;
        out.buf[n] = bytes;
        out.off[n] = r.base + slot * size;
        out.len[n] = len;
        out.checksumOk[n] = (word & FRAME_CHECKSUM_UNNECESSARY) !== 0 ? 1 : 0;
        out.id[n] = s;
        total += len;
        n++;
      }
      r.next = (next + avail) | 0;
    }
    if (nrings > 1) this.#rxStart[queue] = start + 1 < nrings ? start + 1 : 0;
    this.stats.rxFrames += n;
    this.stats.rxBytes += total;
    out.count = n;
    return n;
  }

  rxRelease(queue: number, batch: FrameBatch): void {
    const n = batch.count;
    batch.count = 0;
    if (n <= 0) return;
    const rings = this.#in[queue];
    const released = this.#released;
    // id[i] is the sender ring of frame i; a burst's frames of one ring are consecutive in that ring.
    for (let i = 0; i < n; i++) released[batch.id[i]]++;
    for (let s = 0; s < rings.length; s++) {
      const count = released[s];
      if (count === 0) continue;
      released[s] = 0;
      const r = rings[s];
      let tail = (r.tail + count) | 0;
      if (((r.next - tail) | 0) < 0) tail = r.next; // never release what was not handed out
      r.tail = tail;
      Atomics.store(this.#inControl, r.ctl + TAIL, tail); // release: the producer may reuse these slots
    }
  }

  txAlloc(queue: number, out: FrameBatch, max: number): number {
    const r = this.#out[queue][queue % this.peerQueues];
    let want = max < out.capacity ? max : out.capacity;
    if (this.#closed) want = 0;
    const head = r.head;
    let free = this.#slots - ((head - r.tail) | 0);
    if (free < want) {
      r.tail = Atomics.load(this.#outControl, r.ctl + TAIL); // acquire: the consumer is done with slots below TAIL
      free = this.#slots - ((head - r.tail) | 0);
    }
    const n = free < want ? free : want;
    const size = this.#slotSize;
    const mask = this.#slots - 1;
    const bytes = this.#outBytes;
    for (let i = 0; i < n; i++) {
      const slot = (head + i) & mask;
      out.buf[i] = bytes;
      out.off[i] = r.base + slot * size;
      out.len[i] = size;
      out.id[i] = slot;
    }
    r.reserved = n;
    out.count = n;
    return n;
  }

  txBurst(queue: number, batch: FrameBatch, count: number): void {
    const peerQueues = this.peerQueues;
    const homeQueue = queue % peerQueues;
    const rings = this.#out[queue];
    const home = rings[homeQueue];
    if (count > home.reserved) count = home.reserved;
    if (count > batch.count) count = batch.count;
    home.reserved = 0;
    batch.count = 0;
    if (count <= 0) return;
    if (this.#closed) {
      this.stats.txDropped += count;
      return;
    }
    const head = home.head;
    const mask = this.#slots - 1;
    const size = this.#slotSize;
    const bytes = this.#outBytes;
    const lengths = this.#outLengths;
    // The stack left TCP checksums to this port: mark the frames as needing none, or fill them once an end wants them.
    const offloading = this.#offloading;
    const mark = offloading && Atomics.load(this.#settings, CHECKSUMS_REQUIRED) === 0 ? FRAME_CHECKSUM_UNNECESSARY : 0;
    const fill = offloading && mark === 0;
    let kept = 0;
    let copies = 0;
    let sent = 0;
    let total = 0;
    for (let i = 0; i < count; i++) {
      let len = batch.len[i];
      if (!(len >= 0)) len = 0;
      else if (len > size) len = size; // a slot can't hold more; never let the reader run into the next slot
      const from = home.base + ((head + i) & mask) * size;
      if (fill) fillFrameChecksum(bytes, from, len);
      const q = peerQueues > 1 ? this.#rss.queueOfFrame(bytes, from, len, peerQueues) : homeQueue;
      if (q !== homeQueue && q !== RSS_EVERY_QUEUE) {
        if (this.#copyInto(rings[q], from, len, mark)) {
          copies++;
          sent++;
          total += len;
        } else {
          this.stats.txDropped++;
        }
        continue;
      }
      if (q === RSS_EVERY_QUEUE) {
        for (let r = 0; r < peerQueues; r++) {
          if (r === homeQueue) continue;
          if (this.#copyInto(rings[r], from, len, mark)) copies++;
          else this.stats.txDropped++;
        }
      }
      // Stays in the home ring: close the gap left by frames that went to other rings.
      const slot = (head + kept) & mask;
      if (kept !== i) bytes.copyWithin(home.base + slot * size, from, from + len);
      lengths[home.lengthBase + slot] = len | mark;
      kept++;
      sent++;
      total += len;
    }
    if (kept > 0) {
      home.head = (head + kept) | 0;
      this.#publish(home, homeQueue);
    }
    if (copies > 0) {
      for (let r = 0; r < peerQueues; r++) {
        const ring = rings[r];
        if (!ring.dirty) continue;
        ring.dirty = false;
        this.#publish(ring, r);
      }
    }
    this.stats.txFrames += sent;
    this.stats.txBytes += total;
  }

  /**
   * Copy a frame built at `from` into the next free slot of `ring` (published by #publish), its length word
   * with `mark`. False when the ring is full.
   */
  #copyInto(ring: RingEnd, from: number, len: number, mark: number): boolean {
    let free = this.#slots - ((ring.head - ring.tail) | 0);
    if (free < 1) {
      ring.tail = Atomics.load(this.#outControl, ring.ctl + TAIL);
      free = this.#slots - ((ring.head - ring.tail) | 0);
      if (free < 1) return false; // the receiving core is behind: dropped, as a NIC drops on a full RX ring
    }
    const slot = ring.head & (this.#slots - 1);
    this.#outBytes.copyWithin(ring.base + slot * this.#slotSize, from, from + len);
    this.#outLengths[ring.lengthBase + slot] = len | mark;
    ring.head = (ring.head + 1) | 0;
    ring.dirty = true;
    return true;
  }

  /** Publish a ring's HEAD, and ring the receiving queue's doorbell if its core sleeps. */
  #publish(ring: RingEnd, peerQueue: number): void {
    Atomics.store(this.#outControl, ring.ctl + HEAD, ring.head); // publish the whole burst at once
    const bell = peerQueue * BELL_INTS;
    // Ring the doorbell only when the consumer sleeps: notify is costly.
    if (Atomics.load(this.#peerBells, bell + SLEEPING) !== 0) {
      Atomics.add(this.#peerBells, bell + DOORBELL, 1);
      Atomics.notify(this.#peerBells, bell + DOORBELL, 1);
    }
  }

  /**
   * One view per slot of `queue`'s home ring, the slots txAlloc hands out (by
   * FrameBatch.id): for a driver that fills them through a pointer, as read(2)
   * through koffi needs. Allocates: call it once, at setup.
   */
  homeSlotViews(queue: number): Uint8Array[] {
    const r = this.#out[queue][queue % this.peerQueues];
    const size = this.#slotSize;
    return Array.from({ length: this.#slots }, (_, i) => this.#outBytes.subarray(r.base + i * size, r.base + (i + 1) * size));
  }

  /** Frames published to `queue` and not yet handed out by rxBurst. */
  pending(queue = 0): number {
    let n = 0;
    for (const r of this.#in[queue]) n += (Atomics.load(this.#inControl, r.ctl + HEAD) - r.next) | 0;
    return n;
  }

  /** Whether a frame waits in any ring of `queue` (reads every HEAD). */
  #anyPending(queue: number): boolean {
    const rings = this.#in[queue];
    for (let s = 0; s < rings.length; s++) {
      if (Atomics.load(this.#inControl, rings[s].ctl + HEAD) !== rings[s].next) return true;
    }
    return false;
  }

  waitRx(queue: number, timeoutMs: number): Promise<void> {
    if (this.#closed || this.#anyPending(queue)) return Promise.resolve();
    return this.#sleep(queue, timeoutMs > 0 ? timeoutMs : 0);
  }

  async #sleep(queue: number, timeoutMs: number): Promise<void> {
    const c = this.#bells;
    const bell = queue * BELL_INTS;
    const rung = Atomics.load(c, bell + DOORBELL);
    Atomics.store(c, bell + SLEEPING, 1);
    // Re-check after announcing the sleep: a burst published in between saw no sleeper and rang no bell.
    if (!this.#anyPending(queue) && !this.#closed && timeoutMs > 0) {
      const w = Atomics.waitAsync(c, bell + DOORBELL, rung, timeoutMs);
      if (w.async) {
        // A pending waitAsync does not keep the thread alive; this timer does, until the wait ends.
        const keepAlive = setInterval(noop, 1 << 30);
        await w.value;
        clearInterval(keepAlive);
      }
    }
    Atomics.store(c, bell + SLEEPING, 0);
  }

  wakeRx(queue: number): void {
    const c = this.#bells;
    const bell = queue * BELL_INTS;
    if (Atomics.load(c, bell + SLEEPING) === 0) return;
    Atomics.add(c, bell + DOORBELL, 1);
    Atomics.notify(c, bell + DOORBELL, 1);
  }

  /** This end must see final bytes (impair, capture): its stack fills checksums, and the other end's port from now on too. */
  stopTxChecksumOffload(): void {
    if (!this.#offloading) return;
    this.#offloading = false;
    Atomics.store(this.#settings, CHECKSUMS_REQUIRED, 1);
    this.#caps = { ...this.#caps, txChecksumOffload: false };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (let q = 0; q < this.queues; q++) this.wakeRx(q);
  }
}
