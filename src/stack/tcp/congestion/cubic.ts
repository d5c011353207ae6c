import type { CongestionController } from './controller.ts';
import { INITIAL_WINDOW_SEGMENTS } from './reno.ts';

/** CUBIC constants. RFC 9438 §4.1 */
const C = 0.4;
const BETA = 0.7;
/** Reno-friendly additive increase for the same average rate as Reno. RFC 9438 §4.3 */
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);

/**
 * CUBIC congestion control, RFC 9438: after a loss the window follows
 * W_cubic(t) = C (t - K)^3 + W_max, concave up to the previous maximum and
 * convex beyond it, but never below what Reno would reach (the Reno-friendly
 * region). Slow start is RFC 5681's, with byte counting (RFC 3465, L = 2).
 * Windows are tracked in segments (as floats) and exposed in bytes.
 */
export class CubicController implements CongestionController {
  readonly name = 'cubic';
  cwnd = 0;
  ssthresh = 0;
  /** Window before the last reduction, segments. RFC 9438 §4.1.2 */
  #wMax = 0;
  /** W_max before that, for fast convergence. RFC 9438 §4.7 */
  #wLastMax = 0;
  /** Time the current congestion-avoidance epoch began, ms; -1 before one begins. */
  #epochStart = -1;
  /** Time for W_cubic to reach W_max, seconds. RFC 9438 §4.2 */
  #k = 0;
  /** The Reno-friendly window estimate, segments. RFC 9438 §4.3 */
  #wEst = 0;
  /** Window in segments, with the fraction congestion avoidance accumulates. */
  #segments = 0;

  init(mss: number): void {
    this.#segments = INITIAL_WINDOW_SEGMENTS;
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
    this.ssthresh = 0x7fffffff;
    this.#wMax = 0;
    this.#wLastMax = 0;
    this.#epochStart = -1;
    this.#k = 0;
    this.#wEst = 0;
  }

  onAck(acked: number, mss: number, now: number, srttMs: number): void {
    if (this.cwnd < this.ssthresh) {
      // Slow start, RFC 5681 §3.1 with RFC 3465 §2.2 (L = 2)
      this.cwnd += acked < 2 * mss ? acked : 2 * mss;
      this.#segments = this.cwnd / mss;
      return;
    }
    if (this.#epochStart < 0) {
      // A new congestion-avoidance epoch. RFC 9438 §4.2
      this.#epochStart = now;
      if (this.#wMax < this.#segments) {
        this.#k = 0;
        this.#wMax = this.#segments;
      } else {
        this.#k = Math.cbrt((this.#wMax - this.#segments) / C);
      }
      this.#wEst = this.#segments;
    }
    const ackedSegments = acked / mss;
    const t = (now - this.#epochStart + srttMs) / 1000; // W_cubic(t + RTT), RFC 9438 §4.2
    const target = C * (t - this.#k) ** 3 + this.#wMax;
    this.#wEst += (ALPHA * ackedSegments) / this.#segments; // RFC 9438 §4.3
    if (target > this.#segments) {
      // Concave or convex region: approach the target over one RTT. RFC 9438 §4.4, §4.5
      let cap = target;
      if (cap > 1.5 * this.#segments) cap = 1.5 * this.#segments;
      this.#segments += ((cap - this.#segments) / this.#segments) * ackedSegments;
    }
    if (this.#wEst > this.#segments) this.#segments = this.#wEst; // Reno-friendly region
    this.cwnd = Math.floor(this.#segments * mss);
  }

  #reduce(mss: number): void {
    const w = this.#segments;
    // Fast convergence: yield to newer flows when the maximum keeps falling. RFC 9438 §4.7
    this.#wMax = w < this.#wLastMax ? (w * (1 + BETA)) / 2 : w;
    this.#wLastMax = w;
    const reduced = Math.max(w * BETA, 2);
    this.ssthresh = Math.floor(reduced * mss); // RFC 9438 §4.6
    this.#epochStart = -1;
  }

  onEnterRecovery(_flight: number, mss: number): void {
    this.#reduce(mss);
    this.#segments = this.ssthresh / mss;
    this.cwnd = this.ssthresh;
  }

  onExitRecovery(mss: number): void {
    this.cwnd = this.ssthresh;
    this.#segments = this.ssthresh / mss;
  }

  onRto(_flight: number, mss: number): void {
    this.#reduce(mss);
    this.cwnd = mss; // RFC 9438 §4.8: after a timeout, restart from one segment
    this.#segments = 1;
  }
}
