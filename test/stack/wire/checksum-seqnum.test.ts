/** RFC 1071 checksum against a naive reference; sequence arithmetic modulo 2^32. */
import t from 'tap';
import { checksumAdd, checksumFold, pseudoHeaderSum } from '../../../src/stack/wire/checksum.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqInWindow, seqLe, seqLt } from '../../../sim/raw-seqnum.ts';
import { IP_A, IP_B, mulberry32, naiveChecksum, pseudoHeader, SYN_IP, SYN_TCP } from './fixtures/packets.ts';

const sum1 = (b: readonly number[]): number => checksumFold(checksumAdd(Uint8Array.from(b), 0, b.length, 0));

t.test('RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2', async (t) => {
  const b = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
  t.equal(checksumAdd(Uint8Array.from(b), 0, 8, 0) & 0xffff, 0xddf2, 'folded sum');
  t.equal(sum1(b), (~0xddf2) & 0xffff);
  t.equal(naiveChecksum(b), 0x220d);
});

t.test('fixed fixtures: header checksums verify to 0 and match the reference', async (t) => {
  t.equal(sum1(SYN_IP), 0, 'IPv4 header of the SYN verifies');
  const zeroed = SYN_IP.slice();
  zeroed[10] = 0;
  zeroed[11] = 0;
  t.equal(sum1(zeroed), 0x924e);
  t.equal(naiveChecksum(zeroed), 0x924e);
  const b = Uint8Array.from(SYN_TCP);
  const ps = pseudoHeaderSum(0xc6120002 | 0, 0xc6120001 | 0, 6, SYN_TCP.length);
  t.equal(checksumFold(checksumAdd(b, 0, b.length, ps)), 0, 'TCP with pseudo-header verifies');
  const z = SYN_TCP.slice();
  z[16] = 0;
  z[17] = 0;
  t.equal(naiveChecksum([...pseudoHeader(IP_A, IP_B, 6, z.length), ...z]), 0xf744);
  t.equal(checksumFold(checksumAdd(Uint8Array.from(z), 0, z.length, ps)), 0xf744);
});

t.test('pseudoHeaderSum equals the sum of the pseudo-header bytes (int32 and uint32 addresses)', async (t) => {
  const expect = checksumFold(checksumAdd(Uint8Array.from(pseudoHeader([255, 255, 1, 2], [128, 0, 0, 1], 6, 1480)), 0, 12, 0));
  t.equal(checksumFold(pseudoHeaderSum(0xffff0102 | 0, 0x80000001 | 0, 6, 1480)), expect, 'int32');
  t.equal(checksumFold(pseudoHeaderSum(0xffff0102, 0x80000001, 6, 1480)), expect, 'uint32');
});

t.test('odd lengths pad with a zero byte', async (t) => {
  t.equal(sum1([0xab]), naiveChecksum([0xab]));
  t.equal(sum1([0xab]), ~0xab00 & 0xffff);
  t.equal(sum1([0x12, 0x34, 0x56]), naiveChecksum([0x12, 0x34, 0x56]));
  t.equal(sum1([]), 0xffff, 'empty input');
  for (let n = 1; n <= 19; n += 2) {
    const b = Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
    t.equal(sum1(b), naiveChecksum(b), `length ${n}`);
  }
});

t.test('offsets: summing a window of a larger buffer ignores bytes outside it', async (t) => {
  const b = new Uint8Array(40).fill(0xff);
  const inner = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  b.set(inner, 13);
  t.equal(checksumFold(checksumAdd(b, 13, inner.length, 0)), naiveChecksum(inner));
});

t.test('random buffers: one-shot and chunked sums equal the naive reference', async (t) => {
  const rnd = mulberry32(1071);
  let ok = 0;
  let chunkedOk = 0;
  const N = 500;
  for (let k = 0; k < N; k++) {
    const len = Math.floor(rnd() * 3000);
    const arr = Array.from({ length: len }, () => Math.floor(rnd() * 256));
    const b = Uint8Array.from(arr);
    if (checksumFold(checksumAdd(b, 0, len, 0)) === naiveChecksum(arr)) ok++;
    // Chunks of even length except the last.
    let s = 0;
    let i = 0;
    while (i < len) {
      let c = Math.floor(rnd() * 64) * 2;
      if (i + c >= len || c === 0) c = Math.min(len - i, c || 2);
      s = checksumAdd(b, i, c, s);
      i += c;
    }
    if (checksumFold(s) === checksumFold(checksumAdd(b, 0, len, 0))) chunkedOk++;
  }
  t.equal(ok, N, 'one-shot matches reference');
  t.equal(chunkedOk, N, 'chunked matches one-shot');
});

t.test('all-0xff buffers do not overflow the running sum', async (t) => {
  for (const len of [65536, 1 << 20, (1 << 20) + 1]) {
    const b = new Uint8Array(len).fill(0xff);
    const arr = Array.from(b);
    t.equal(checksumFold(checksumAdd(b, 0, len, 0)), naiveChecksum(arr), `length ${len}`);
  }
  // A large starting sum is folded too.
  const b = Uint8Array.from([0xff, 0xff, 0xff, 0xff]);
  t.equal(checksumFold(checksumAdd(b, 0, 4, 0xfffe)), naiveChecksum([0xff, 0xfe, 0xff, 0xff, 0xff, 0xff]));
});

t.test('checksumFold folds twice and complements', async (t) => {
  t.equal(checksumFold(0), 0xffff);
  t.equal(checksumFold(0xffff), 0);
  t.equal(checksumFold(0x1ffff), 0xfffe, '0x1ffff → 0x0001 + 0xffff = 0x10000 → 1 → ~1');
  t.equal(checksumFold(0x12345), ~0x2346 & 0xffff);
});

t.test('seqnum: ordering across the wrap', async (t) => {
  t.equal(seqLt(0xffffffff | 0, 0), true, 'seqLt(0xffffffff, 0)');
  t.equal(seqLt(0xffffffff, 0), true, 'uint32 form too');
  t.equal(seqGt(0, 0xffffffff | 0), true);
  t.equal(seqLt(0, 0xffffffff | 0), false);
  t.equal(seqLe(5, 5), true);
  t.equal(seqLt(5, 5), false);
  t.equal(seqGe(5, 5), true);
  t.equal(seqGt(5, 5), false);
  t.equal(seqLt(0x7ffffff0, 0x80000010 | 0), true, 'across the int32 sign boundary');
  t.equal(seqGt(0x80000010 | 0, 0x7ffffff0), true);
  t.equal(seqLe(0xfffffff0 | 0, 0x10), true);
  t.equal(seqGe(0x10, 0xfffffff0 | 0), true);
  t.equal(seqLt(1, 2), true);
  t.equal(seqGt(2, 1), true);
});

t.test('seqnum: add and diff wrap', async (t) => {
  t.equal(seqAdd(0xffffffff | 0, 1), 0);
  t.equal(seqAdd(0xfffffff0 | 0, 0x20), 0x10);
  t.equal(seqAdd(0x7fffffff, 1), 0x80000000 | 0, 'result is int32');
  t.equal(seqAdd(0, -1), -1);
  t.equal(seqAdd(0x10, -0x20), 0xfffffff0 | 0);
  t.equal(seqDiff(0, 0xffffffff | 0), 1, 'positive across the wrap');
  t.equal(seqDiff(0xffffffff | 0, 0), -1, 'negative across the wrap');
  t.equal(seqDiff(0x10, 0xfffffff0 | 0), 0x20);
  t.equal(seqDiff(0xfffffff0 | 0, 0x10), -0x20);
  t.equal(seqDiff(100, 100), 0);
  t.equal(seqDiff(seqAdd(123456, 1 << 30), 123456), 1 << 30);
});

t.test('seqnum: seqInWindow', async (t) => {
  t.equal(seqInWindow(5, 5, 1), true);
  t.equal(seqInWindow(6, 5, 1), false);
  t.equal(seqInWindow(4, 5, 10), false);
  t.equal(seqInWindow(5, 5, 0), false, 'empty window holds nothing');
  t.equal(seqInWindow(2, 0xfffffff0 | 0, 0x20), true, 'across the wrap');
  t.equal(seqInWindow(0x10, 0xfffffff0 | 0, 0x20), false, 'right edge excluded');
  t.equal(seqInWindow(0xffffffef | 0, 0xfffffff0 | 0, 0x20), false);
});
