/** Retransmission timeout bounds. */
export const RTO_INITIAL_MS = 1000; // RFC 6298 (2.1)
/** RFC 6298 (2.4) asks for 1 s; like Linux (TCP_RTO_MIN) we use 200 ms, which suits low-latency paths. */
export const RTO_MIN_MS = 200;
export const RTO_MAX_MS = 60_000; // RFC 6298 (2.5): a maximum of at least 60 s
/** RTO when the handshake gave no RTT sample after a retransmission. RFC 6298 (5.7) */
export const RTO_FALLBACK_MS = 3000;
const CLOCK_GRANULARITY_MS = 1; // G in RFC 6298 (2.2); our clock ticks in ms

/**
 * Smoothed RTT and RTO for one connection, RFC 6298, in integer milliseconds
 * with Jacobson's scaled variables (srtt x 8, rttvar x 4, as BSD and Linux
 * keep them) so that no fractional number is boxed per ACK.
 */
export class RttEstimator {
  /** Smoothed round-trip time x 8, ms. */
  #srtt8 = 0;
  /** Round-trip time variation x 4, ms. */
  #rttvar4 = 0;
  /** Current retransmission timeout, ms, backoff included. */
  rtoMs = RTO_INITIAL_MS;
  /** Number of samples taken. */
  samples = 0;

  /** Smoothed round-trip time in whole ms (0 until the first sample). */
  get srttMs(): number {
    return this.#srtt8 >> 3;
  }

  /** Smoothed round-trip time, ms (0 until the first sample). */
  get srtt(): number {
    return this.#srtt8 / 8;
  }

  /** Round-trip time variation, ms. */
  get rttvar(): number {
    return this.#rttvar4 / 4;
  }

  reset(): void {
    this.#srtt8 = 0;
    this.#rttvar4 = 0;
    this.rtoMs = RTO_INITIAL_MS;
    this.samples = 0;
  }

  /** Feed one RTT measurement (ms). RFC 6298 (2.2), (2.3): alpha = 1/8, beta = 1/4, K = 4. */
  sample(rttMs: number): void {
    if (rttMs < 0) return;
    const rtt = rttMs | 0;
    if (this.samples === 0) {
      this.#srtt8 = rtt << 3;
      this.#rttvar4 = rtt << 1; // RTTVAR = R/2
    } else {
      let err = rtt - (this.#srtt8 >> 3);
      this.#srtt8 += err; // SRTT += (R - SRTT) / 8
      if (err < 0) err = -err;
      this.#rttvar4 += err - (this.#rttvar4 >> 2); // RTTVAR += (|err| - RTTVAR) / 4
    }
    this.samples++;
    const k4 = this.#rttvar4; // K * RTTVAR
    this.rtoMs = clampRto((this.#srtt8 >> 3) + (k4 > CLOCK_GRANULARITY_MS ? k4 : CLOCK_GRANULARITY_MS));
  }

  /**
   * The handshake is over. Without a sample from it (its SYN or SYN|ACK was sent again), the RTO
   * starts data transfer at 3 s, neither at the 1 s initial value nor at the handshake's backoff.
   * RFC 6298 (5.7), as Linux's tcp_init_metrics.
   */
  handshakeDone(retransmitted: boolean): void {
    if (this.samples === 0 && retransmitted) this.rtoMs = RTO_FALLBACK_MS;
  }

  /** Double the RTO after a timeout. RFC 6298 (5.5). */
  backoff(): void {
    this.rtoMs = clampRto(this.rtoMs * 2);
  }
}

function clampRto(ms: number): number {
  return ms < RTO_MIN_MS ? RTO_MIN_MS : ms > RTO_MAX_MS ? RTO_MAX_MS : ms;
}
