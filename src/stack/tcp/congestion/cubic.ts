import type { CongestionControl } from './controller.ts';
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
export class Cubic implements CongestionControl {
  readonly name = 'cubic';
  /** Congestion window, bytes. */
  readonly #cwnd: Int32Array;
  /** Slow start threshold, bytes. */
  readonly #ssthresh: Int32Array;
  /** Window before the last reduction, segments. RFC 9438 §4.1.2 */
  readonly #wMax: Float64Array;
  /** W_max before that, for fast convergence. RFC 9438 §4.7 */
  readonly #wLastMax: Float64Array;
  /** Time the current congestion-avoidance epoch began, ms; -1 before one begins. */
  readonly #epochStart: Float64Array;
  /** Time for W_cubic to reach W_max, seconds. RFC 9438 §4.2 */
  readonly #k: Float64Array;
  /** The Reno-friendly window estimate, segments. RFC 9438 §4.3 */
  readonly #wEst: Float64Array;
  /** Window in segments, with the fraction congestion avoidance accumulates. */
  readonly #segments: Float64Array;

  constructor(connections: number) {
    this.#cwnd = new Int32Array(connections);
    this.#ssthresh = new Int32Array(connections);
    this.#wMax = new Float64Array(connections);
    this.#wLastMax = new Float64Array(connections);
    this.#epochStart = new Float64Array(connections);
    this.#k = new Float64Array(connections);
    this.#wEst = new Float64Array(connections);
    this.#segments = new Float64Array(connections);
  }

  cwnd(t: number): number {
    return this.#cwnd[t];
  }

  ssthresh(t: number): number {
    return this.#ssthresh[t];
  }

  init(t: number, mss: number): void {
    this.#segments[t] = INITIAL_WINDOW_SEGMENTS;
    this.#cwnd[t] = INITIAL_WINDOW_SEGMENTS * mss;
    this.#ssthresh[t] = 0x7fffffff;
    this.#wMax[t] = 0;
    this.#wLastMax[t] = 0;
    this.#epochStart[t] = -1;
    this.#k[t] = 0;
    this.#wEst[t] = 0;
  }

  onAck(t: number, acked: number, mss: number, now: number, srttMs: number): void {
    if (this.#cwnd[t] < this.#ssthresh[t]) {
      // Slow start, RFC 5681 §3.1 with RFC 3465 §2.2 (L = 2)
      this.#cwnd[t] += acked < 2 * mss ? acked : 2 * mss;
      this.#segments[t] = this.#cwnd[t] / mss;
      return;
    }
    let segments = this.#segments[t];
    if (this.#epochStart[t] < 0) {
      // A new congestion-avoidance epoch. RFC 9438 §4.2
      this.#epochStart[t] = now;
      if (this.#wMax[t] < segments) {
        this.#k[t] = 0;
        this.#wMax[t] = segments;
      } else {
        this.#k[t] = Math.cbrt((this.#wMax[t] - segments) / C);
      }
      this.#wEst[t] = segments;
    }
    const ackedSegments = acked / mss;
    const elapsed = (now - this.#epochStart[t] + srttMs) / 1000; // W_cubic(t + RTT), RFC 9438 §4.2
    const target = C * (elapsed - this.#k[t]) ** 3 + this.#wMax[t];
    this.#wEst[t] += (ALPHA * ackedSegments) / segments; // RFC 9438 §4.3
    if (target > segments) {
      // Concave or convex region: approach the target over one RTT. RFC 9438 §4.4, §4.5
      let cap = target;
      if (cap > 1.5 * segments) cap = 1.5 * segments;
      segments += ((cap - segments) / segments) * ackedSegments;
    }
    if (this.#wEst[t] > segments) segments = this.#wEst[t]; // Reno-friendly region
    this.#segments[t] = segments;
    this.#cwnd[t] = Math.floor(segments * mss);
  }

  #reduce(t: number, mss: number): void {
    const w = this.#segments[t];
    // Fast convergence: yield to newer flows when the maximum keeps falling. RFC 9438 §4.7
    this.#wMax[t] = w < this.#wLastMax[t] ? (w * (1 + BETA)) / 2 : w;
    this.#wLastMax[t] = w;
    const reduced = Math.max(w * BETA, 2);
    this.#ssthresh[t] = Math.floor(reduced * mss); // RFC 9438 §4.6
    this.#epochStart[t] = -1;
  }

  onEnterRecovery(t: number, _flight: number, mss: number): void {
    this.#reduce(t, mss);
    this.#segments[t] = this.#ssthresh[t] / mss;
    this.#cwnd[t] = this.#ssthresh[t];
  }

  onExitRecovery(t: number, mss: number): void {
    this.#cwnd[t] = this.#ssthresh[t];
    this.#segments[t] = this.#ssthresh[t] / mss;
  }

  onRto(t: number, _flight: number, mss: number): void {
    this.#reduce(t, mss);
    this.#cwnd[t] = mss; // RFC 9438 §4.8: after a timeout, restart from one segment
    this.#segments[t] = 1;
  }
}
