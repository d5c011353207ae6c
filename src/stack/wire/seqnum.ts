/**
 * Arithmetic modulo 2^32 for sequence numbers (RFC 9293 §3.4, RFC 1982) and
 * timestamps (RFC 7323 §5.2).
 *
 * Both are branded numbers: `Seq` and `TsVal` are plain int32 values at run
 * time (the wire's 32 bits kept signed, since V8 stores int32 unboxed and
 * boxes uint32 values above 2^31), but the type checker keeps them apart from
 * byte counts and from each other, and they are compared only through these
 * functions, never with `<` (a wrapped value compares wrong).
 */

declare const wrapping32: unique symbol;

/** A value of a 32-bit space that wraps; `Kind` keeps the spaces apart. */
type Wrapping32<Kind extends string> = number & { readonly [wrapping32]: Kind };

/** A TCP sequence or acknowledgment number. */
export type Seq = Wrapping32<'seq'>;

/** A TCP timestamp value (TSval, TSecr, TS.Recent). RFC 7323 §3 */
export type TsVal = Wrapping32<'tsval'>;

/** Either space: the comparisons below take two values of the same one. */
type Mod32 = Seq | TsVal;

/** An Int32Array that holds sequence numbers (a connection table column, a SACK block list). */
export interface SeqArray extends Int32Array {
  [index: number]: Seq;
}

/** An Int32Array that holds timestamps. */
export interface TsValArray extends Int32Array {
  [index: number]: TsVal;
}

/** The sequence number with these 32 bits (a wire field, a literal in a test). */
export function asSeq(n: number): Seq {
  return (n | 0) as Seq;
}

/** The timestamp with these 32 bits. */
export function asTsVal(n: number): TsVal {
  return (n | 0) as TsVal;
}

/** A new column of `n` sequence numbers. */
export function seqArray(n: number): SeqArray {
  return new Int32Array(n) as SeqArray;
}

/** A new column of `n` timestamps. */
export function tsValArray(n: number): TsValArray {
  return new Int32Array(n) as TsValArray;
}

/** a < b */
export function seqLt<T extends Mod32>(a: T, b: T): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b */
export function seqLe<T extends Mod32>(a: T, b: T): boolean {
  return ((a - b) | 0) <= 0;
}

/** a > b */
export function seqGt<T extends Mod32>(a: T, b: T): boolean {
  return ((a - b) | 0) > 0;
}

/** a >= b */
export function seqGe<T extends Mod32>(a: T, b: T): boolean {
  return ((a - b) | 0) >= 0;
}

/** a + n wrapped to 32 bits (n, a count, may be negative), as int32. */
export function seqAdd<T extends Mod32>(a: T, n: number): T {
  return ((a + n) | 0) as T;
}

/** a - b as a signed 32-bit distance (a count). */
export function seqDiff<T extends Mod32>(a: T, b: T): number {
  return (a - b) | 0;
}

/** The later of a and b, as int32. */
export function seqMax<T extends Mod32>(a: T, b: T): T {
  return (((a - b) | 0) >= 0 ? a | 0 : b | 0) as T;
}

/** The earlier of a and b, as int32. */
export function seqMin<T extends Mod32>(a: T, b: T): T {
  return (((a - b) | 0) <= 0 ? a | 0 : b | 0) as T;
}

/**
 * lo <= x < lo + len modulo 2^32, i.e. x is one of the `len` sequence numbers
 * starting at lo (false when len is 0). len is a non-negative byte count.
 */
export function seqInWindow(x: Seq, lo: Seq, len: number): boolean {
  return ((x - lo) >>> 0) < len;
}
