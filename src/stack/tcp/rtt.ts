/** Retransmission timeout bounds. */
export const RTO_INITIAL_MS = 1000; // RFC 6298 (2.1)
/** RFC 6298 (2.4) asks for 1 s; like Linux (TCP_RTO_MIN) we use 200 ms, which suits low-latency paths. */
export const RTO_MIN_MS = 200;
export const RTO_MAX_MS = 60_000; // RFC 6298 (2.5): a maximum of at least 60 s
const CLOCK_GRANULARITY_MS = 1; // G in RFC 6298 (2.2); our clock ticks in ms

/** Smoothed RTT and RTO for one connection, RFC 6298. */
export class RttEstimator {
  /** Smoothed round-trip time, ms; 0 until the first sample. */
  srtt = 0;
  /** Round-trip time variation, ms. */
  rttvar = 0;
  /** Current retransmission timeout, ms, backoff included. */
  rtoMs = RTO_INITIAL_MS;
  /** Number of samples taken. */
  samples = 0;

  reset(): void {
    this.srtt = 0;
    this.rttvar = 0;
    this.rtoMs = RTO_INITIAL_MS;
    this.samples = 0;
  }

  /** Feed one RTT measurement (ms). RFC 6298 (2.2), (2.3). */
  sample(rttMs: number): void {
    if (rttMs < 0) return;
    if (this.samples === 0) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      const err = this.srtt - rttMs;
      this.rttvar = 0.75 * this.rttvar + 0.25 * (err < 0 ? -err : err); // beta = 1/4
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs; // alpha = 1/8
    }
    this.samples++;
    this.rtoMs = clampRto(this.srtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttvar));
  }

  /** Double the RTO after a timeout. RFC 6298 (5.5). */
  backoff(): void {
    this.rtoMs = clampRto(this.rtoMs * 2);
  }
}

function clampRto(ms: number): number {
  return ms < RTO_MIN_MS ? RTO_MIN_MS : ms > RTO_MAX_MS ? RTO_MAX_MS : ms;
}
