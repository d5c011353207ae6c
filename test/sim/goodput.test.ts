/**
 * Goodput under random loss against the Mathis bound (issue: 100 MiB over
 * 100 Mbit/s, 10 ms RTT, 1% loss). Virtual time, so the figures are exact and
 * repeatable; the wall time is about half a second per run.
 */
import t from 'tap';
import { measureGoodput } from '../../sim/goodput.ts';

const base = { bytes: 100 * 1024 * 1024, loss: 0.01, bandwidthBps: 100e6, rttMs: 10, seed: 1 };

for (const cc of ['reno', 'cubic'] as const) {
  t.test(`${cc}: 100 MiB at 1% loss reaches 0.8 of the Mathis bound with SACK; SACK needs fewer retransmissions and timeouts`, async (t) => {
    const on = measureGoodput({ ...base, cc, sack: true });
    const off = measureGoodput({ ...base, cc, sack: false });
    t.comment(`${cc} SACK on: ${(on.goodputBps / 1e6).toFixed(2)} Mbit/s = ${on.ratio.toFixed(2)} x Mathis, ${on.rtos} RTOs, ${on.retransmits} retransmissions`);
    t.comment(`${cc} SACK off: ${(off.goodputBps / 1e6).toFixed(2)} Mbit/s = ${off.ratio.toFixed(2)} x Mathis, ${off.rtos} RTOs, ${off.retransmits} retransmissions`);
    t.equal(on.corrupt + off.corrupt, 0, 'every byte arrived intact');
    t.ok(on.ratio >= 0.8, `goodput / Mathis bound = ${on.ratio.toFixed(3)}`);
    t.ok(on.retransmits < off.retransmits, 'SACK retransmits only what was lost');
    t.ok(on.rtos < off.rtos, 'and repairs lost retransmissions without waiting for the timer');
  });
}

t.test('without loss the link is filled', async (t) => {
  const r = measureGoodput({ ...base, bytes: 20 * 1024 * 1024, loss: 0, cc: 'cubic', sack: true });
  t.ok(r.goodputBps > 0.9 * base.bandwidthBps, `${(r.goodputBps / 1e6).toFixed(1)} Mbit/s of 100`);
  t.equal(r.rtos, 0);
});
