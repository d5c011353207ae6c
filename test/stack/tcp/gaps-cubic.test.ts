/**
 * Gaps found by mutation testing (issue 3): CUBIC's fast convergence (RFC
 * 9438 §4.7). A loss at a window below the previous W_max sets
 * W_max = cwnd (1 + beta) / 2, so the window then plateaus at that lower
 * value, not at the cwnd of the loss.
 */
import t from 'tap';
import { CubicController } from '../../../src/stack/tcp/congestion/cubic.ts';
import type { CongestionController } from '../../../src/stack/tcp/congestion/index.ts';

const MSS = 1000;

t.test('CUBIC: after fast convergence the window plateaus at the reduced W_max (RFC 9438 §4.7)', async (t) => {
  const cc: CongestionController = new CubicController();
  cc.init(MSS, 0);
  while (cc.cwnd < 100 * MSS) cc.onAck(MSS, MSS, 0, 10);
  cc.onEnterRecovery(0, MSS, 0); // W_max = 100, cwnd 70
  cc.onExitRecovery(MSS, 0);
  cc.onEnterRecovery(0, MSS, 0); // 70 < W_last_max = 100: W_max = 70 * (1 + 0.7) / 2 = 59.5, cwnd 49
  cc.onExitRecovery(MSS, 0);
  t.equal(cc.cwnd, 49 * MSS);
  // One window of ACKs per 200 ms RTT; K = cbrt((59.5 - 49) / 0.4) = 2.97 s.
  let now = 1000;
  const at = (seconds: number): number => {
    const end = now + seconds * 1000;
    while (now < end) {
      const w = Math.floor(cc.cwnd / MSS);
      for (let i = 0; i < w; i++) cc.onAck(MSS, MSS, now, 200);
      now += 200;
    }
    return cc.cwnd / MSS;
  };
  const plateau = at(3.5);
  t.ok(Math.abs(plateau - 59.5) < 2, `near the reduced W_max of 59.5 at t = 3.5 s, not 70: ${plateau.toFixed(1)}`);
  const still = at(0.5);
  t.ok(still < 62, `and still flat around it at 4 s: ${still.toFixed(1)}`);
});
