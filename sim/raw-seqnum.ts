/**
 * The sequence-number functions over plain numbers, for the fuzzer and the tests, which build
 * segments from literals and from ConnView's int32 values in either 32-bit form (uint32 as on the
 * wire, int32 as the stack keeps them). The stack's own code uses the opaque Seq and TsVal of
 * src/stack/wire/seqnum.ts, which `<` and `+` cannot touch.
 */
import * as sn from '../src/stack/wire/seqnum.ts';
import type { Seq } from '../src/stack/wire/seqnum.ts';

/** The number as a Seq, in the form given (asSeq would normalize a uint32 to int32). */
const q = (n: number): Seq => n as unknown as Seq;

export const seqLt = (a: number, b: number): boolean => sn.seqLt(q(a), q(b));
export const seqLe = (a: number, b: number): boolean => sn.seqLe(q(a), q(b));
export const seqGt = (a: number, b: number): boolean => sn.seqGt(q(a), q(b));
export const seqGe = (a: number, b: number): boolean => sn.seqGe(q(a), q(b));
export const seqAdd = (a: number, n: number): number => sn.seqValue(sn.seqAdd(q(a), n));
export const seqDiff = (a: number, b: number): number => sn.seqDiff(q(a), q(b));
export const seqMax = (a: number, b: number): number => sn.seqValue(sn.seqMax(q(a), q(b)));
export const seqMin = (a: number, b: number): number => sn.seqValue(sn.seqMin(q(a), q(b)));
export const seqInWindow = (x: number, lo: number, len: number): boolean => sn.seqInWindow(q(x), q(lo), len);
