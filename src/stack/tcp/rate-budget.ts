/**
 * A count of replies allowed per second of the context's clock, for answers a
 * remote host can provoke at will: challenge ACKs (RFC 5961 §7) and RSTs to
 * segments without a connection (RFC 9293 §3.10.7.1; Linux limits the same
 * with icmp_ratelimit-style budgets). Spent budget is counted, not queued.
 */
export class RateBudget {
  #second = -1;
  #spent = 0;

  constructor(readonly perSecond: number) {}

  /** Whether one more reply fits in the budget of the second that holds `nowMs`. */
  take(nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#spent = 0;
    }
    if (this.#spent >= this.perSecond) return false;
    this.#spent++;
    return true;
  }
}
