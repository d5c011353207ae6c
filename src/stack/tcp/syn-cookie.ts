/**
 * SYN cookies, RFC 4987 §3.6: when a listener's queue is full, answer a SYN
 * without keeping state, encoding what is needed to rebuild the connection
 * in our initial sequence number, and rebuild it from the returning ACK.
 *
 * Cookie layout (32 bits): 24 bits of a keyed hash (HalfSipHash) of the
 * 4-tuple, the peer's ISN, a 64-second counter and the MSS index; then 5 bits
 * of that counter; then 3 bits indexing the MSS table. A cookie is valid for the
 * counter value it was made in and the one before (64 to 128 seconds).
 * Options other than the MSS cannot be kept, so such a connection runs
 * without window scaling, timestamps and SACK (as Linux's do without TS).
 */
import { asSeq, seqValue, type Seq } from '../wire/seqnum.ts';
import { halfSipHash24 } from './isn.ts';

/** The MSS values a cookie can carry (Linux's msstab, plus jumbo sizes). */
const MSS_TABLE = [536, 1300, 1440, 1460, 4312, 8960];
/** The counter advances every 2^16 ms (about 65 s). */
const PERIOD_SHIFT = 16;

export class SynCookies {
  readonly #k0: number;
  readonly #k1: number;

  constructor(key0: number, key1: number) {
    this.#k0 = key0 | 0;
    this.#k1 = key1 | 0;
  }

  /** The authenticated top 24 bits: they cover the 4-tuple, the peer's ISN, the period and the MSS index. */
  #hash(period: number, idx: number, localIp: number, localPort: number, remoteIp: number, remotePort: number, peerIss: number): number {
    return halfSipHash24(this.#k0 ^ period, this.#k1 ^ idx, localIp ^ peerIss, remoteIp, (localPort << 16) | remotePort) & ~0xff;
  }

  /** Our ISN for a SYN answered from a full queue, encoding the largest table MSS not above `mss`. */
  make(localIp: number, localPort: number, remoteIp: number, remotePort: number, peerIss: Seq, mss: number, nowMs: number): Seq {
    const period = Math.floor(nowMs / (1 << PERIOD_SHIFT)) & 31;
    let idx = 0;
    while (idx + 1 < MSS_TABLE.length && MSS_TABLE[idx + 1] <= mss) idx++;
    return asSeq(this.#hash(period, idx, localIp, localPort, remoteIp, remotePort, seqValue(peerIss)) | (period << 3) | idx);
  }

  /** The MSS a returning cookie (our ISN) encodes, or -1 when it is forged or too old. */
  check(localIp: number, localPort: number, remoteIp: number, remotePort: number, peerIss: Seq, iss: Seq, nowMs: number): number {
    const cookie = seqValue(iss);
    const period = (cookie >>> 3) & 31;
    const now = Math.floor(nowMs / (1 << PERIOD_SHIFT)) & 31;
    if (period !== now && period !== ((now - 1) & 31)) return -1;
    const idx = cookie & 7;
    if (idx >= MSS_TABLE.length) return -1;
    if (this.#hash(period, idx, localIp, localPort, remoteIp, remotePort, seqValue(peerIss)) !== (cookie & ~0xff)) return -1;
    return MSS_TABLE[idx];
  }
}
