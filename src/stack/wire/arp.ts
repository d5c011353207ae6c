/** ARP for IPv4 over Ethernet, RFC 826. */
import { DropReason } from '../drop-reason.ts';
import { read32, write32 } from './bytes.ts';
import { readMac, writeMac } from './ethernet.ts';

export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

const HTYPE = 0;
const PTYPE = 2;
const HLEN = 4;
const PLEN = 5;
const OP = 6;
const SHA = 8;
const SPA = 14;
const THA = 18;
const TPA = 24;

/** An ARP packet's fields; one instance is reused for every packet. */
export class ArpFields {
  /** Operation: ARP_REQUEST or ARP_REPLY. */
  op = 0;
  /** Sender hardware address (48-bit MAC). */
  sha = 0;
  /** Sender protocol address (IPv4, int32). */
  spa = 0;
  /** Target hardware address (48-bit MAC; 0 in a request). */
  tha = 0;
  /** Target protocol address (IPv4, int32). */
  tpa = 0;
}

/**
 * Parse the ARP packet of `len` bytes at off: ArpTooShort under 28 bytes,
 * ArpUnsupported unless Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4)
 * with op request or reply. Bytes beyond 28 (frame padding) are ignored.
 */
export function parseArp(buf: Uint8Array, off: number, len: number, out: ArpFields): DropReason {
  if (len < ARP_LEN) return DropReason.ArpTooShort;
  const htype = (buf[off + HTYPE] << 8) | buf[off + HTYPE + 1];
  const ptype = (buf[off + PTYPE] << 8) | buf[off + PTYPE + 1];
  const op = (buf[off + OP] << 8) | buf[off + OP + 1];
  if (htype !== 1 || ptype !== 0x0800 || buf[off + HLEN] !== 6 || buf[off + PLEN] !== 4) return DropReason.ArpUnsupported;
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return DropReason.ArpUnsupported;
  out.op = op;
  out.sha = readMac(buf, off + SHA);
  out.spa = read32(buf, off + SPA);
  out.tha = readMac(buf, off + THA);
  out.tpa = read32(buf, off + TPA);
  return DropReason.None;
}

/** Write an Ethernet/IPv4 ARP packet. Returns 28. */
export function emitArp(buf: Uint8Array, off: number, op: number, sha: number, spa: number, tha: number, tpa: number): number {
  buf[off + HTYPE] = 0;
  buf[off + HTYPE + 1] = 1;
  buf[off + PTYPE] = 0x08;
  buf[off + PTYPE + 1] = 0;
  buf[off + HLEN] = 6;
  buf[off + PLEN] = 4;
  buf[off + OP] = 0;
  buf[off + OP + 1] = op;
  writeMac(buf, off + SHA, sha);
  write32(buf, off + SPA, spa);
  writeMac(buf, off + THA, tha);
  write32(buf, off + TPA, tpa);
  return ARP_LEN;
}
