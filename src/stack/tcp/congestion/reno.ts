import type { CongestionControl } from './controller.ts';

/** Initial window of 10 segments. RFC 6928 §2. */
export const INITIAL_WINDOW_SEGMENTS = 10;

/** Reno congestion control, RFC 5681 §3.1, with appropriate byte counting (RFC 3465, L = 2). */
export class Reno implements CongestionControl {
  readonly name = 'reno';
  /** Congestion window, bytes. */
  readonly #cwnd: Int32Array;
  /** Slow start threshold, bytes. */
  readonly #ssthresh: Int32Array;
  /** Bytes acknowledged since cwnd last grew in congestion avoidance (RFC 3465 §2.1). */
  readonly #bytesAcked: Int32Array;

  constructor(connections: number) {
    this.#cwnd = new Int32Array(connections);
    this.#ssthresh = new Int32Array(connections);
    this.#bytesAcked = new Int32Array(connections);
  }

  cwnd(t: number): number {
    return this.#cwnd[t];
  }

  ssthresh(t: number): number {
    return this.#ssthresh[t];
  }

  init(t: number, mss: number): void {
    this.#cwnd[t] = INITIAL_WINDOW_SEGMENTS * mss;
    this.#ssthresh[t] = 0x7fffffff; // RFC 5681 §3.1: arbitrarily high
    this.#bytesAcked[t] = 0;
  }

  onAck(t: number, acked: number, mss: number): void {
    const cwnd = this.#cwnd[t];
    if (cwnd < this.#ssthresh[t]) {
      // Slow start: grow by the bytes acknowledged, at most 2*SMSS per ACK. RFC 3465 §2.2
      this.#cwnd[t] = cwnd + (acked < 2 * mss ? acked : 2 * mss);
      return;
    }
    // Congestion avoidance: one SMSS per cwnd of acknowledged bytes. RFC 3465 §2.1
    const counted = this.#bytesAcked[t] + acked;
    if (counted >= cwnd) {
      this.#bytesAcked[t] = counted - cwnd;
      this.#cwnd[t] = cwnd + mss;
    } else {
      this.#bytesAcked[t] = counted;
    }
  }

  onEnterRecovery(t: number, flight: number, mss: number): void {
    this.#ssthresh[t] = Math.max(flight >>> 1, 2 * mss); // RFC 5681 (4)
    this.#cwnd[t] = this.#ssthresh[t]; // recovery inflates its own allowance on top without SACK (RFC 5681 §3.2 step 3)
  }

  onExitRecovery(t: number): void {
    this.#cwnd[t] = this.#ssthresh[t]; // RFC 6582 §3.2 step 3, full acknowledgment: deflate
    this.#bytesAcked[t] = 0;
  }

  onRto(t: number, flight: number, mss: number): void {
    this.#ssthresh[t] = Math.max(flight >>> 1, 2 * mss); // RFC 5681 (4)
    this.#cwnd[t] = mss; // RFC 5681 §3.1: loss window of one segment
    this.#bytesAcked[t] = 0;
  }
}
