/**
 * Initial sequence numbers, RFC 6528 §3: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey), where M is a 4-microsecond timer and F a
 * keyed hash. F here is HalfSipHash-2-4 (the 32-bit SipHash variant Linux also
 * uses for this) under a per-context random 64-bit key.
 */
import { asSeq, type Seq } from '../wire/seqnum.ts';

export class IsnGenerator {
  readonly #k0: number;
  readonly #k1: number;

  /** `key0`/`key1`: the secret key (two uint32s), random per context. */
  constructor(key0: number, key1: number) {
    this.#k0 = key0 >>> 0;
    this.#k1 = key1 >>> 0;
  }

  /** The ISN for a connection at time `nowMs`. */
  next(localIp: number, localPort: number, remoteIp: number, remotePort: number, nowMs: number): Seq {
    const m = Math.floor(nowMs * 250); // 4 µs ticks
    const f = halfSipHash24(this.#k0, this.#k1, localIp, remoteIp, ((localPort << 16) | remotePort) >>> 0);
    return asSeq(m + f);
  }
}

/**
 * HalfSipHash-2-4 of three 32-bit words (12 bytes, little-endian words) with 32-bit output.
 * Written for the SYN path: int32 locals only (no closure, no context allocation, no heap numbers);
 * `| 0` keeps additions modulo 2^32 and rotations are inlined.
 */
export function halfSipHash24(k0: number, k1: number, w0: number, w1: number, w2: number): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = (0x6c796765 ^ k0) | 0;
  let v3 = (0x74656462 ^ k1) | 0;
  // Three message words, then the final block: the message length (12) in the top byte.
  for (let i = 0; i < 4; i++) {
    const m = i === 0 ? w0 | 0 : i === 1 ? w1 | 0 : i === 2 ? w2 | 0 : 12 << 24;
    v3 ^= m;
    for (let r = 0; r < 2; r++) {
      v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
      v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
      v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    }
    v0 ^= m;
  }
  v2 ^= 0xff;
  for (let r = 0; r < 4; r++) {
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  }
  return (v1 ^ v3) >>> 0;
}
