/**
 * A port that does in software what a NIC with TSO and TX checksum offload does, over a port without
 * offloads (a sim port): the stack hands it frames of up to `tsoMaxBytes` holding one large TCP segment,
 * and it cuts each into frames of FrameBatch.segmentBytes payload bytes (sequence numbers advanced, FIN
 * and PSH on the last piece only, IPv4 ids counted up) and fills every TCP checksum. It counts what it
 * was handed, so a test can tell large segments from MSS-sized ones.
 */
import { DriverWrapper } from '../../src/io/wrapper.ts';
import { FrameBatch, type PacketDriver, type PortCapabilities } from '../../src/stack/port.ts';
import { ETH_HLEN } from '../../src/stack/wire/ethernet.ts';
import { emitIpv4, IPPROTO_TCP, IPV4_HLEN } from '../../src/stack/wire/ipv4.ts';
import { fillTcpChecksum, TCP_FIN, TCP_PSH } from '../../src/stack/wire/tcp.ts';

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

export class SegmentingPort extends DriverWrapper {
  readonly #caps: PortCapabilities;
  /** Own TX slots, tsoMaxBytes each: the sim port's are only maxFrameBytes. */
  readonly #slots: Uint8Array;
  readonly #out = new FrameBatch(64);
  /** Frames the stack handed over, and how many of them the port cut (segmentBytes > 0). */
  handed = 0;
  cut = 0;
  /** Largest TCP payload of one frame the stack handed over. */
  largestPayload = 0;

  constructor(inner: PacketDriver, tsoMaxBytes: number) {
    super(inner, 'tso');
    this.#caps = { ...inner.capabilities, txChecksumOffload: true, tsoMaxBytes };
    this.#slots = new Uint8Array(64 * tsoMaxBytes);
  }

  override get capabilities(): PortCapabilities {
    return this.#caps;
  }

  override txAlloc(_queue: number, out: FrameBatch, max: number): number {
    const n = Math.min(max, out.capacity, 64);
    const size = this.#caps.tsoMaxBytes;
    for (let i = 0; i < n; i++) {
      out.buf[i] = this.#slots;
      out.off[i] = i * size;
      out.len[i] = size;
      out.segmentBytes[i] = 0;
    }
    out.count = n;
    return n;
  }

  override txBurst(queue: number, batch: FrameBatch, count: number): void {
    for (let i = 0; i < count; i++) this.#send(queue, batch.buf[i], batch.off[i], batch.len[i], batch.segmentBytes[i]);
    batch.count = 0;
  }

  #send(queue: number, buf: Uint8Array, off: number, len: number, segmentBytes: number): void {
    this.handed++;
    const dv = view(buf);
    const ip = off + ETH_HLEN;
    const isTcp = dv.getUint16(off + 12) === 0x0800 && buf[ip + 9] === IPPROTO_TCP;
    if (!isTcp) {
      this.#emit(queue, buf, off, len);
      return;
    }
    const tcp = ip + IPV4_HLEN;
    const hlen = (buf[tcp + 12] >>> 4) << 2;
    const headers = ETH_HLEN + IPV4_HLEN + hlen;
    const payload = len - headers;
    if (payload > this.largestPayload) this.largestPayload = payload;
    if (segmentBytes === 0 || payload <= segmentBytes) {
      this.#finish(buf, off, len);
      this.#emit(queue, buf, off, len);
      return;
    }
    this.cut++;
    const seq = dv.getUint32(tcp + 4);
    const flags = buf[tcp + 13];
    const id = dv.getUint16(ip + 4);
    const src = dv.getInt32(ip + 12);
    const dst = dv.getInt32(ip + 16);
    const piece = new Uint8Array(headers + segmentBytes);
    const pv = view(piece);
    for (let done = 0, k = 0; done < payload; done += segmentBytes, k++) {
      const n = Math.min(segmentBytes, payload - done);
      piece.set(buf.subarray(off, off + headers), 0);
      piece.set(buf.subarray(off + headers + done, off + headers + done + n), headers);
      const last = done + n === payload;
      emitIpv4(piece, ETH_HLEN, src, dst, IPPROTO_TCP, hlen + n, (id + k) & 0xffff, buf[ip + 8]);
      pv.setUint32(ETH_HLEN + IPV4_HLEN + 4, (seq + done) >>> 0);
      piece[ETH_HLEN + IPV4_HLEN + 13] = last ? flags : flags & ~(TCP_FIN | TCP_PSH);
      this.#finish(piece, 0, headers + n);
      this.#emit(queue, piece, 0, headers + n);
    }
  }

  /** Fill the TCP checksum of the frame at off (the offload). */
  #finish(buf: Uint8Array, off: number, len: number): void {
    const dv = view(buf);
    const tcp = off + ETH_HLEN + IPV4_HLEN;
    buf[tcp + 16] = 0;
    buf[tcp + 17] = 0;
    fillTcpChecksum(buf, tcp, len - ETH_HLEN - IPV4_HLEN, dv.getInt32(off + ETH_HLEN + 12), dv.getInt32(off + ETH_HLEN + 16));
  }

  #emit(queue: number, buf: Uint8Array, off: number, len: number): void {
    const out = this.#out;
    if (this.inner.txAlloc(queue, out, 1) === 0) return;
    out.buf[0].set(buf.subarray(off, off + len), out.off[0]);
    out.len[0] = len;
    this.inner.txBurst(queue, out, 1);
  }
}
