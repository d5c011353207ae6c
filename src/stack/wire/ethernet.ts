/** Ethernet II frames (IEEE 802.3, DIX framing). MACs are 48-bit integers. */
import { DropReason } from '../drop-reason.ts';

export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const MAC_BROADCAST = 0xffffffffffff;

const DST = 0;
const SRC = 6;
const TYPE = 12;

/** The 48-bit MAC at off (02:00:00:00:00:01 is 0x020000000001). */
export function readMac(buf: Uint8Array, off: number): number {
  return ((buf[off] << 8) | buf[off + 1]) * 0x100000000 +
    (((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0);
}

/** Write the 48-bit MAC `mac` as 6 bytes at off. */
export function writeMac(buf: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / 0x100000000);
  const lo = mac >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi & 0xff;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = (lo >>> 16) & 0xff;
  buf[off + 4] = (lo >>> 8) & 0xff;
  buf[off + 5] = lo & 0xff;
}

/**
 * The 6 bytes of a MAC, for the packet path (a 48-bit number would be boxed on
 * each use). Allocates: call it at setup, not per packet.
 */
export function macBytes(mac: number): Uint8Array {
  const b = new Uint8Array(6);
  writeMac(b, 0, mac);
  return b;
}

/** Whether the 6 bytes at off equal `mac` (its macBytes). */
export function macEquals(buf: Uint8Array, off: number, mac: Uint8Array): boolean {
  return buf[off] === mac[0] && buf[off + 1] === mac[1] && buf[off + 2] === mac[2] &&
    buf[off + 3] === mac[3] && buf[off + 4] === mac[4] && buf[off + 5] === mac[5];
}

/** Whether the 6 bytes at off are ff:ff:ff:ff:ff:ff. */
export function isBroadcast(buf: Uint8Array, off: number): boolean {
  return (buf[off] & buf[off + 1] & buf[off + 2] & buf[off + 3] & buf[off + 4] & buf[off + 5]) === 0xff;
}

/** Write an Ethernet header from MAC bytes. Returns 14. */
export function emitEthernetBytes(buf: Uint8Array, off: number, dst: Uint8Array, src: Uint8Array, type: number): number {
  for (let i = 0; i < 6; i++) {
    buf[off + DST + i] = dst[i];
    buf[off + SRC + i] = src[i];
  }
  buf[off + TYPE] = type >>> 8;
  buf[off + TYPE + 1] = type & 0xff;
  return ETH_HLEN;
}

/** Destination MAC of the frame at off. */
export function ethDst(buf: Uint8Array, off: number): number {
  return readMac(buf, off + DST);
}

/** Source MAC of the frame at off. */
export function ethSrc(buf: Uint8Array, off: number): number {
  return readMac(buf, off + SRC);
}

/** EtherType of the frame at off. */
export function ethType(buf: Uint8Array, off: number): number {
  return (buf[off + TYPE] << 8) | buf[off + TYPE + 1];
}

/** An Ethernet header's fields; one instance is reused for every frame. */
export class EthernetFields {
  /** Destination MAC (48-bit). */
  dst = 0;
  /** Source MAC (48-bit). */
  src = 0;
  /** EtherType. */
  type = 0;
  /** Absolute offset of the payload in the buffer. */
  payloadOff = 0;
  /** Payload length: the rest of the frame (padding included). */
  payloadLen = 0;
}

/** Parse the frame of `len` bytes at off: EthTooShort under 14 bytes. */
export function parseEthernet(buf: Uint8Array, off: number, len: number, out: EthernetFields): DropReason {
  if (len < ETH_HLEN) return DropReason.EthTooShort;
  out.dst = readMac(buf, off + DST);
  out.src = readMac(buf, off + SRC);
  out.type = ethType(buf, off);
  out.payloadOff = off + ETH_HLEN;
  out.payloadLen = len - ETH_HLEN;
  return DropReason.None;
}

/** Write an Ethernet header. Returns 14. */
export function emitEthernet(buf: Uint8Array, off: number, dst: number, src: number, type: number): number {
  writeMac(buf, off + DST, dst);
  writeMac(buf, off + SRC, src);
  buf[off + TYPE] = type >>> 8;
  buf[off + TYPE + 1] = type & 0xff;
  return ETH_HLEN;
}
