import type { CongestionController } from './controller.ts';

/** Initial window of 10 segments. RFC 6928 §2. */
export const INITIAL_WINDOW_SEGMENTS = 10;

/** Reno congestion control, RFC 5681 §3.1, with appropriate byte counting (RFC 3465, L = 2). */
export class RenoController implements CongestionController {
  readonly name = 'reno';
  cwnd = 0;
  ssthresh = 0;
  /** Bytes acknowledged since cwnd last grew in congestion avoidance (RFC 3465 §2.1). */
  #bytesAcked = 0;

  init(mss: number): void {
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
    this.ssthresh = 0x7fffffff; // RFC 5681 §3.1: arbitrarily high
    this.#bytesAcked = 0;
  }

  onAck(acked: number, mss: number): void {
    if (this.cwnd < this.ssthresh) {
      // Slow start: grow by the bytes acknowledged, at most 2*SMSS per ACK. RFC 3465 §2.2
      this.cwnd += acked < 2 * mss ? acked : 2 * mss;
      return;
    }
    // Congestion avoidance: one SMSS per cwnd of acknowledged bytes. RFC 3465 §2.1
    this.#bytesAcked += acked;
    if (this.#bytesAcked >= this.cwnd) {
      this.#bytesAcked -= this.cwnd;
      this.cwnd += mss;
    }
  }

  onEnterRecovery(flight: number, mss: number): void {
    this.ssthresh = Math.max(flight >>> 1, 2 * mss); // RFC 5681 (4)
    this.cwnd = this.ssthresh; // the sender inflates it while recovering without SACK (RFC 5681 §3.2 step 3)
  }

  onExitRecovery(): void {
    this.cwnd = this.ssthresh; // RFC 6582 §3.2 step 3, full acknowledgment: deflate
    this.#bytesAcked = 0;
  }

  onRto(flight: number, mss: number): void {
    this.ssthresh = Math.max(flight >>> 1, 2 * mss); // RFC 5681 (4)
    this.cwnd = mss; // RFC 5681 §3.1: loss window of one segment
    this.#bytesAcked = 0;
  }
}
