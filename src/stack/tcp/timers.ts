/**
 * Every connection's timers: deadlines in ms (-1 when not armed) and one
 * timer-wheel entry per connection at or before the earliest of them. A
 * later deadline never moves the entry (it fires early and re-arms), so an
 * ACK that pushes the idle deadline forward costs a store, not a wheel
 * operation (gVisor's timer.go lets stopped timers stay orphaned the same way).
 * What happens when a deadline passes is the engine's timer dispatch.
 */
import { TimerWheel } from '../timer-wheel.ts';
import type { TcpClock } from './contracts.ts';

/**
 * Longest an ACK for in-order data waits for data to ride on (Linux's
 * TCP_DELACK_MIN; RFC 5681 §4.2 allows up to 500 ms). A second segment is
 * acknowledged at once.
 */
export const DELAYED_ACK_MS = 40;
/** How long a connection the application closed waits in FIN_WAIT_2 for the peer's FIN (Linux tcp_fin_timeout). */
export const FIN_WAIT2_TIMEOUT_MS = 60_000;
/** Keepalive defaults (SO_KEEPALIVE): Linux's tcp_keepalive_time, _intvl and _probes. RFC 1122 §4.2.3.6 */
export const KEEPALIVE_IDLE_MS = 7_200_000;
export const KEEPALIVE_INTERVAL_MS = 75_000;
export const KEEPALIVE_PROBES = 9;

export class ConnTimers {
  /** Retransmission (or persist) timer. RFC 6298 */
  readonly rtoAt: Float64Array;
  /** TIME_WAIT expiry, or an orphan's FIN_WAIT_2 timeout. */
  readonly timeWaitAt: Float64Array;
  /** A delayed ACK is due. RFC 5681 §4.2, RFC 1122 §4.2.3.2 */
  readonly delayedAckAt: Float64Array;
  /** Idle timeout (tcp_timeout): nothing received for that long fails the connection. */
  readonly idleAt: Float64Array;
  /** Next keepalive probe, -1 when keepalive is off. RFC 1122 §4.2.3.6 */
  readonly keepaliveAt: Float64Array;
  /** SO_KEEPALIVE. */
  readonly keepAlive: Uint8Array;
  /** TCP_KEEPIDLE: idle time before the first probe, ms. */
  readonly keepIdleMs: Int32Array;
  /** TCP_KEEPINTVL: time between unanswered probes, ms. */
  readonly keepIntvlMs: Int32Array;
  /** TCP_KEEPCNT: unanswered probes before the connection fails. */
  readonly keepCnt: Int32Array;
  /** Probes sent since the peer was last heard from. */
  readonly keepProbes: Int32Array;
  /** One entry per connection, at or before its earliest deadline. */
  readonly wheel: TimerWheel;

  constructor(
    capacity: number,
    readonly clock: TcpClock,
    /** Idle timeout, ms; -1 disables. */
    readonly idleTimeoutMs: number,
    /** TIME_WAIT duration, ms (0: the block is released on entry). */
    readonly timeWaitMs: number,
  ) {
    this.rtoAt = new Float64Array(capacity);
    this.timeWaitAt = new Float64Array(capacity);
    this.delayedAckAt = new Float64Array(capacity);
    this.idleAt = new Float64Array(capacity);
    this.keepaliveAt = new Float64Array(capacity);
    this.keepAlive = new Uint8Array(capacity);
    this.keepIdleMs = new Int32Array(capacity);
    this.keepIntvlMs = new Int32Array(capacity);
    this.keepCnt = new Int32Array(capacity);
    this.keepProbes = new Int32Array(capacity);
    this.wheel = new TimerWheel(capacity, 1, 4096);
  }

  /** A new connection: nothing armed, keepalive off with Linux's defaults. */
  reset(t: number): void {
    this.cancelAll(t);
    this.keepAlive[t] = 0;
    this.keepIdleMs[t] = KEEPALIVE_IDLE_MS;
    this.keepIntvlMs[t] = KEEPALIVE_INTERVAL_MS;
    this.keepCnt[t] = KEEPALIVE_PROBES;
    this.keepProbes[t] = 0;
  }

  /** Disarm everything (the connection ended). */
  cancelAll(t: number): void {
    this.wheel.cancel(t);
    this.rtoAt[t] = this.timeWaitAt[t] = this.idleAt[t] = this.keepaliveAt[t] = this.delayedAckAt[t] = -1;
  }

  /** (Re)start the retransmission timer at now + `rtoMs`. RFC 6298 (5.1), (5.3) */
  armRto(t: number, rtoMs: number): void {
    this.rtoAt[t] = this.clock.now + rtoMs;
    this.#arm(t, this.rtoAt[t]);
  }

  stopRto(t: number): void {
    this.rtoAt[t] = -1;
  }

  /** Acknowledge in-order data within DELAYED_ACK_MS, sooner if data or another segment comes. RFC 5681 §4.2 */
  delayAck(t: number): void {
    if (this.delayedAckAt[t] >= 0) return;
    this.delayedAckAt[t] = this.clock.now + DELAYED_ACK_MS;
    this.#arm(t, this.delayedAckAt[t]);
  }

  /** An ACK went out: no delayed one is due any more. */
  ackSent(t: number): void {
    this.delayedAckAt[t] = -1;
  }

  /** TIME_WAIT starts, or restarts on a retransmitted FIN: 2MSL from now (tcp_timewait). RFC 9293 §3.10.7.4 */
  startTimeWait(t: number): void {
    this.rtoAt[t] = this.idleAt[t] = this.keepaliveAt[t] = -1;
    this.timeWaitAt[t] = this.clock.now + this.timeWaitMs;
    this.#arm(t, this.timeWaitAt[t]);
  }

  /**
   * Nobody holds the socket and the peer may never send its FIN: give up
   * after FIN_WAIT2_TIMEOUT_MS (Linux's tcp_fin_timeout; RFC 9293 leaves it open).
   */
  startFinWait2Timeout(t: number): void {
    this.timeWaitAt[t] = this.clock.now + FIN_WAIT2_TIMEOUT_MS;
    this.#arm(t, this.timeWaitAt[t]);
  }

  /** A segment arrived: push the idle and keepalive deadlines forward (not in TIME_WAIT, whose timer alone counts). */
  touchIdle(t: number): void {
    const now = this.clock.now;
    if (this.keepAlive[t] !== 0) {
      this.keepProbes[t] = 0;
      this.keepaliveAt[t] = now + this.keepIdleMs[t];
      if (!this.wheel.isScheduled(t)) this.#arm(t, this.keepaliveAt[t]);
    }
    if (this.idleTimeoutMs < 0) return;
    this.idleAt[t] = now + this.idleTimeoutMs;
    if (!this.wheel.isScheduled(t)) this.#arm(t, this.idleAt[t]);
  }

  /**
   * Turn keepalive on or off with its idle time, interval and probe count
   * (ms, ms, count); `open`: the connection is not CLOSED, so probing starts now. RFC 1122 §4.2.3.6
   */
  setKeepAlive(t: number, on: boolean, idleMs: number, intvlMs: number, cnt: number, open: boolean): void {
    this.keepAlive[t] = on ? 1 : 0;
    this.keepIdleMs[t] = idleMs;
    this.keepIntvlMs[t] = intvlMs;
    this.keepCnt[t] = cnt;
    this.keepProbes[t] = 0;
    this.keepaliveAt[t] = -1;
    if (on && open) {
      this.keepaliveAt[t] = this.clock.now + idleMs;
      this.#arm(t, this.keepaliveAt[t]);
    }
  }

  /** After the dispatch handled t's due deadlines: put its wheel entry at the earliest one left. */
  rearm(t: number): void {
    let at = Infinity;
    const rto = this.rtoAt[t];
    const tw = this.timeWaitAt[t];
    const idle = this.idleAt[t];
    const ka = this.keepaliveAt[t];
    const da = this.delayedAckAt[t];
    if (rto >= 0 && rto < at) at = rto;
    if (tw >= 0 && tw < at) at = tw;
    if (idle >= 0 && idle < at) at = idle;
    if (ka >= 0 && ka < at) at = ka;
    if (da >= 0 && da < at) at = da;
    if (at !== Infinity) this.wheel.schedule(t, at);
  }

  /** The wheel keeps one entry per connection at or before its earliest deadline. */
  #arm(t: number, at: number): void {
    const cur = this.wheel.deadlineOf(t);
    if (cur < 0 || at < cur) this.wheel.schedule(t, at);
  }
}
