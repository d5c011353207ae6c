/**
 * One connection's view of a congestion controller (which keeps every connection's state by id):
 * the algorithm tests drive connection 0 as if the controller were its own.
 */
import type { CongestionControl } from '../../src/stack/tcp/congestion/controller.ts';

export interface OneConnectionCc {
  readonly name: string;
  readonly cwnd: number;
  readonly ssthresh: number;
  init(mss: number, now: number): void;
  onAck(acked: number, mss: number, now: number, srttMs: number): void;
  onEnterRecovery(flight: number, mss: number, now: number): void;
  onExitRecovery(mss: number, now: number): void;
  onRto(flight: number, mss: number, now: number): void;
}

export function oneConnection(cc: CongestionControl): OneConnectionCc {
  return {
    name: cc.name,
    get cwnd() {
      return cc.cwnd(0);
    },
    get ssthresh() {
      return cc.ssthresh(0);
    },
    init: (mss, now) => cc.init(0, mss, now),
    onAck: (acked, mss, now, srttMs) => cc.onAck(0, acked, mss, now, srttMs),
    onEnterRecovery: (flight, mss, now) => cc.onEnterRecovery(0, flight, mss, now),
    onExitRecovery: (mss, now) => cc.onExitRecovery(0, mss, now),
    onRto: (flight, mss, now) => cc.onRto(0, flight, mss, now),
  };
}
