/** TCP headers, RFC 9293 §3.1, parsed and built in place. */
import { DropReason } from '../drop-reason.ts';
import { read32, write32 } from './bytes.ts';
import { checksumAdd, checksumFold, pseudoHeaderSum } from './checksum.ts';
import { IPPROTO_TCP } from './ipv4.ts';
import { emitTcpOptions, parseTcpOptions, tcpOptionsLen, TCP_MAX_SACK_BLOCKS, type TcpOptionFields } from './tcp-options.ts';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;
export const TCP_HLEN = 20;
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

/** A TCP header's fields and options; one instance is reused for every segment. */
export class TcpFields implements TcpOptionFields {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  /** Header length in bytes, options included. */
  headerLen = 0;
  flags = 0;
  /** Window field as sent (unscaled). */
  window = 0;
  urgent = 0;
  /** Absolute offset and length of the payload in the frame's buffer. */
  payloadOff = 0;
  payloadLen = 0;
  /** MSS option, -1 when absent. */
  mss = -1;
  /** Window scale shift, -1 when absent. */
  wscale = -1;
  sackPermitted = false;
  hasTimestamp = false;
  tsVal = 0;
  tsEcr = 0;
  /** SACK blocks present (0..4), as [left, right) pairs. */
  sackCount = 0;
  readonly sackLeft = new Int32Array(TCP_MAX_SACK_BLOCKS);
  readonly sackRight = new Int32Array(TCP_MAX_SACK_BLOCKS);
}

/** Whether the segment's checksum (with the IPv4 pseudo-header) is right. */
export function tcpChecksumOk(buf: Uint8Array, off: number, len: number, srcIp: number, dstIp: number): boolean {
  return checksumFold(checksumAdd(buf, off, len, pseudoHeaderSum(srcIp, dstIp, IPPROTO_TCP, len))) === 0;
}

/** Parse the segment of `len` bytes at off into `out`. */
export function parseTcp(
  buf: Uint8Array, off: number, len: number, srcIp: number, dstIp: number, out: TcpFields, verifyChecksum: boolean,
): DropReason {
  if (len < TCP_HLEN) return DropReason.TcpTooShort;
  const hlen = (buf[off + DATA_OFF] >>> 4) << 2;
  if (hlen < TCP_HLEN || hlen > len) return DropReason.TcpBadDataOffset;
  if (verifyChecksum && !tcpChecksumOk(buf, off, len, srcIp, dstIp)) return DropReason.TcpBadChecksum;
  out.srcPort = (buf[off + SRC_PORT] << 8) | buf[off + SRC_PORT + 1];
  out.dstPort = (buf[off + DST_PORT] << 8) | buf[off + DST_PORT + 1];
  out.seq = read32(buf, off + SEQ);
  out.ack = read32(buf, off + ACK);
  out.headerLen = hlen;
  out.flags = buf[off + FLAGS];
  out.window = (buf[off + WINDOW] << 8) | buf[off + WINDOW + 1];
  out.urgent = (buf[off + URGENT] << 8) | buf[off + URGENT + 1];
  out.payloadOff = off + hlen;
  out.payloadLen = len - hlen;
  return parseTcpOptions(buf, off + TCP_HLEN, hlen - TCP_HLEN, out);
}

/** Header length (options included) that emitTcp will write for `f`. */
export function tcpHeaderLen(f: TcpFields): number {
  return TCP_HLEN + tcpOptionsLen(f);
}

/**
 * Write the header and options of `f` at off. The payload (payloadLen bytes)
 * must already be in place right after the header; the checksum covers it.
 * Returns the header length.
 */
export function emitTcp(buf: Uint8Array, off: number, f: TcpFields, srcIp: number, dstIp: number, payloadLen: number): number {
  const optLen = emitTcpOptions(buf, off + TCP_HLEN, f);
  const hlen = TCP_HLEN + optLen;
  buf[off + SRC_PORT] = f.srcPort >>> 8;
  buf[off + SRC_PORT + 1] = f.srcPort & 0xff;
  buf[off + DST_PORT] = f.dstPort >>> 8;
  buf[off + DST_PORT + 1] = f.dstPort & 0xff;
  write32(buf, off + SEQ, f.seq);
  write32(buf, off + ACK, f.ack);
  buf[off + DATA_OFF] = (hlen >>> 2) << 4;
  buf[off + FLAGS] = f.flags;
  buf[off + WINDOW] = f.window >>> 8;
  buf[off + WINDOW + 1] = f.window & 0xff;
  buf[off + CHECKSUM] = 0;
  buf[off + CHECKSUM + 1] = 0;
  buf[off + URGENT] = f.urgent >>> 8;
  buf[off + URGENT + 1] = f.urgent & 0xff;
  const len = hlen + payloadLen;
  const c = checksumFold(checksumAdd(buf, off, len, pseudoHeaderSum(srcIp, dstIp, IPPROTO_TCP, len)));
  buf[off + CHECKSUM] = c >>> 8;
  buf[off + CHECKSUM + 1] = c & 0xff;
  return hlen;
}
