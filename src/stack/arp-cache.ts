/**
 * Neighbour resolution, RFC 826: static entries from arp.conf, learned entries
 * that go stale after a while (and are refreshed while still used, as Linux's
 * neighbour table does), and a small queue of frames waiting for a reply.
 */
import { copyBytes } from './copy.ts';

/** A learned entry is fresh this long; after that it is used but refreshed. */
export const ARP_REACHABLE_MS = 60_000;
/** A waiting frame is dropped after this long without a reply. */
export const ARP_PENDING_TIMEOUT_MS = 1_000;
/** At most one request per next hop per this interval. */
export const ARP_REQUEST_INTERVAL_MS = 100;
/** While frames wait for a next hop, its request is repeated this often (a lost request or reply is not final). */
export const ARP_RETRY_MS = 250;
/**
 * A stale entry is refreshed by unicast to its known address (and used meanwhile); stale for longer than
 * this, the neighbour may have moved to another address, so the refresh is broadcast (Linux's PROBE, then FAILED).
 */
export const ARP_UNICAST_PROBE_MS = 3_000;
/**
 * Learned entries (and request records) kept at most; the least recently learned goes first.
 * Anyone on the link can announce any address, so the table must not grow with them (Linux gc_thresh3).
 */
export const ARP_MAX_ENTRIES = 1024;

/** Static lookup, e.g. the config's ArpTable (longest prefix match). */
export interface StaticNeighbours {
  lookup(ip: number): number;
}

export class ArpCache {
  readonly #macs = new Map<number, number>();
  readonly #freshUntil = new Map<number, number>();
  readonly #lastRequest = new Map<number, number>();
  /** One-entry memo for the common case of one next hop. */
  #lastIp = -1;
  #lastMac = -1;

  constructor(readonly statics: StaticNeighbours | null, readonly capacity = ARP_MAX_ENTRIES) {}

  /** MAC for `ip`, or -1. */
  lookup(ip: number): number {
    if (ip === this.#lastIp) return this.#lastMac;
    let mac = this.#macs.get(ip) ?? -1;
    if (mac < 0 && this.statics) mac = this.statics.lookup(ip);
    if (mac >= 0) {
      this.#lastIp = ip;
      this.#lastMac = mac;
    }
    return mac;
  }

  /** Learn or refresh ip → mac. Returns true when the entry is new or changed. */
  learn(ip: number, mac: number, now: number): boolean {
    const old = this.#macs.get(ip);
    if (old !== undefined) this.#macs.delete(ip); // re-inserted below: Map order is learning order
    else if (this.#macs.size >= this.capacity) this.#forget(this.#macs.keys().next().value as number);
    this.#macs.set(ip, mac);
    this.#freshUntil.set(ip, now + ARP_REACHABLE_MS);
    if (ip === this.#lastIp) this.#lastMac = mac;
    return old !== mac;
  }

  /** Until when a learned entry for `ip` is fresh, ms; Infinity for static or unknown entries (never refreshed). */
  freshUntil(ip: number): number {
    return this.#freshUntil.get(ip) ?? Infinity;
  }

  /** Whether `ip` has a learned entry. */
  has(ip: number): boolean {
    return this.#macs.has(ip);
  }

  /** Whether a request for `ip` may be sent now, at most one per `interval` ms; records it when so. */
  mayRequest(ip: number, now: number, interval = ARP_REQUEST_INTERVAL_MS): boolean {
    const last = this.#lastRequest.get(ip);
    if (last !== undefined && now - last < interval) return false;
    if (last !== undefined) this.#lastRequest.delete(ip);
    else if (this.#lastRequest.size >= this.capacity) this.#lastRequest.delete(this.#lastRequest.keys().next().value as number);
    this.#lastRequest.set(ip, now);
    return true;
  }

  get size(): number {
    return this.#macs.size;
  }

  /** Request records kept for the rate limit. */
  get requestRecords(): number {
    return this.#lastRequest.size;
  }

  /** Drop a learned entry. */
  #forget(ip: number): void {
    this.#macs.delete(ip);
    this.#freshUntil.delete(ip);
    if (ip === this.#lastIp) this.#lastIp = -1;
  }
}

/**
 * Frames waiting for their next hop's MAC, copied into a fixed arena.
 * When full, the oldest waiting frame is dropped.
 */
export class PendingFrames {
  readonly bytes: Uint8Array;
  /** Next hop each slot waits for (int32, so any value is valid: see #used). */
  readonly #nextHop: Int32Array;
  readonly #used: Uint8Array;
  readonly #len: Int32Array;
  readonly #queuedAt: Float64Array;
  #count = 0;

  constructor(readonly slots: number, readonly slotSize: number) {
    this.bytes = new Uint8Array(slots * slotSize);
    this.#nextHop = new Int32Array(slots);
    this.#used = new Uint8Array(slots);
    this.#len = new Int32Array(slots);
    this.#queuedAt = new Float64Array(slots);
  }

  get count(): number {
    return this.#count;
  }

  /** Copy a frame in. Returns true if an older frame had to be dropped to make room. */
  add(nextHop: number, src: Uint8Array, off: number, len: number, now: number): boolean {
    let slot = -1;
    let oldest = 0;
    for (let i = 0; i < this.slots; i++) {
      if (!this.#used[i]) {
        slot = i;
        break;
      }
      if (this.#queuedAt[i] < this.#queuedAt[oldest]) oldest = i;
    }
    const evicted = slot < 0;
    if (evicted) slot = oldest;
    else this.#count++;
    copyBytes(src, off, this.bytes, slot * this.slotSize, len);
    this.#nextHop[slot] = nextHop;
    this.#used[slot] = 1;
    this.#len[slot] = len;
    this.#queuedAt[slot] = now;
    return evicted;
  }

  /** Call `send(offset, len)` for each frame waiting for `nextHop` and forget it. */
  release(nextHop: number, send: (off: number, len: number) => void): void {
    if (this.#count === 0) return;
    for (let i = 0; i < this.slots; i++) {
      if (!this.#used[i] || this.#nextHop[i] !== (nextHop | 0)) continue;
      send(i * this.slotSize, this.#len[i]);
      this.#used[i] = 0;
      this.#count--;
    }
  }

  /** Call `visit(nextHop)` for each waiting frame (a hop once per frame). */
  forEachHop(visit: (nextHop: number) => void): void {
    if (this.#count === 0) return;
    for (let i = 0; i < this.slots; i++) if (this.#used[i]) visit(this.#nextHop[i]);
  }

  /** Drop frames older than ARP_PENDING_TIMEOUT_MS; returns how many. */
  expire(now: number): number {
    if (this.#count === 0) return 0;
    let n = 0;
    for (let i = 0; i < this.slots; i++) {
      if (this.#used[i] && now - this.#queuedAt[i] > ARP_PENDING_TIMEOUT_MS) {
        this.#used[i] = 0;
        this.#count--;
        n++;
      }
    }
    return n;
  }
}
