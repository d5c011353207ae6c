/**
 * The 4-tuple demultiplexer: open addressing with linear probing over typed
 * arrays, deletion by backward shift (no tombstones), and a hash keyed by a
 * per-table secret so peers cannot aim for collisions.
 */
export class FlowTable {
  readonly #mask: number;
  readonly #localIp: Int32Array;
  readonly #remoteIp: Int32Array;
  readonly #ports: Int32Array;
  /** Stored value, -1 for an empty bucket. */
  readonly #value: Int32Array;
  readonly #seed: number;
  #size = 0;

  constructor(readonly capacity: number, seed = 0x9e3779b9) {
    let n = 1;
    while (n < capacity * 2) n <<= 1;
    this.#mask = n - 1;
    this.#localIp = new Int32Array(n);
    this.#remoteIp = new Int32Array(n);
    this.#ports = new Int32Array(n);
    this.#value = new Int32Array(n).fill(-1);
    this.#seed = seed | 0;
  }

  get size(): number {
    return this.#size;
  }

  #hash(localIp: number, remoteIp: number, ports: number): number {
    let h = this.#seed ^ Math.imul(localIp | 0, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ Math.imul(remoteIp | 0, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 13), 0x297a2d39) ^ ports;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h ^= h >>> 13;
    return h & this.#mask;
  }

  lookup(localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    const lip = localIp | 0;
    const rip = remoteIp | 0;
    const ports = (localPort << 16) | remotePort;
    let i = this.#hash(lip, rip, ports);
    for (;;) {
      const v = this.#value[i];
      if (v < 0) return -1;
      if (this.#ports[i] === ports && this.#remoteIp[i] === rip && this.#localIp[i] === lip) return v;
      i = (i + 1) & this.#mask;
    }
  }

  insert(localIp: number, localPort: number, remoteIp: number, remotePort: number, value: number): boolean {
    if (this.#size >= this.capacity) return false;
    const lip = localIp | 0;
    const rip = remoteIp | 0;
    const ports = (localPort << 16) | remotePort;
    let i = this.#hash(lip, rip, ports);
    for (;;) {
      if (this.#value[i] < 0) break;
      if (this.#ports[i] === ports && this.#remoteIp[i] === rip && this.#localIp[i] === lip) return false;
      i = (i + 1) & this.#mask;
    }
    this.#localIp[i] = lip;
    this.#remoteIp[i] = rip;
    this.#ports[i] = ports;
    this.#value[i] = value;
    this.#size++;
    return true;
  }

  /** Remove the entry of this 4-tuple; with `value`, only if it holds that value. Returns whether one was removed. */
  remove(localIp: number, localPort: number, remoteIp: number, remotePort: number, value = -1): boolean {
    const lip = localIp | 0;
    const rip = remoteIp | 0;
    const ports = (localPort << 16) | remotePort;
    const mask = this.#mask;
    let i = this.#hash(lip, rip, ports);
    for (;;) {
      if (this.#value[i] < 0) return false;
      if (this.#ports[i] === ports && this.#remoteIp[i] === rip && this.#localIp[i] === lip) break;
      i = (i + 1) & mask;
    }
    if (value >= 0 && this.#value[i] !== value) return false;
    // Backward-shift deletion: pull later entries of the probe run into the hole.
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.#value[j] < 0) break;
      const home = this.#hash(this.#localIp[j], this.#remoteIp[j], this.#ports[j]);
      // Move j into the hole if its home is not cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inRange) continue;
      this.#localIp[hole] = this.#localIp[j];
      this.#remoteIp[hole] = this.#remoteIp[j];
      this.#ports[hole] = this.#ports[j];
      this.#value[hole] = this.#value[j];
      hole = j;
    }
    this.#value[hole] = -1;
    this.#size--;
    return true;
  }
}
