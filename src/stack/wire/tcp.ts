/** TCP headers, RFC 9293 §3.1, parsed and built in place. */
import { DropReason } from '../drop-reason.ts';
import { read32, write32 } from './bytes.ts';
import { checksumAdd, checksumFold, pseudoHeaderSum } from './checksum.ts';
import { asSeq, asTsVal, seqValue, seqArray, type Seq } from './seqnum.ts';
import { IPPROTO_TCP } from './ipv4.ts';
import { emitTcpOptions, parseTcpOptionList, resetTcpOptions, tcpOptionsLen, TCP_MAX_SACK_BLOCKS, type TcpOptionFields } from './tcp-options.ts';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;
export const TCP_HLEN = 20;
/** Longest TCP header: a data offset of 15 words. RFC 9293 §3.1 */
export const TCP_MAX_HLEN = 60;
export { TCP_MAX_SACK_BLOCKS };

const SRC_PORT = 0;
const DST_PORT = 2;
const SEQ = 4;
const ACK = 8;
const DATA_OFF = 12;
const FLAGS = 13;
const WINDOW = 14;
const CHECKSUM = 16;
const URGENT = 18;

/**
 * A TCP header's fields and options; one instance is reused for every
 * segment. Sequence numbers and timestamps are branded int32s (wire/seqnum.ts).
 */
export class TcpFields implements TcpOptionFields {
  /** Source port. */
  srcPort = 0;
  /** Destination port. */
  dstPort = 0;
  /** Sequence number. */
  seq: Seq = asSeq(0);
  /** Acknowledgment number. */
  ack: Seq = asSeq(0);
  /** Header length in bytes, options included (set by parseTcp; emitTcp ignores it). */
  headerLen = 0;
  /** Flag bits, TCP_FIN..TCP_CWR. */
  flags = 0;
  /** Window field as sent (unscaled). */
  window = 0;
  /** Urgent pointer. */
  urgent = 0;
  /** Absolute offset of the payload in the buffer (set by parseTcp; emitTcp ignores it). */
  payloadOff = 0;
  /** Payload length (set by parseTcp; emitTcp ignores it). */
  payloadLen = 0;
  /** MSS option, -1 when absent. */
  mss = -1;
  /** Window scale shift (0..14), -1 when absent. */
  wscale = -1;
  /** SACK-permitted option present. */
  sackPermitted = false;
  /** Timestamps option present. */
  hasTimestamp = false;
  /** TSval, 0 when absent. */
  tsVal = asTsVal(0);
  /** TSecr, 0 when absent. */
  tsEcr = asTsVal(0);
  /** SACK blocks present (0..4), as [left, right) pairs. */
  sackCount = 0;
  /** Left edges of the SACK blocks. */
  readonly sackLeft = seqArray(TCP_MAX_SACK_BLOCKS);
  /** Right edges (exclusive) of the SACK blocks. */
  readonly sackRight = seqArray(TCP_MAX_SACK_BLOCKS);
}

/** Whether the segment's checksum (with the IPv4 pseudo-header) is right. */
export function tcpChecksumOk(buf: Uint8Array, off: number, len: number, srcIp: number, dstIp: number): boolean {
  return checksumFold(checksumAdd(buf, off, len, pseudoHeaderSum(srcIp, dstIp, IPPROTO_TCP, len))) === 0;
}

/**
 * Parse the segment of `len` bytes at off (the IP payload: header, options
 * and data) into `out`, whose option fields are reset first. Checks, in
 * order: TcpTooShort (< 20), TcpBadDataOffset (data offset below 5 words or
 * past len), TcpBadChecksum (pseudo-header with srcIp, dstIp and `len`; only
 * when verifyChecksum), then the options (TcpBadOption, see parseTcpOptions).
 */
export function parseTcp(
  buf: Uint8Array, off: number, len: number, srcIp: number, dstIp: number, out: TcpFields, verifyChecksum: boolean,
): DropReason {
  resetTcpOptions(out);
  if (len < TCP_HLEN) return DropReason.TcpTooShort;
  const hlen = (buf[off + DATA_OFF] >>> 4) << 2;
  if (hlen < TCP_HLEN || hlen > len) return DropReason.TcpBadDataOffset;
  if (verifyChecksum && !tcpChecksumOk(buf, off, len, srcIp, dstIp)) return DropReason.TcpBadChecksum;
  out.srcPort = (buf[off + SRC_PORT] << 8) | buf[off + SRC_PORT + 1];
  out.dstPort = (buf[off + DST_PORT] << 8) | buf[off + DST_PORT + 1];
  out.seq = asSeq(read32(buf, off + SEQ));
  out.ack = asSeq(read32(buf, off + ACK));
  out.headerLen = hlen;
  out.flags = buf[off + FLAGS];
  out.window = (buf[off + WINDOW] << 8) | buf[off + WINDOW + 1];
  out.urgent = (buf[off + URGENT] << 8) | buf[off + URGENT + 1];
  out.payloadOff = off + hlen;
  out.payloadLen = len - hlen;
  return parseTcpOptionList(buf, off + TCP_HLEN, hlen - TCP_HLEN, out);
}

/**
 * Header length (options included, a multiple of 4) that emitTcp writes for
 * `f`: 20 plus MSS if mss >= 0, WS if wscale >= 0, SACK-permitted if
 * sackPermitted, timestamps if hasTimestamp, and as many of the sackCount
 * SACK blocks as fit in the 40 option bytes (3 beside timestamps).
 */
export function tcpHeaderLen(f: TcpFields): number {
  return TCP_HLEN + tcpOptionsLen(f);
}

/**
 * Write the header and options of `f` at off in Linux's layout (see
 * emitTcpOptions). The payload (payloadLen bytes) must already be in place at
 * off + tcpHeaderLen(f); the checksum covers the pseudo-header, header and
 * payload, unless `fillChecksum` is false (a port with TCP checksum offload
 * fills it). f.headerLen, f.payloadOff and f.payloadLen are not read.
 * Returns the header length.
 */
export function emitTcp(
  buf: Uint8Array, off: number, f: TcpFields, srcIp: number, dstIp: number, payloadLen: number, fillChecksum = true,
): number {
  const optLen = emitTcpOptions(buf, off + TCP_HLEN, f);
  const hlen = TCP_HLEN + optLen;
  buf[off + SRC_PORT] = f.srcPort >>> 8;
  buf[off + SRC_PORT + 1] = f.srcPort & 0xff;
  buf[off + DST_PORT] = f.dstPort >>> 8;
  buf[off + DST_PORT + 1] = f.dstPort & 0xff;
  write32(buf, off + SEQ, seqValue(f.seq));
  write32(buf, off + ACK, seqValue(f.ack));
  buf[off + DATA_OFF] = (hlen >>> 2) << 4;
  buf[off + FLAGS] = f.flags;
  buf[off + WINDOW] = f.window >>> 8;
  buf[off + WINDOW + 1] = f.window & 0xff;
  buf[off + CHECKSUM] = 0;
  buf[off + CHECKSUM + 1] = 0;
  buf[off + URGENT] = f.urgent >>> 8;
  buf[off + URGENT + 1] = f.urgent & 0xff;
  if (fillChecksum) fillTcpChecksum(buf, off, hlen + payloadLen, srcIp, dstIp);
  return hlen;
}

/**
 * Compute and write the checksum of the `len`-byte segment at off (header, options and payload, with the IPv4
 * pseudo-header); the checksum field must be zero. What a port with TX checksum offload does. RFC 9293 §3.1
 */
export function fillTcpChecksum(buf: Uint8Array, off: number, len: number, srcIp: number, dstIp: number): void {
  const c = checksumFold(checksumAdd(buf, off, len, pseudoHeaderSum(srcIp, dstIp, IPPROTO_TCP, len)));
  buf[off + CHECKSUM] = c >>> 8;
  buf[off + CHECKSUM + 1] = c & 0xff;
}
