/**
 * The Internet checksum, RFC 1071: the ones' complement of the ones'
 * complement sum of 16-bit big-endian words.
 *
 * Running sums are small non-negative integers (partly folded), so the hot
 * loop stays in 32-bit arithmetic. Verification idiom: a packet is intact when
 * `checksumFold(checksumAdd(buf, off, len, pseudo)) === 0`.
 */

/**
 * Add `len` bytes at `off` as 16-bit big-endian words (an odd trailing byte is
 * padded with zero) to the running sum `sum`. When a packet is summed in
 * several calls, every call but the last must cover an even number of bytes.
 */
export function checksumAdd(buf: Uint8Array, off: number, len: number, sum: number): number {
  let i = off;
  const end = off + len;
  const end8 = off + (len & ~7);
  // Kept within 32-bit integers (folded as it grows) so that no number is boxed on the heap.
  let s = sum | 0;
  while (i < end8) {
    s += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 2] << 8) | buf[i + 3]) +
      ((buf[i + 4] << 8) | buf[i + 5]) + ((buf[i + 6] << 8) | buf[i + 7]);
    if (s > 0x3fff0000) s = (s & 0xffff) + (s >>> 16);
    i += 8;
  }
  while (i + 1 < end) {
    s += (buf[i] << 8) | buf[i + 1];
    i += 2;
  }
  if (i < end) s += buf[i] << 8;
  return (s & 0xffff) + (s >>> 16);
}

/** Fold a running sum to 16 bits and complement it: the value to store in a header. */
export function checksumFold(sum: number): number {
  let s = sum;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Partial sum of the IPv4 pseudo-header for TCP/UDP. RFC 9293 §3.1 */
export function pseudoHeaderSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}
