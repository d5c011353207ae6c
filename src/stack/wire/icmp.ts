/** ICMP echo, RFC 792. */
import { DropReason } from '../drop-reason.ts';
import { checksumAdd, checksumFold } from './checksum.ts';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_HLEN = 8;

export class IcmpFields {
  type = 0;
  code = 0;
  id = 0;
  seq = 0;
  payloadOff = 0;
  payloadLen = 0;
}

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
 * Write an echo request or reply with `payloadLen` bytes copied from
 * src[srcOff...]; the copy is safe when src is the same region (in-place
 * reply). Returns 8 + payloadLen.
 */
export function emitIcmpEcho(buf: Uint8Array, off: number, type: number, id: number, seq: number, src: Uint8Array, srcOff: number, payloadLen: number): number {
  const dstOff = off + ICMP_HLEN;
  // TypedArray#set copies as memmove does when both views share a buffer.
  if (src !== buf || srcOff !== dstOff) buf.set(src.subarray(srcOff, srcOff + payloadLen), dstOff);
  buf[off] = type;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = id >>> 8;
  buf[off + 5] = id & 0xff;
  buf[off + 6] = seq >>> 8;
  buf[off + 7] = seq & 0xff;
  const c = checksumFold(checksumAdd(buf, off, ICMP_HLEN + payloadLen, 0));
  buf[off + 2] = c >>> 8;
  buf[off + 3] = c & 0xff;
  return ICMP_HLEN + payloadLen;
}
