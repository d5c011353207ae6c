/**
 * Arithmetic modulo 2^32 for sequence numbers (RFC 9293 §3.4, RFC 1982) and
 * timestamps (RFC 7323 §5.2).
 *
 * `Seq` and `TsVal` are opaque types: at run time a plain int32 (the wire's
 * 32 bits kept signed, since V8 stores int32 values unboxed and boxes uint32
 * values above 2^31), but to the type checker neither a number nor each
 * other, so `<`, `-` or `+` on them do not compile. Sequence space is
 * compared and moved only through these functions (a wrapped value compares
 * wrong with `<`), and a value becomes a number only through `seqValue`.
 */

declare const wrapping32: unique symbol;

/** A value of a 32-bit space that wraps; `Kind` keeps the spaces apart. */
type Wrapping32<Kind extends string> = { readonly [wrapping32]: Kind };

/** A TCP sequence or acknowledgment number. */
export type Seq = Wrapping32<'seq'>;

/** A TCP timestamp value (TSval, TSecr, TS.Recent). RFC 7323 §3 */
export type TsVal = Wrapping32<'tsval'>;

/** Either space: the functions below take values of one. */
type Mod32 = Seq | TsVal;

/** A column of values of one space, over an Int32Array. */
export interface Mod32Array<T extends Mod32> {
  [index: number]: T;
  readonly length: number;
  /** Int32Array#copyWithin. */
  copyWithin(target: number, start: number, end?: number): this;
}

/** An Int32Array that holds sequence numbers (a connection table column, a SACK block list). */
export type SeqArray = Mod32Array<Seq>;

/** An Int32Array that holds timestamps. */
export type TsValArray = Mod32Array<TsVal>;


/** The sequence number with these 32 bits (a wire field, a literal in a test). */
export function asSeq(x: number): Seq {
  return (x | 0) as unknown as Seq;
}

/** The timestamp with these 32 bits. */
export function asTsVal(x: number): TsVal {
  return (x | 0) as unknown as TsVal;
}

/** The 32 bits of a sequence number or timestamp, as an int32 (`>>> 0` gives the wire's uint32). */
export function seqValue(x: Mod32): number {
  return (x as unknown as number) | 0;
}

/** A new column of `count` sequence numbers. */
export function seqArray(count: number): SeqArray {
  return new Int32Array(count) as unknown as SeqArray;
}

/** A new column of `count` timestamps. */
export function tsValArray(count: number): TsValArray {
  return new Int32Array(count) as unknown as TsValArray;
}

/** a < b */
export function seqLt<T extends Mod32>(a: T, b: T): boolean {
  return (((a as unknown as number) - (b as unknown as number)) | 0) < 0;
}

/** a <= b */
export function seqLe<T extends Mod32>(a: T, b: T): boolean {
  return (((a as unknown as number) - (b as unknown as number)) | 0) <= 0;
}

/** a > b */
export function seqGt<T extends Mod32>(a: T, b: T): boolean {
  return (((a as unknown as number) - (b as unknown as number)) | 0) > 0;
}

/** a >= b */
export function seqGe<T extends Mod32>(a: T, b: T): boolean {
  return (((a as unknown as number) - (b as unknown as number)) | 0) >= 0;
}

/** a + count wrapped to 32 bits (count may be negative), as int32. */
export function seqAdd<T extends Mod32>(a: T, count: number): T {
  return (((a as unknown as number) + count) | 0) as unknown as T;
}

/** a - b as a signed 32-bit distance (a count). */
export function seqDiff<T extends Mod32>(a: T, b: T): number {
  return ((a as unknown as number) - (b as unknown as number)) | 0;
}

/** The later of a and b, as int32. */
export function seqMax<T extends Mod32>(a: T, b: T): T {
  return ((((a as unknown as number) - (b as unknown as number)) | 0) >= 0 ? (a as unknown as number) | 0 : (b as unknown as number) | 0) as unknown as T;
}

/** The earlier of a and b, as int32. */
export function seqMin<T extends Mod32>(a: T, b: T): T {
  return ((((a as unknown as number) - (b as unknown as number)) | 0) <= 0 ? (a as unknown as number) | 0 : (b as unknown as number) | 0) as unknown as T;
}

/**
 * lo <= x < lo + len modulo 2^32, i.e. x is one of the `len` sequence numbers
 * starting at lo (false when len is 0). len is a non-negative byte count.
 */
export function seqInWindow(x: Seq, lo: Seq, len: number): boolean {
  return (((x as unknown as number) - (lo as unknown as number)) >>> 0) < len;
}
