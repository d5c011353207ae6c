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

function rotl(x: number, b: number): number {
  return ((x << b) | (x >>> (32 - b))) >>> 0;
}

/** HalfSipHash-2-4 of three 32-bit words (12 bytes, little-endian words) with 32-bit output. */
export function halfSipHash24(k0: number, k1: number, w0: number, w1: number, w2: number): number {
  let v0 = k0 >>> 0;
  let v1 = k1 >>> 0;
  let v2 = (0x6c796765 ^ k0) >>> 0;
  let v3 = (0x74656462 ^ k1) >>> 0;
  const round = (): void => {
    v0 = (v0 + v1) >>> 0; v1 = rotl(v1, 5); v1 = (v1 ^ v0) >>> 0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) >>> 0; v3 = rotl(v3, 8); v3 = (v3 ^ v2) >>> 0;
    v0 = (v0 + v3) >>> 0; v3 = rotl(v3, 7); v3 = (v3 ^ v0) >>> 0;
    v2 = (v2 + v1) >>> 0; v1 = rotl(v1, 13); v1 = (v1 ^ v2) >>> 0; v2 = rotl(v2, 16);
  };
  const absorb = (m: number): void => {
    v3 = (v3 ^ m) >>> 0;
    round();
    round();
    v0 = (v0 ^ m) >>> 0;
  };
  absorb(w0 >>> 0);
  absorb(w1 >>> 0);
  absorb(w2 >>> 0);
  absorb((12 << 24) >>> 0); // final block: message length in the top byte
  v2 = (v2 ^ 0xff) >>> 0;
  round(); round(); round(); round();
  return (v1 ^ v3) >>> 0;
}
