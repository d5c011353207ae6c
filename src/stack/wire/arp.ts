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

export class ArpFields {
  op = 0;
  /** Sender hardware and protocol address. */
  sha = 0;
  spa = 0;
  /** Target hardware and protocol address. */
  tha = 0;
  tpa = 0;
}

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
