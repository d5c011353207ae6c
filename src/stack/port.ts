/**
 * The port contract: what the stack needs from a packet driver, and the
 * frames it moves. The stack owns it; every driver in src/io (sim, shm, tap,
 * dpdk, netmap, and the impair and capture wrappers) implements it, and
 * nothing here knows a driver. Work moves in bursts: one call receives or
 * transmits many frames, so a driver behind an FFI boundary crosses it once
 * per burst.
 *
 * Frames are never copied into per-packet objects: a FrameBatch is a set of
 * preallocated parallel arrays, and frame i is bytes
 * `buf[i].subarray(off[i], off[i] + len[i])` of a driver-owned arena.
 */
export class FrameBatch {
  /** Number of valid entries. */
  count = 0;
  /** Arena that frame i lives in (a few long-lived Uint8Arrays, never one per frame). */
  readonly buf: Uint8Array[];
  /** Byte offset of frame i in buf[i]. */
  readonly off: Int32Array;
  /** Length of frame i in bytes (for a TX slot: its capacity until the stack sets the frame length). */
  readonly len: Int32Array;
  /** Driver-private handle of frame i (slot index, mbuf index ...), for release. */
  readonly id: Int32Array;
  /**
   * Received frame i: 1 when the port verified its IPv4 and TCP checksums, else 0. Read only from a port
   * whose capabilities declare rxChecksumOffload; the stack then skips its own check of that frame.
   */
  readonly checksumOk: Uint8Array;
  /**
   * Frame i to transmit: 0 when it goes on the wire as it is; otherwise it is one large TCP segment the port
   * cuts into frames of this many payload bytes each (TSO; the connection's MSS). Set only for a port whose
   * capabilities declare tsoMaxBytes.
   */
  readonly segmentBytes: Int32Array;

  constructor(readonly capacity: number) {
    const empty = new Uint8Array(0);
    this.buf = new Array<Uint8Array>(capacity).fill(empty);
    this.off = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
    this.id = new Int32Array(capacity);
    this.checksumOk = new Uint8Array(capacity);
    this.segmentBytes = new Int32Array(capacity);
  }
}

export interface DriverStats {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames the driver could not transmit (no slot, ring full); the stack never sees these as sent. */
  txDropped: number;
  /**
   * Frames lost on their way in before the driver could take them (the receive queue or ring was
   * full), where the port can tell: TAP reads the kernel's count. Read when asked, not per frame.
   */
  readonly rxDropped?: number;
}

/**
 * What a port can do, as it declares it (gVisor's LinkEndpoint.Capabilities, smoltcp's DeviceCapabilities):
 * the stack and the runtime learn a driver's abilities only from here, never from its class. Read it once a
 * port is set up (wrapped, offloads stopped); it does not change afterwards.
 */
export interface PortCapabilities {
  /** Largest frame the port carries, bytes: Ethernet header included, FCS excluded (a TX slot holds this much). */
  readonly maxFrameBytes: number;
  /** RX/TX queue pairs: one per core, each core's flows steered to its queue by RSS (src/stack/rss.ts). */
  readonly queues: number;
  /** The port fills the TCP checksum (and the IPv4 one) of every sent frame: the stack leaves the field zero. */
  readonly txChecksumOffload: boolean;
  /** The port verifies the IPv4 and TCP checksums of received frames and marks the good ones in FrameBatch.checksumOk. */
  readonly rxChecksumOffload: boolean;
  /**
   * Largest frame (Ethernet header included, at most ETH_HLEN + 65535 as IPv4's length field allows) holding one
   * TCP segment that the port accepts and cuts into frames of FrameBatch.segmentBytes payload bytes itself (TSO),
   * filling the checksums of every frame it makes; a TX slot then holds this much. 0: none, every frame is final.
   */
  readonly tsoMaxBytes: number;
  /**
   * The link cannot corrupt a frame between its ends and both ends know it (Linux's loopback): the stack neither
   * writes nor verifies TCP checksums on it.
   */
  readonly trustedLink: boolean;
}

/** The capabilities of a port that offloads nothing and whose link may corrupt frames: the stack does all the work. */
export function withoutOffloads(queues: number, maxFrameBytes: number): PortCapabilities {
  return { maxFrameBytes, queues, txChecksumOffload: false, rxChecksumOffload: false, tsoMaxBytes: 0, trustedLink: false };
}

export interface PacketDriver {
  /** Short name: 'sim', 'shm', ... */
  readonly name: string;
  /** This port's MAC address as a 48-bit integer. */
  readonly mac: number;
  /** What the port can do (queues, largest frame, offloads). */
  readonly capabilities: PortCapabilities;
  readonly stats: DriverStats;

  /**
   * Receive up to `max` frames from `queue` into `out` (sets out.count and
   * returns it). The frames stay owned by the driver until rxRelease.
   */
  rxBurst(queue: number, out: FrameBatch, max: number): number;
  /** Give back every frame of a batch returned by rxBurst. */
  rxRelease(queue: number, batch: FrameBatch): void;
  /**
   * Reserve up to `max` empty TX slots on `queue` into `out` (sets out.count and
   * returns it); len[i] holds each slot's capacity. A reserved slot is
   * guaranteed to be accepted by the following txBurst.
   */
  txAlloc(queue: number, out: FrameBatch, max: number): number;
  /**
   * Transmit the first `count` slots of `batch` (their len[] set to the frame
   * length) and return the rest of the reserved slots to the driver.
   */
  txBurst(queue: number, batch: FrameBatch, count: number): void;
  /**
   * Resolves when a frame may have arrived on `queue`, or after `timeoutMs`.
   * Lets an idle stack sleep instead of spinning; drivers that cannot wait
   * resolve on the next macrotask.
   */
  waitRx(queue: number, timeoutMs: number): Promise<void>;
  /**
   * Make a pending waitRx on `queue` resolve now (called from the same thread,
   * when the application queued work while the stack slept). No-op when
   * nothing waits. shm does it with Atomics.notify on its own doorbell.
   */
  wakeRx(queue: number): void;
  /**
   * Stop filling checksums of sent frames: capabilities.txChecksumOffload reads false afterwards. A wrapper that
   * must see or change a frame's final bytes (impair, capture) calls it on the port it wraps; a port that does
   * not offload ignores it.
   */
  stopTxChecksumOffload(): void;
  /** Release every resource; the driver is unusable afterwards. */
  close(): void;
}
