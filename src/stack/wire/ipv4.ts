/** IPv4 headers, RFC 791. Options are skipped; fragments are dropped. */
import { DropReason } from '../drop-reason.ts';
import { read32, write32 } from './bytes.ts';
import { checksumAdd, checksumFold } from './checksum.ts';

export const IPV4_HLEN = 20;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;

const VER_IHL = 0;
const TOTAL_LEN = 2;
const ID = 4;
const FLAGS_FRAG = 6;
const TTL = 8;
const PROTO = 9;
const CHECKSUM = 10;
const SRC = 12;
const DST = 16;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_OFFSET_MASK = 0x1fff;

/** An IPv4 header's fields; one instance is reused for every datagram. */
export class Ipv4Fields {
  /** Header length in bytes (IHL × 4), options included. */
  headerLen = 0;
  /** Total length field: header plus payload. */
  totalLen = 0;
  /** Identification. */
  id = 0;
  /** Flags (DF 0x4000, MF 0x2000) and fragment offset, as the 16-bit field. */
  flagsFrag = 0;
  /** Time to live. */
  ttl = 0;
  /** Protocol (IPPROTO_TCP, IPPROTO_ICMP...). */
  proto = 0;
  /** Source address (int32). */
  src = 0;
  /** Destination address (int32). */
  dst = 0;
  /** Absolute offset of the payload in the buffer (options skipped). */
  payloadOff = 0;
  /** Payload length: totalLen - headerLen (link-layer padding excluded). */
  payloadLen = 0;
}

/**
 * Parse the datagram at off, of which `len` bytes are in the buffer. Checks,
 * in order: IpTooShort (< 20), IpBadVersion, IpBadHeaderLen (IHL < 5 or past
 * len), IpBadTotalLen (below the header or past len; bytes beyond the total
 * length are link padding and ignored), IpBadChecksum, IpFragment (MF set or
 * a non-zero offset: this stack does not reassemble). RFC 791 §3.1.
 */
export function parseIpv4(buf: Uint8Array, off: number, len: number, out: Ipv4Fields): DropReason {
  if (len < IPV4_HLEN) return DropReason.IpTooShort;
  const vi = buf[off + VER_IHL];
  if (vi >>> 4 !== 4) return DropReason.IpBadVersion;
  const hlen = (vi & 0x0f) << 2;
  if (hlen < IPV4_HLEN || hlen > len) return DropReason.IpBadHeaderLen;
  const total = (buf[off + TOTAL_LEN] << 8) | buf[off + TOTAL_LEN + 1];
  // Frames may carry padding after the datagram; bytes beyond totalLen are ignored.
  if (total < hlen || total > len) return DropReason.IpBadTotalLen;
  if (checksumFold(checksumAdd(buf, off, hlen, 0)) !== 0) return DropReason.IpBadChecksum;
  const ff = (buf[off + FLAGS_FRAG] << 8) | buf[off + FLAGS_FRAG + 1];
  if (ff & FLAG_MF || ff & FRAG_OFFSET_MASK) return DropReason.IpFragment;
  out.headerLen = hlen;
  out.totalLen = total;
  out.id = (buf[off + ID] << 8) | buf[off + ID + 1];
  out.flagsFrag = ff;
  out.ttl = buf[off + TTL];
  out.proto = buf[off + PROTO];
  out.src = read32(buf, off + SRC);
  out.dst = read32(buf, off + DST);
  out.payloadOff = off + hlen;
  out.payloadLen = total - hlen;
  return DropReason.None;
}

/**
 * Write a 20-byte header (no options, TOS 0, DF set as Linux does for TCP)
 * for `payloadLen` bytes of payload, with its checksum. Returns 20.
 */
export function emitIpv4(buf: Uint8Array, off: number, src: number, dst: number, proto: number, payloadLen: number, id: number, ttl: number): number {
  const total = IPV4_HLEN + payloadLen;
  buf[off + VER_IHL] = 0x45;
  buf[off + 1] = 0;
  buf[off + TOTAL_LEN] = total >>> 8;
  buf[off + TOTAL_LEN + 1] = total & 0xff;
  buf[off + ID] = (id >>> 8) & 0xff;
  buf[off + ID + 1] = id & 0xff;
  buf[off + FLAGS_FRAG] = FLAG_DF >>> 8;
  buf[off + FLAGS_FRAG + 1] = 0;
  buf[off + TTL] = ttl;
  buf[off + PROTO] = proto;
  buf[off + CHECKSUM] = 0;
  buf[off + CHECKSUM + 1] = 0;
  write32(buf, off + SRC, src);
  write32(buf, off + DST, dst);
  const c = checksumFold(checksumAdd(buf, off, IPV4_HLEN, 0));
  buf[off + CHECKSUM] = c >>> 8;
  buf[off + CHECKSUM + 1] = c & 0xff;
  return IPV4_HLEN;
}
