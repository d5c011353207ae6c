/**
 * A deterministic world for whole-stack experiments: several StackContexts on
 * one SimWire, driven synchronously in virtual time (no event loop, no Node
 * timers). The scenario generator, the fuzzer and the goodput measurement run
 * on it. The same seed and the same calls give the same run, frame for frame.
 */
import { SimWire, type Impairments, type SimDriver } from '../src/io/sim.ts';
import { StackContext } from '../src/stack/context.ts';
import type { TcpConfig } from '../src/stack/tcp/engine.ts';

/** Hosts live at 198.18.0.<index + 1>, MAC 02:00:c6:12:00:<index + 1>. */
export const hostIp = (index: number): number => (0xc6120000 + index + 1) | 0;
export const hostMac = (index: number): number => 0x0200c6120000 + index + 1;

export type WakeHandler = (sockid: number, bits: number) => void;

export interface Host {
  readonly index: number;
  readonly ip: number;
  readonly driver: SimDriver;
  readonly ctx: StackContext;
  /** Receives every socket event this host's TCP raises; set by the experiment. */
  onWake: WakeHandler;
}

export interface WorldOptions {
  seed: number;
  hosts?: number;
  /** TCP settings for every host (defaults: 1024 connections, 16 KiB buffers, Reno). */
  tcp?: Partial<TcpConfig>;
  /** MTU of every host (default 1500). */
  mtu?: number;
}

const DEFAULT_TCP: TcpConfig = {
  maxConcurrency: 1024, maxNumBuffers: 1024, rcvbuf: 16384, sndbuf: 16384, idleTimeoutMs: -1, timeWaitMs: 0,
  mtu: 1500, cc: 'reno', secret: [0, 0],
};

/** Polls of one host at one instant before the world gives up (a stack that never settles is a bug). */
const MAX_POLLS_PER_INSTANT = 100_000;

export class World {
  readonly wire: SimWire;
  readonly hosts: Host[] = [];

  constructor(opts: WorldOptions) {
    this.wire = new SimWire({ seed: opts.seed, slots: 1 << 17 });
    const n = opts.hosts ?? 2;
    for (let i = 0; i < n; i++) {
      const driver = this.wire.attach(hostMac(i), { txSlots: 512 });
      const host: Host = { index: i, ip: hostIp(i), driver, ctx: undefined as unknown as StackContext, onWake: () => {} };
      const tcp: TcpConfig = { ...DEFAULT_TCP, mtu: opts.mtu ?? 1500, ...opts.tcp, secret: [opts.seed ^ (i * 0x9e3779b1), i + 1] };
      const ip = host.ip;
      (host as { ctx: StackContext }).ctx = new StackContext(driver, 0, {
        ip,
        routes: { nextHop: (dst) => ((dst >>> 8) === (ip >>> 8) ? dst : -1) },
        staticArp: null,
        tcp,
      }, { wake: (s, b) => host.onWake(s, b) });
      this.hosts.push(host);
    }
  }

  /** Virtual time, ms. */
  get now(): number {
    return this.wire.clock.now();
  }

  /** Impairments on frames sent by `from` (a host index), or by every host. */
  impair(imp: Partial<Impairments>, from?: number): void {
    this.wire.impair(imp, from === undefined ? undefined : this.hosts[from].driver);
  }

  /** Run every host at the current instant until none has anything left to do now. */
  settle(): void {
    for (let round = 0; ; round++) {
      let busy = 0;
      for (const h of this.hosts) busy += h.ctx.poll(this.now);
      this.wire.deliverDue();
      if (busy === 0 && !this.#dueNow()) return;
      if (round > MAX_POLLS_PER_INSTANT) throw new Error(`world: the stacks never settled at t=${this.now} ms`);
    }
  }

  #dueNow(): boolean {
    for (const h of this.hosts) {
      if (h.driver.pending(0) > 0 || h.ctx.nextDeadline() <= this.now) return true;
    }
    return false;
  }

  /** Earliest time anything is due: a frame arriving or a stack timer (Infinity when nothing is). */
  nextEventAt(): number {
    let t = this.wire.nextEventAt();
    for (const h of this.hosts) {
      const d = h.ctx.nextDeadline();
      if (d < t) t = d;
    }
    return t;
  }

  /**
   * Settle, then move the clock to the next event, but not past `limit`.
   * Returns false when nothing at all is pending (the world is quiet).
   */
  step(limit = Infinity): boolean {
    this.settle();
    const next = this.nextEventAt();
    if (next === Infinity && limit === Infinity) return false;
    const to = next < limit ? next : limit;
    this.wire.advanceTo(to > this.now ? to : this.now + 1e-3);
    return true;
  }

  /** Step until `done()` holds or the clock passes `deadline`; returns whether done() held. */
  runUntil(done: () => boolean, deadline: number): boolean {
    while (!done()) {
      if (this.now >= deadline) return false;
      if (!this.step(deadline)) return done();
    }
    return true;
  }

  /** Step until virtual time `t`. */
  runTo(t: number): void {
    while (this.now < t) this.step(t);
    this.settle();
  }
}
