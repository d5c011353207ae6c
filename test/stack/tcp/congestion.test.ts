/** Congestion control: Reno (RFC 5681, RFC 3465) and CUBIC (RFC 9438). */
import t from 'tap';
import { Reno } from '../../../src/stack/tcp/congestion/reno.ts';
import { Cubic } from '../../../src/stack/tcp/congestion/cubic.ts';
import { createCongestionControl, CONGESTION_CONTROL_NAMES } from '../../../src/stack/tcp/congestion/index.ts';
import { oneConnection, type OneConnectionCc } from '../../helpers/one-connection-cc.ts';

const MSS = 1000;

t.test('both start with 10 segments and slow-start by at most 2 MSS per ACK (RFC 6928, RFC 3465)', async (t) => {
  for (const cc of [oneConnection(new Reno(1)), oneConnection(new Cubic(1))] as OneConnectionCc[]) {
    cc.init(MSS, 0);
    t.equal(cc.cwnd, 10 * MSS, cc.name);
    cc.onAck(5 * MSS, MSS, 1, 10);
    t.equal(cc.cwnd, 12 * MSS, `${cc.name}: a stretch ACK grows cwnd by 2 MSS`);
    cc.onAck(MSS, MSS, 2, 10);
    t.equal(cc.cwnd, 13 * MSS);
  }
  t.same(CONGESTION_CONTROL_NAMES, ['reno', 'cubic']);
  t.equal(createCongestionControl('cubic', 1).name, 'cubic');
});

t.test('Reno: halve on loss, one MSS per window in congestion avoidance, one segment after RTO', async (t) => {
  const cc: OneConnectionCc = oneConnection(new Reno(1));
  cc.init(MSS, 0);
  cc.onEnterRecovery(20 * MSS, MSS, 0);
  t.equal(cc.ssthresh, 10 * MSS, 'ssthresh = flight / 2');
  t.equal(cc.cwnd, 10 * MSS, 'cwnd = ssthresh (the sender inflates it for NewReno)');
  cc.onExitRecovery(MSS, 0);
  t.equal(cc.cwnd, 10 * MSS);
  for (let i = 0; i < 10; i++) cc.onAck(MSS, MSS, i, 10);
  t.equal(cc.cwnd, 11 * MSS, 'one MSS after a full window of ACKs');
  cc.onRto(11 * MSS, MSS, 100);
  t.equal(cc.cwnd, MSS);
  t.equal(cc.ssthresh, 5500);
});

t.test('CUBIC: in a short-RTT network it grows like Reno, by the Reno-friendly estimate (RFC 9438 §4.3)', async (t) => {
  const cc: OneConnectionCc = oneConnection(new Cubic(1));
  cc.init(MSS, 0);
  while (cc.cwnd < 100 * MSS) cc.onAck(MSS, MSS, 0, 1);
  cc.onEnterRecovery(0, MSS, 0);
  cc.onExitRecovery(MSS, 0);
  let now = 1000;
  for (let r = 0; r < 100; r++) {
    const w = Math.floor(cc.cwnd / MSS);
    for (let i = 0; i < w; i++) cc.onAck(MSS, MSS, now, 1);
    now += 1;
  }
  const alpha = (3 * 0.3) / 1.7;
  t.ok(Math.abs(cc.cwnd / MSS - (70 + 100 * alpha)) < 3, `after 100 RTTs of 1 ms: ${(cc.cwnd / MSS).toFixed(1)} segments (about 70 + 100 alpha)`);
});

t.test('CUBIC: multiplicative decrease by beta 0.7, then the cubic curve back to W_max (RFC 9438 §4.2, §4.6)', async (t) => {
  const cc: OneConnectionCc = oneConnection(new Cubic(1));
  cc.init(MSS, 0);
  // Grow to 100 segments in slow start.
  while (cc.cwnd < 100 * MSS) cc.onAck(MSS, MSS, 0, 10);
  t.equal(cc.cwnd, 100 * MSS);
  cc.onEnterRecovery(100 * MSS, MSS, 0);
  t.equal(cc.ssthresh, 70 * MSS, 'ssthresh = 0.7 W');
  t.equal(cc.cwnd, 70 * MSS);
  cc.onExitRecovery(MSS, 0);
  // K = cbrt(W_max (1 - beta) / C) = cbrt(100 * 0.3 / 0.4) = 4.217 s. Feed one window of ACKs per 100 ms RTT
  // (with much shorter RTTs the Reno-friendly estimate, alpha = 0.53 segments per RTT, would lead instead).
  const K = Math.cbrt(30 / 0.4);
  let now = 1000;
  /** Run `seconds` more of ACK clock; returns cwnd in segments. */
  const at = (seconds: number): number => {
    const end = now + seconds * 1000;
    while (now < end) {
      const w = Math.floor(cc.cwnd / MSS);
      for (let i = 0; i < w; i++) cc.onAck(MSS, MSS, now, 100);
      now += 100;
    }
    return cc.cwnd / MSS;
  };
  const early = at(1);
  t.ok(early > 70 && early < 95, `concave growth: ${early.toFixed(1)} segments after 1 s`);
  const nearK = at(K - 1);
  t.ok(Math.abs(nearK - 100) < 6, `back near W_max = 100 at t = K (${K.toFixed(2)} s): ${nearK.toFixed(1)}`);
  const plateau = at(0.5);
  t.ok(plateau - nearK < 5, `slow growth around W_max: ${nearK.toFixed(1)} -> ${plateau.toFixed(1)}`);
  const later = at(4);
  t.ok(later > 120, `convex growth beyond W_max: ${later.toFixed(1)} segments`);
});

t.test('CUBIC: fast convergence lowers W_max when losses come at smaller windows (RFC 9438 §4.7)', async (t) => {
  const cc: OneConnectionCc = oneConnection(new Cubic(1));
  cc.init(MSS, 0);
  while (cc.cwnd < 100 * MSS) cc.onAck(MSS, MSS, 0, 10);
  cc.onEnterRecovery(0, MSS, 0); // W_max = 100
  cc.onExitRecovery(MSS, 0); // cwnd 70
  cc.onEnterRecovery(0, MSS, 0); // 70 < 100: W_max = 70 * 1.7 / 2 = 59.5
  t.equal(cc.ssthresh, 49 * MSS, 'beta applied to the current window');
  cc.onExitRecovery(MSS, 0);
  // With W_max below cwnd, growth starts at once (K = 0, convex).
  let now = 1000;
  for (let r = 0; r < 50; r++) {
    const w = Math.floor(cc.cwnd / MSS);
    for (let i = 0; i < w; i++) cc.onAck(MSS, MSS, now, 10);
    now += 10;
  }
  t.ok(cc.cwnd > 49 * MSS, 'grows again');
});

// A loss at a window below the previous W_max sets W_max = cwnd (1 + beta) / 2, so the window then
// plateaus at that lower value, not at the cwnd of the loss.
t.test('CUBIC: after fast convergence the window plateaus at the reduced W_max (RFC 9438 §4.7)', async (t) => {
  const cc: OneConnectionCc = oneConnection(new Cubic(1));
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

t.test('CUBIC: a timeout restarts from one segment with ssthresh = 0.7 W (RFC 9438 §4.8)', async (t) => {
  const cc: OneConnectionCc = oneConnection(new Cubic(1));
  cc.init(MSS, 0);
  cc.onRto(10 * MSS, MSS, 0);
  t.equal(cc.cwnd, MSS);
  t.equal(cc.ssthresh, 7 * MSS);
});
