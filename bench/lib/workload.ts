/** What a benchmark client does, and what it reports. Shared by the mTCP and node:net implementations. */

export interface WorkloadSpec {
  /**
   * short: connect, one request, one reply, close; pingpong: requests back to back on long-lived
   * connections; bulk: one-way stream of 256 KiB writes; mixed: requestsPerConnection requests, then reconnect.
   */
  kind: 'short' | 'pingpong' | 'bulk' | 'mixed';
  /** Connections open at once. */
  concurrency: number;
  /** Request and reply size, bytes. */
  messageSize: number;
  durationMs: number;
  /** For mixed: requests before the client closes and reconnects (0: never). */
  requestsPerConnection: number;
  /** short and mixed: end once this many connections were opened and have finished (default: run for durationMs). */
  totalConnections?: number;
  /** End once this many requests were answered (default: run for durationMs). */
  totalRequests?: number;
}

export interface WorkloadResult {
  /** Connections that completed their requests and closed. */
  connections: number;
  /** Request/reply exchanges completed. */
  requests: number;
  /** Payload bytes moved (read plus, for bulk, written). */
  bytes: number;
  errors: number;
  seconds: number;
  latency: LatencyRecorder;
}

/** Latencies in ms; keeps up to `capacity` samples (reservoir of the first ones) and reports percentiles. */
export class LatencyRecorder {
  readonly #samples: Float64Array;
  #count = 0;

  constructor(capacity = 1 << 20) {
    this.#samples = new Float64Array(capacity);
  }

  record(ms: number): void {
    if (this.#count < this.#samples.length) this.#samples[this.#count] = ms;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** Percentile p (0..100) in ms; NaN without samples. */
  percentile(p: number): number {
    const n = Math.min(this.#count, this.#samples.length);
    if (n === 0) return NaN;
    const sorted = this.#samples.slice(0, n).sort();
    const i = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
    return sorted[i];
  }

  /** The samples kept (for moving a recorder across threads). */
  toArray(): Float64Array {
    return this.#samples.slice(0, Math.min(this.#count, this.#samples.length));
  }

  static from(samples: Float64Array): LatencyRecorder {
    const r = new LatencyRecorder(Math.max(samples.length, 1));
    for (const s of samples) r.record(s);
    return r;
  }
}
