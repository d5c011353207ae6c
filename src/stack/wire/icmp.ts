/** ICMP echo, RFC 792. */
import { DropReason } from '../drop-reason.ts';
import { checksumAdd, checksumFold } from './checksum.ts';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_HLEN = 8;

/** An ICMP message's fields; one instance is reused for every message. */
export class IcmpFields {
  /** Message type (ICMP_ECHO_REQUEST...). */
  type = 0;
  /** Code. */
  code = 0;
  /** Echo identifier (bytes 4-5; meaningless for other types). */
  id = 0;
  /** Echo sequence number (bytes 6-7; meaningless for other types). */
  seq = 0;
  /** Absolute offset of the data after the 8-byte header. */
  payloadOff = 0;
  /** Length of that data. */
  payloadLen = 0;
}

/**
 * Parse the ICMP message of `len` bytes at off (the IP payload length):
 * IcmpTooShort under 8 bytes, IcmpBadChecksum. Every type is accepted; the
 * caller decides what to answer.
 */
export function parseIcmp(buf: Uint8Array, off: number, len: number, out: IcmpFields): DropReason {
  if (len < ICMP_HLEN) return DropReason.IcmpTooShort;
  if (checksumFold(checksumAdd(buf, off, len, 0)) !== 0) return DropReason.IcmpBadChecksum;
  out.type = buf[off];
  out.code = buf[off + 1];
  out.id = (buf[off + 4] << 8) | buf[off + 5];
  out.seq = (buf[off + 6] << 8) | buf[off + 7];
  out.payloadOff = off + ICMP_HLEN;
  out.payloadLen = len - ICMP_HLEN;
  return DropReason.None;
}

/**
 * Write an echo request or reply at off with `payloadLen` bytes copied from
 * src[srcOff...], and its checksum. Returns 8 + payloadLen.
 *
 * The copy is a memmove: the source may overlap the destination, in
 * particular it may be exactly the request's data (src === buf,
 * srcOff === off + 8) to turn a request into a reply in place, in which case
 * nothing is copied. Nothing is allocated.
 */
export function emitIcmpEcho(buf: Uint8Array, off: number, type: number, id: number, seq: number, src: Uint8Array, srcOff: number, payloadLen: number): number {
  const dstOff = off + ICMP_HLEN;
  if (src === buf) {
    if (srcOff !== dstOff) buf.copyWithin(dstOff, srcOff, srcOff + payloadLen);
  } else if (src.buffer === buf.buffer && src.byteOffset + srcOff < buf.byteOffset + dstOff) {
    // Two views of one arena, the source below the destination: copy backwards.
    for (let k = payloadLen - 1; k >= 0; k--) buf[dstOff + k] = src[srcOff + k];
  } else {
    for (let k = 0; k < payloadLen; k++) buf[dstOff + k] = src[srcOff + k];
  }
  buf[off] = type;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = (id >>> 8) & 0xff;
  buf[off + 5] = id & 0xff;
  buf[off + 6] = (seq >>> 8) & 0xff;
  buf[off + 7] = seq & 0xff;
  const c = checksumFold(checksumAdd(buf, off, ICMP_HLEN + payloadLen, 0));
  buf[off + 2] = c >>> 8;
  buf[off + 3] = c & 0xff;
  return ICMP_HLEN + payloadLen;
}
