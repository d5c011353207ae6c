/**
 * Sequence number arithmetic modulo 2^32 (RFC 9293 §3.4, RFC 1982). Sequence
 * numbers are kept as signed 32-bit integers (the same 32 bits as the wire's
 * uint32; V8 stores int32 values unboxed, uint32 values above 2^31 not) and
 * compared only through these functions.
 */

/** a < b */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a > b */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** a >= b */
export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/**
 * a + n wrapped to 32 bits (n may be negative), as int32: the same 32 bits as
 * the wire's uint32 (`>>> 0` gives that form), kept signed so V8 does not box it.
 */
export function seqAdd(a: number, n: number): number {
  return (a + n) | 0;
}

/** a - b as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** The later of a and b (modulo 2^32), as int32. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a | 0 : b | 0;
}

/** The earlier of a and b (modulo 2^32), as int32. */
export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) <= 0 ? a | 0 : b | 0;
}

/**
 * lo <= x < lo + len modulo 2^32, i.e. x is one of the `len` sequence numbers
 * starting at lo (false when len is 0). len is a non-negative byte count.
 */
export function seqInWindow(x: number, lo: number, len: number): boolean {
  return ((x - lo) >>> 0) < len;
}
