/**
 * What a test may do to a port's frames: the impair wrapper (src/io/impair.ts) applies it, and mtcp.conf's
 * `impair` key (src/config) sets it. It lives here, below both, so they share one definition without
 * importing each other.
 */
export interface LinkImpairments {
  /** Probability a frame is lost, in each direction. */
  loss: number;
  /** Probability one bit of a frame is flipped, in each direction. */
  corrupt: number;
  /** Probability a received frame arrives twice. */
  duplicate: number;
  /** Probability a received frame is held back by reorderMs, letting later ones pass it. */
  reorder: number;
  /** How long a reordered frame is held, ms. */
  reorderMs: number;
  /** Every received frame arrives this much later, ms. */
  delayMs: number;
}
