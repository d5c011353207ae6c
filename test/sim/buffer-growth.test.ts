/**
 * Buffers that grow (issue 14) in the simulator, in virtual time: with the default 8 KiB buffers and
 * growth up to 4 MiB (rcvbuf_max, sndbuf_max), a 10 MiB transfer at 5% loss each way is several times
 * faster than with growth off, a long fat path fills, every byte arrives intact, and once both ends
 * close no buffer is left in a pool and nothing stays reserved.
 */
import t from 'tap';
import { measureGoodput, type GoodputOptions } from '../../sim/goodput.ts';

const DEFAULT = 8192;
const MAX = 4 << 20;
const MBps = (bps: number): string => (bps / 8e6).toFixed(2);

t.test('10 MiB at 5% loss each way (1 Gbit/s, 1 ms RTT): growth is several times faster than 8 KiB buffers', async (t) => {
  const lossy: GoodputOptions = { bytes: 10 << 20, loss: 0.05, ackLoss: 0.05, bandwidthBps: 1e9, rttMs: 1, cc: 'reno', sack: true, seed: 1 };
  const off = measureGoodput({ ...lossy, bufferBytes: DEFAULT, bufferMaxBytes: DEFAULT });
  const on = measureGoodput({ ...lossy, bufferBytes: DEFAULT, bufferMaxBytes: MAX });
  t.comment(`8 KiB, no growth: ${MBps(off.goodputBps)} MB/s, ${off.rtos} RTOs; growing to 4 MiB: ${MBps(on.goodputBps)} MB/s, ${on.rtos} RTOs, ` +
    `buffers reached ${on.peakSendBuffer} (send) and ${on.peakRecvBuffer} (receive) bytes; Mathis bound ${MBps(on.mathisBps)} MB/s`);
  t.equal(off.corrupt + on.corrupt, 0, 'every byte intact');
  t.ok(on.peakSendBuffer > DEFAULT && on.peakRecvBuffer > DEFAULT, 'both buffers grew');
  t.ok(on.goodputBps >= 3 * off.goodputBps, `${(on.goodputBps / off.goodputBps).toFixed(1)}x faster`);
  t.ok(on.rtos < off.rtos, 'with fewer retransmission timeouts');
  t.equal(on.leftoverBuffers + off.leftoverBuffers, 0, 'closed: every buffer back in its pool');
  t.equal(on.leftoverReserved, 0, 'and nothing reserved');
});

t.test('a long fat path (100 Mbit/s, 40 ms RTT) fills once the buffers grow', async (t) => {
  const fat: GoodputOptions = { bytes: 20 << 20, loss: 0, bandwidthBps: 100e6, rttMs: 40, cc: 'cubic', sack: true, seed: 1 };
  const off = measureGoodput({ ...fat, bytes: 2 << 20, bufferBytes: DEFAULT, bufferMaxBytes: DEFAULT });
  const on = measureGoodput({ ...fat, bufferBytes: DEFAULT, bufferMaxBytes: MAX });
  t.comment(`8 KiB: ${(off.goodputBps / 1e6).toFixed(1)} Mbit/s; growing: ${(on.goodputBps / 1e6).toFixed(1)} Mbit/s ` +
    `(send ${on.peakSendBuffer}, receive ${on.peakRecvBuffer} bytes; the path holds ${100e6 / 8 * 0.04} bytes)`);
  t.ok(off.goodputBps < 2e6, '8 KiB per 40 ms round trip is under 2 Mbit/s');
  t.ok(on.goodputBps > 0.5 * fat.bandwidthBps, 'growing buffers carry more than half the link');
  t.ok(on.peakRecvBuffer >= 0.5e6, 'the receive buffer grew past the bandwidth-delay product');
  t.equal(on.corrupt, 0);
  t.equal(on.leftoverBuffers + on.leftoverReserved, 0, 'closed: nothing left behind');
});
