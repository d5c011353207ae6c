/** A small seeded PRNG (mulberry32) for reproducible randomized tests. */
export class Prng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed | 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let z = (this.#s = (this.#s + 0x6d2b79f5) | 0);
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
