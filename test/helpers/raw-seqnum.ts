/**
 * The sequence-number functions over plain numbers, for tests that feed them literals in either
 * 32-bit form (uint32 as on the wire, int32 as the stack keeps them): the stack's own code gives
 * them branded Seq values (src/stack/wire/seqnum.ts).
 */
import * as sn from '../../src/stack/wire/seqnum.ts';
import type { Seq } from '../../src/stack/wire/seqnum.ts';

const q = (n: number): Seq => n as Seq;

export const seqLt = (a: number, b: number): boolean => sn.seqLt(q(a), q(b));
export const seqLe = (a: number, b: number): boolean => sn.seqLe(q(a), q(b));
export const seqGt = (a: number, b: number): boolean => sn.seqGt(q(a), q(b));
export const seqGe = (a: number, b: number): boolean => sn.seqGe(q(a), q(b));
export const seqAdd = (a: number, n: number): number => sn.seqAdd(q(a), n);
export const seqDiff = (a: number, b: number): number => sn.seqDiff(q(a), q(b));
export const seqMax = (a: number, b: number): number => sn.seqMax(q(a), q(b));
export const seqMin = (a: number, b: number): number => sn.seqMin(q(a), q(b));
export const seqInWindow = (x: number, lo: number, len: number): boolean => sn.seqInWindow(q(x), q(lo), len);
