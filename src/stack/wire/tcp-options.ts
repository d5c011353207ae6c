/** TCP options: RFC 9293 §3.2 (EOL, NOP, MSS), RFC 7323 (window scale, timestamps), RFC 2018 (SACK). */
import { DropReason } from '../drop-reason.ts';
import { read32, write32 } from './bytes.ts';
import { asSeq, asTsVal, seqValue, type SeqArray, type TsVal } from './seqnum.ts';

export const OPT_EOL = 0;
export const OPT_NOP = 1;
export const OPT_MSS = 2;
export const OPT_WSCALE = 3;
export const OPT_SACK_PERMITTED = 4;
export const OPT_SACK = 5;
export const OPT_TIMESTAMP = 8;
/** Largest window shift. RFC 7323 §2.3 */
export const MAX_WSCALE = 14;
export const TCP_MAX_SACK_BLOCKS = 4;
/** Room for options in a header. */
export const TCP_MAX_OPTIONS_LEN = 40;

/** The option fields of TcpFields (declared there); -1 / false / 0 mean absent. */
export interface TcpOptionFields {
  /** MSS option, -1 when absent. */
  mss: number;
  /** Window scale shift (0..14), -1 when absent. */
  wscale: number;
  /** SACK-permitted option present. */
  sackPermitted: boolean;
  /** Timestamps option present. */
  hasTimestamp: boolean;
  /** TSval, 0 when absent. */
  tsVal: TsVal;
  /** TSecr, 0 when absent. */
  tsEcr: TsVal;
  /** SACK blocks present (0..4). */
  sackCount: number;
  /** Left edges of the SACK blocks (int32 sequence numbers). */
  readonly sackLeft: SeqArray;
  /** Right edges (exclusive) of the SACK blocks. */
  readonly sackRight: SeqArray;
}

/** The timestamp fields' value when the option is absent. */
const TS_ABSENT = asTsVal(0);

/** Mark every option of `out` absent. */
export function resetTcpOptions(out: TcpOptionFields): void {
  out.mss = -1;
  out.wscale = -1;
  out.sackPermitted = false;
  out.hasTimestamp = false;
  out.tsVal = TS_ABSENT;
  out.tsEcr = TS_ABSENT;
  out.sackCount = 0;
}

/**
 * Parse the option bytes [off, off + len) into `out`, resetting its option
 * fields first. EOL ends the list, NOP is skipped, MSS / WS / SACK-permitted /
 * SACK / timestamps are stored (a window shift above 14 is clamped to 14,
 * RFC 7323 §2.3), unknown kinds are skipped by their length. A malformed list
 * (a kind without its length byte, a length below 2, an option running past
 * the header, a known option with the wrong length, SACK with 0 or more than
 * 4 blocks) returns TcpBadOption; `out` may then hold part of the options.
 */
export function parseTcpOptions(buf: Uint8Array, off: number, len: number, out: TcpOptionFields): DropReason {
  resetTcpOptions(out);
  return parseTcpOptionList(buf, off, len, out);
}

/** parseTcpOptions without the reset: the caller has reset `out`. */
export function parseTcpOptionList(buf: Uint8Array, off: number, len: number, out: TcpOptionFields): DropReason {
  let i = off;
  const end = off + len;
  while (i < end) {
    const kind = buf[i];
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return DropReason.TcpBadOption;
    const olen = buf[i + 1];
    if (olen < 2 || i + olen > end) return DropReason.TcpBadOption;
    switch (kind) {
      case OPT_MSS: // RFC 9293 §3.2
        if (olen !== 4) return DropReason.TcpBadOption;
        out.mss = (buf[i + 2] << 8) | buf[i + 3];
        break;
      case OPT_WSCALE: {
        if (olen !== 3) return DropReason.TcpBadOption;
        const shift = buf[i + 2];
        out.wscale = shift > MAX_WSCALE ? MAX_WSCALE : shift; // RFC 7323 §2.3: clamp, log
        break;
      }
      case OPT_SACK_PERMITTED: // RFC 2018 §2
        if (olen !== 2) return DropReason.TcpBadOption;
        out.sackPermitted = true;
        break;
      case OPT_SACK: { // RFC 2018 §3
        const n = (olen - 2) >> 3;
        if (olen < 10 || (olen - 2) % 8 !== 0 || n > TCP_MAX_SACK_BLOCKS) return DropReason.TcpBadOption;
        for (let k = 0; k < n; k++) {
          out.sackLeft[k] = asSeq(read32(buf, i + 2 + k * 8));
          out.sackRight[k] = asSeq(read32(buf, i + 6 + k * 8));
        }
        out.sackCount = n;
        break;
      }
      case OPT_TIMESTAMP: // RFC 7323 §3.2
        if (olen !== 10) return DropReason.TcpBadOption;
        out.hasTimestamp = true;
        out.tsVal = asTsVal(read32(buf, i + 2));
        out.tsEcr = asTsVal(read32(buf, i + 6));
        break;
      default:
        break; // unknown: skip by its length
    }
    i += olen;
  }
  return DropReason.None;
}

/** SACK blocks that fit beside the other options present. */
function sackBlocksThatFit(f: TcpOptionFields, fixedLen: number): number {
  if (f.sackCount === 0) return 0;
  const room = TCP_MAX_OPTIONS_LEN - fixedLen - 4; // NOP NOP kind len
  const n = Math.floor(room / 8);
  return Math.max(0, Math.min(n, f.sackCount, TCP_MAX_SACK_BLOCKS));
}

function fixedOptionsLen(f: TcpOptionFields): number {
  let n = 0;
  if (f.mss >= 0) n += 4;
  if (f.sackPermitted && f.hasTimestamp) n += 12; // SACK_PERM + TS packed
  else {
    if (f.sackPermitted) n += 4; // NOP NOP SACK_PERM
    if (f.hasTimestamp) n += 12; // NOP NOP TS
  }
  if (f.wscale >= 0) n += 4; // NOP WS
  return n;
}

/** Bytes the options of `f` take, a multiple of 4. */
export function tcpOptionsLen(f: TcpOptionFields): number {
  const fixed = fixedOptionsLen(f);
  const sack = sackBlocksThatFit(f, fixed);
  return fixed + (sack > 0 ? 4 + sack * 8 : 0);
}

/**
 * Write the options of `f` at off in Linux's layout (SYN: MSS, SACK_PERM,
 * TS, NOP, WS; data: NOP NOP TS; then NOP NOP SACK). Returns bytes written.
 */
export function emitTcpOptions(buf: Uint8Array, off: number, f: TcpOptionFields): number {
  let i = off;
  if (f.mss >= 0) {
    buf[i] = OPT_MSS;
    buf[i + 1] = 4;
    buf[i + 2] = f.mss >>> 8;
    buf[i + 3] = f.mss & 0xff;
    i += 4;
  }
  if (f.sackPermitted && f.hasTimestamp) {
    buf[i] = OPT_SACK_PERMITTED;
    buf[i + 1] = 2;
    buf[i + 2] = OPT_TIMESTAMP;
    buf[i + 3] = 10;
    write32(buf, i + 4, seqValue(f.tsVal));
    write32(buf, i + 8, seqValue(f.tsEcr));
    i += 12;
  } else {
    if (f.sackPermitted) {
      buf[i] = OPT_NOP;
      buf[i + 1] = OPT_NOP;
      buf[i + 2] = OPT_SACK_PERMITTED;
      buf[i + 3] = 2;
      i += 4;
    }
    if (f.hasTimestamp) {
      buf[i] = OPT_NOP;
      buf[i + 1] = OPT_NOP;
      buf[i + 2] = OPT_TIMESTAMP;
      buf[i + 3] = 10;
      write32(buf, i + 4, seqValue(f.tsVal));
      write32(buf, i + 8, seqValue(f.tsEcr));
      i += 12;
    }
  }
  if (f.wscale >= 0) {
    buf[i] = OPT_NOP;
    buf[i + 1] = OPT_WSCALE;
    buf[i + 2] = 3;
    buf[i + 3] = f.wscale;
    i += 4;
  }
  const sack = sackBlocksThatFit(f, i - off);
  if (sack > 0) {
    buf[i] = OPT_NOP;
    buf[i + 1] = OPT_NOP;
    buf[i + 2] = OPT_SACK;
    buf[i + 3] = 2 + sack * 8;
    i += 4;
    for (let k = 0; k < sack; k++) {
      write32(buf, i, seqValue(f.sackLeft[k]));
      write32(buf, i + 4, seqValue(f.sackRight[k]));
      i += 8;
    }
  }
  return i - off;
}
