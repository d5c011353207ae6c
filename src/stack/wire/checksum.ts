/**
 * The Internet checksum, RFC 1071: the ones' complement of the ones'
 * complement sum of 16-bit big-endian words.
 *
 * A running sum is a non-negative number whose value modulo 0xffff is the
 * ones' complement sum so far (end-around carries may be pending; RFC 1071
 * §2(B), "deferred carries"). checksumAdd returns it partly folded (at most
 * 17 bits), so it stays a small integer and is never boxed on the heap.
 *
 * Computing: `c = checksumFold(checksumAdd(buf, off, len, pseudo))` with the
 * checksum field zeroed, then store `c` big-endian in the field.
 *
 * Verifying: with the checksum field as received, a packet is intact when
 * `checksumFold(checksumAdd(buf, off, len, pseudo)) === 0` (pseudo is 0 for
 * IPv4 headers and ICMP, pseudoHeaderSum(...) for TCP).
 */

/**
 * Bytes summed by the unchecked loop of one call. 4096 iterations of 8 words
 * add at most 4096 × 8 × 0xffff = 2,147,450,880 < 2^31, so the int32
 * accumulator cannot overflow; longer ranges are summed in such chunks.
 */
const CHUNK = 65536;

/**
 * Add `len` bytes at `off` to the running sum `sum` (non-negative) as 16-bit
 * big-endian words (an odd trailing byte is padded with a zero low byte) and
 * return the new running sum (at most 17 bits; fold it with checksumFold).
 *
 * When one packet is summed in several calls (pseudo-header, header, payload
 * in another buffer...), every call but the last must cover an EVEN number
 * of bytes: an odd chunk is padded, which would shift the bytes of the next
 * chunk to the wrong half of their words.
 */
export function checksumAdd(buf: Uint8Array, off: number, len: number, sum: number): number {
  if (len > CHUNK) return checksumAddLong(buf, off, len, sum);
  let i = off;
  const end = off + len;
  const end16 = off + (len & ~15);
  // Sixteen bytes per iteration as eight 16-bit words into an int32: the fastest
  // form measured on V8 (summing 32-bit words needs `>>> 0` and a double).
  let s = 0;
  while (i < end16) {
    s += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 2] << 8) | buf[i + 3]) +
      ((buf[i + 4] << 8) | buf[i + 5]) + ((buf[i + 6] << 8) | buf[i + 7]) +
      ((buf[i + 8] << 8) | buf[i + 9]) + ((buf[i + 10] << 8) | buf[i + 11]) +
      ((buf[i + 12] << 8) | buf[i + 13]) + ((buf[i + 14] << 8) | buf[i + 15]);
    i += 16;
  }
  s = (s & 0xffff) + (s >>> 16);
  while (i + 1 < end) {
    s += (buf[i] << 8) | buf[i + 1];
    i += 2;
  }
  if (i < end) s += buf[i] << 8;
  s += sum <= 0x3fffffff ? sum : foldLarge(sum);
  return (s & 0xffff) + (s >>> 16);
}

/** checksumAdd over more than CHUNK bytes, CHUNK (an even count) at a time. */
function checksumAddLong(buf: Uint8Array, off: number, len: number, sum: number): number {
  let s = sum;
  let o = off;
  let n = len;
  while (n > CHUNK) {
    s = checksumAdd(buf, o, CHUNK, s);
    o += CHUNK;
    n -= CHUNK;
  }
  return checksumAdd(buf, o, n, s);
}

/** Reduce a large non-negative running sum (a double, exact below 2^53) below 2^30, modulo 0xffff. */
function foldLarge(sum: number): number {
  let s = sum;
  while (s > 0x3fffffff) {
    const hi = Math.floor(s / 65536);
    s = s - hi * 65536 + hi;
  }
  return s;
}

/**
 * Fold a running sum to 16 bits and return its ones' complement as a 16-bit
 * number: the value to store in a checksum field, or 0 when verifying an
 * intact packet.
 */
export function checksumFold(sum: number): number {
  let s = sum <= 0x3fffffff ? sum : foldLarge(sum);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Running sum of the IPv4 pseudo-header (source, destination, zero, protocol,
 * TCP length) for TCP. RFC 9293 §3.1 (RFC 793). Addresses may be given as
 * int32 or uint32; `len` is the TCP header plus payload length.
 */
export function pseudoHeaderSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}
