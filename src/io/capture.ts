/**
 * A capture wrapper around any driver: every frame received and transmitted
 * goes to a pcapng file (one Section Header, one Ethernet interface, an
 * Enhanced Packet Block per frame with its direction in epb_flags), which
 * `tshark -r` and Wireshark read. Blocks are built in a preallocated buffer
 * and written once per burst.
 *
 * The file must show sent frames as they go on the wire, so through it the
 * wrapped port fills no checksum and cuts no segment (TX offloads off); the
 * port's verdicts on received frames pass through unchanged.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { copyBytes } from '../stack/copy.ts';
import type { FrameBatch, PacketDriver, PortCapabilities } from '../stack/port.ts';
import { DriverWrapper } from './wrapper.ts';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const LINKTYPE_ETHERNET = 1;
const EPB_FLAGS = 2;
const INBOUND = 1;
const OUTBOUND = 2;
/** Buffered bytes before a write (a burst of full frames fits many times). */
const BUFFER = 4 << 20;

export class CaptureDriver extends DriverWrapper {
  /** Frames written to the file. */
  frames = 0;
  readonly #fd: number;
  readonly #buf = Buffer.allocUnsafe(BUFFER);
  #used = 0;
  #closed = false;
  /**
   * The wrapped port's capabilities without its TX offloads, and not a trusted link: the file must show the
   * final bytes of every frame, real checksums included.
   */
  readonly #caps: PortCapabilities;

  constructor(inner: PacketDriver, readonly path: string) {
    super(inner, 'capture');
    this.#fd = openSync(path, 'w');
    inner.stopTxChecksumOffload();
    this.#caps = { ...inner.capabilities, txChecksumOffload: false, tsoMaxBytes: 0, trustedLink: false };
    this.#header();
    this.#flush();
  }

  override get capabilities(): PortCapabilities {
    return this.#caps;
  }

  #header(): void {
    const b = this.#buf;
    // Section Header Block: byte-order magic, version 1.0, section length unknown (-1).
    let o = this.#used;
    b.writeUInt32LE(SHB, o);
    b.writeUInt32LE(28, o + 4);
    b.writeUInt32LE(0x1a2b3c4d, o + 8);
    b.writeUInt16LE(1, o + 12);
    b.writeUInt16LE(0, o + 14);
    b.writeInt32LE(-1, o + 16);
    b.writeInt32LE(-1, o + 20);
    b.writeUInt32LE(28, o + 24);
    o += 28;
    // Interface Description Block: Ethernet, no snap length limit, microsecond timestamps (the default).
    b.writeUInt32LE(IDB, o);
    b.writeUInt32LE(20, o + 4);
    b.writeUInt16LE(LINKTYPE_ETHERNET, o + 8);
    b.writeUInt16LE(0, o + 10);
    b.writeUInt32LE(0, o + 12);
    b.writeUInt32LE(20, o + 16);
    this.#used = o + 20;
  }

  #packet(frame: Uint8Array, off: number, len: number, direction: number): void {
    const padded = (len + 3) & ~3;
    const total = 28 + padded + 12 + 4; // header, data, epb_flags option and end of options, trailing length
    if (this.#used + total > BUFFER) this.#flush();
    if (total > BUFFER) return; // larger than any frame a driver carries
    const b = this.#buf;
    const o = this.#used;
    const us = Math.round((performance.timeOrigin + performance.now()) * 1000);
    b.writeUInt32LE(EPB, o);
    b.writeUInt32LE(total, o + 4);
    b.writeUInt32LE(0, o + 8);
    b.writeUInt32LE(Math.floor(us / 2 ** 32), o + 12);
    b.writeUInt32LE(us >>> 0, o + 16);
    b.writeUInt32LE(len, o + 20);
    b.writeUInt32LE(len, o + 24);
    copyBytes(frame, off, b, o + 28, len);
    b.fill(0, o + 28 + len, o + 28 + padded);
    let p = o + 28 + padded;
    b.writeUInt16LE(EPB_FLAGS, p);
    b.writeUInt16LE(4, p + 2);
    b.writeUInt32LE(direction, p + 4);
    b.writeUInt32LE(0, p + 8); // opt_endofopt
    p += 12;
    b.writeUInt32LE(total, p);
    this.#used = o + total;
    this.frames++;
  }

  #flush(): void {
    if (this.#used === 0) return;
    writeSync(this.#fd, this.#buf, 0, this.#used);
    this.#used = 0;
  }

  override rxBurst(queue: number, out: FrameBatch, max: number): number {
    const n = this.inner.rxBurst(queue, out, max);
    if (this.#closed || n === 0) return n;
    for (let i = 0; i < n; i++) this.#packet(out.buf[i], out.off[i], out.len[i], INBOUND);
    this.#flush();
    return n;
  }

  override txBurst(queue: number, batch: FrameBatch, count: number): void {
    if (!this.#closed && count > 0) {
      for (let i = 0; i < count; i++) this.#packet(batch.buf[i], batch.off[i], batch.len[i], OUTBOUND);
      this.#flush();
    }
    this.inner.txBurst(queue, batch, count);
  }

  override close(): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#flush();
      closeSync(this.#fd);
    }
    this.inner.close();
  }
}
