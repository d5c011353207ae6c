/**
 * Congestion control, behind one interface so algorithms plug in by the `cc`
 * config key. The controller owns cwnd and ssthresh (bytes); the sender owns
 * loss detection and tells the controller what happened.
 */
export interface CongestionController {
  readonly name: string;
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow start threshold, bytes. */
  ssthresh: number;
  /** A new connection with sender MSS `mss` starts. */
  init(mss: number, now: number): void;
  /** `acked` bytes of new data were cumulatively acknowledged outside loss recovery; srttMs is the smoothed RTT. */
  onAck(acked: number, mss: number, now: number, srttMs: number): void;
  /** Loss detected by duplicate ACKs or SACK: set ssthresh and cwnd = ssthresh, with `flight` bytes outstanding. */
  onEnterRecovery(flight: number, mss: number, now: number): void;
  /** Fast recovery completed (the recovery point was acknowledged). */
  onExitRecovery(mss: number, now: number): void;
  /** Retransmission timeout with `flight` bytes outstanding. */
  onRto(flight: number, mss: number, now: number): void;
}
