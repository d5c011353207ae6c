/**
 * Congestion control, behind one interface so algorithms plug in by the `cc`
 * config key. One controller serves every connection of a context and keeps
 * its state per connection id; it owns cwnd and ssthresh (bytes). Loss
 * recovery (recovery.ts) detects losses and tells the controller what
 * happened; NewReno's temporary inflation during recovery is recovery's own.
 */
export interface CongestionControl {
  readonly name: string;
  /** Congestion window of connection t, bytes. */
  cwnd(t: number): number;
  /** Slow start threshold of connection t, bytes. */
  ssthresh(t: number): number;
  /** Connection t starts with sender MSS `mss`. */
  init(t: number, mss: number, now: number): void;
  /** `acked` bytes of new data were cumulatively acknowledged outside loss recovery; srttMs is the smoothed RTT. */
  onAck(t: number, acked: number, mss: number, now: number, srttMs: number): void;
  /** Loss detected by duplicate ACKs or SACK: set ssthresh and cwnd = ssthresh, with `flight` bytes outstanding. */
  onEnterRecovery(t: number, flight: number, mss: number, now: number): void;
  /** Fast recovery completed (the recovery point was acknowledged). */
  onExitRecovery(t: number, mss: number, now: number): void;
  /** Retransmission timeout with `flight` bytes outstanding. */
  onRto(t: number, flight: number, mss: number, now: number): void;
}
