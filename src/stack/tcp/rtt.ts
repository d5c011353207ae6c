/** Retransmission timeout bounds. */
export const RTO_INITIAL_MS = 1000; // RFC 6298 (2.1)
/** RFC 6298 (2.4) asks for 1 s; like Linux (TCP_RTO_MIN) we use 200 ms, which suits low-latency paths. */
export const RTO_MIN_MS = 200;
export const RTO_MAX_MS = 60_000; // RFC 6298 (2.5): a maximum of at least 60 s
/** RTO when the handshake gave no RTT sample after a retransmission. RFC 6298 (5.7) */
export const RTO_FALLBACK_MS = 3000;
const CLOCK_GRANULARITY_MS = 1; // G in RFC 6298 (2.2); our clock ticks in ms

/**
 * Smoothed RTT and RTO of every connection, RFC 6298, in integer
 * milliseconds with Jacobson's scaled variables (srtt x 8, rttvar x 4, as BSD
 * and Linux keep them) so that no fractional number is boxed per ACK.
 */
export class RttEstimators {
  /** Smoothed round-trip time x 8, ms. */
  readonly #srtt8: Int32Array;
  /** Round-trip time variation x 4, ms. */
  readonly #rttvar4: Int32Array;
  /** Current retransmission timeout, ms, backoff included. */
  readonly #rtoMs: Int32Array;
  /** Samples taken. */
  readonly #samples: Int32Array;

  constructor(connections: number) {
    this.#srtt8 = new Int32Array(connections);
    this.#rttvar4 = new Int32Array(connections);
    this.#rtoMs = new Int32Array(connections);
    this.#samples = new Int32Array(connections);
  }

  /** A new connection: no sample yet, the initial RTO. */
  reset(t: number): void {
    this.#srtt8[t] = 0;
    this.#rttvar4[t] = 0;
    this.#rtoMs[t] = RTO_INITIAL_MS;
    this.#samples[t] = 0;
  }

  /** Current retransmission timeout, ms. */
  rtoMs(t: number): number {
    return this.#rtoMs[t];
  }

  /** Smoothed round-trip time in whole ms (0 until the first sample). */
  srttMs(t: number): number {
    return this.#srtt8[t] >> 3;
  }

  /** Smoothed round-trip time, ms (0 until the first sample). */
  srtt(t: number): number {
    return this.#srtt8[t] / 8;
  }

  /** Round-trip time variation, ms. */
  rttvar(t: number): number {
    return this.#rttvar4[t] / 4;
  }

  samples(t: number): number {
    return this.#samples[t];
  }

  /** Feed one RTT measurement (ms). RFC 6298 (2.2), (2.3): alpha = 1/8, beta = 1/4, K = 4. */
  sample(t: number, rttMs: number): void {
    if (rttMs < 0) return;
    const rtt = rttMs | 0;
    if (this.#samples[t] === 0) {
      this.#srtt8[t] = rtt << 3;
      this.#rttvar4[t] = rtt << 1; // RTTVAR = R/2
    } else {
      let err = rtt - (this.#srtt8[t] >> 3);
      this.#srtt8[t] += err; // SRTT += (R - SRTT) / 8
      if (err < 0) err = -err;
      this.#rttvar4[t] += err - (this.#rttvar4[t] >> 2); // RTTVAR += (|err| - RTTVAR) / 4
    }
    this.#samples[t]++;
    const k4 = this.#rttvar4[t]; // K * RTTVAR
    this.#rtoMs[t] = clampRto((this.#srtt8[t] >> 3) + (k4 > CLOCK_GRANULARITY_MS ? k4 : CLOCK_GRANULARITY_MS));
  }

  /**
   * The handshake is over. Without a sample from it (its SYN or SYN|ACK was sent again), the RTO
   * starts data transfer at 3 s, neither at the 1 s initial value nor at the handshake's backoff.
   * RFC 6298 (5.7), as Linux's tcp_init_metrics.
   */
  handshakeDone(t: number, retransmitted: boolean): void {
    if (this.#samples[t] === 0 && retransmitted) this.#rtoMs[t] = RTO_FALLBACK_MS;
  }

  /** Double the RTO after a timeout. RFC 6298 (5.5). */
  backoff(t: number): void {
    this.#rtoMs[t] = clampRto(this.#rtoMs[t] * 2);
  }
}

function clampRto(ms: number): number {
  return ms < RTO_MIN_MS ? RTO_MIN_MS : ms > RTO_MAX_MS ? RTO_MAX_MS : ms;
}
