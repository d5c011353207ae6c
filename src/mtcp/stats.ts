/**
 * Statistics across cores. Each context copies its counters (src/stack/stats.ts)
 * into its row of a SharedArrayBuffer board every STATS_PUBLISH_MS while it
 * runs, before it sleeps and when it stops; any thread holding the board (the
 * main thread of runOnCores, or the one running the contexts) reads every
 * core's row without asking the cores for anything. A row is written by one
 * thread only; a reader may see a row half way through an update, which moves
 * a figure by one publication at most.
 *
 * `stat_print` prints, every second, a line per core and a total in the
 * format of mTCP's PrintNetworkStats (core.c), then a line of TCP counters in
 * the same style.
 */
import type { Stats } from '../stack/stats.ts';
import { DROP_REASON_NAMES, DropReason } from '../stack/drop-reason.ts';

/** How often a running context copies its counters to the board, ms. */
export const STATS_PUBLISH_MS = 100;

/** One core's counters (or the total of all cores), cumulative since the context started. */
export interface CoreStats {
  /** Core number; -1 for the total. */
  core: number;
  /** Frames and bytes received from the queue, and handed to it. */
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Frames dropped, all reasons. */
  drops: number;
  /** Frames dropped, by reason (DROP_REASON_NAMES; only non-zero ones). */
  dropsByReason: Record<string, number>;
  /** Connections opened by this core (SYN sent). */
  opened: number;
  /** Connections accepted on a listener. */
  accepted: number;
  /** Connections whose control block was released. */
  closed: number;
  /** Connections in use now (any state). */
  active: number;
  /** Segments retransmitted. */
  retransmissions: number;
}

export interface StatsReport {
  /** By core: null for a core whose context never published (not started). */
  cores: (CoreStats | null)[];
  total: CoreStats;
}

// Row layout: Float64 fields, then one per drop reason.
const PUBLISHED = 0;
const RX_FRAMES = 1;
const RX_BYTES = 2;
const TX_FRAMES = 3;
const TX_BYTES = 4;
const OPENED = 5;
const ACCEPTED = 6;
const CLOSED = 7;
const ACTIVE = 8;
const RETRANSMITS = 9;
const DROPS = 10;
const ROW = DROPS + DropReason.Count;

/** Every core's counters in one SharedArrayBuffer (structured-cloneable: it crosses to workers). */
export class StatsBoard {
  readonly #rows: Float64Array;

  constructor(
    readonly cores: number,
    /** An existing board's buffer (from `buffer` in another thread), or a new one. */
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(cores * ROW * 8),
  ) {
    if (buffer.byteLength !== cores * ROW * 8) throw new RangeError(`stats board: ${buffer.byteLength} bytes do not hold ${cores} core(s)`);
    this.#rows = new Float64Array(buffer);
  }

  /** Copy a context's counters into its row (called by the context's own thread). */
  publish(core: number, s: Stats, active: number): void {
    const r = this.#rows;
    const o = core * ROW;
    r[o + RX_FRAMES] = s.rxFrames;
    r[o + RX_BYTES] = s.rxBytes;
    r[o + TX_FRAMES] = s.txFrames;
    r[o + TX_BYTES] = s.txBytes;
    r[o + OPENED] = s.tcpActiveOpens;
    r[o + ACCEPTED] = s.tcpPassiveOpens;
    r[o + CLOSED] = s.tcpClosed;
    r[o + ACTIVE] = active;
    r[o + RETRANSMITS] = s.tcpRetransmits;
    for (let i = 1; i < DropReason.Count; i++) r[o + DROPS + i] = s.drops[i];
    r[o + PUBLISHED] = 1;
  }

  /** One core's counters, or null before its context first published. */
  read(core: number): CoreStats | null {
    const r = this.#rows;
    const o = core * ROW;
    if (r[o + PUBLISHED] === 0) return null;
    const dropsByReason: Record<string, number> = {};
    let drops = 0;
    for (let i = 1; i < DropReason.Count; i++) {
      const n = r[o + DROPS + i];
      if (n > 0) dropsByReason[DROP_REASON_NAMES[i]] = n;
      drops += n;
    }
    return {
      core, packetsIn: r[o + RX_FRAMES], bytesIn: r[o + RX_BYTES], packetsOut: r[o + TX_FRAMES], bytesOut: r[o + TX_BYTES],
      drops, dropsByReason, opened: r[o + OPENED], accepted: r[o + ACCEPTED], closed: r[o + CLOSED], active: r[o + ACTIVE],
      retransmissions: r[o + RETRANSMITS],
    };
  }

  /** Every core and the total. */
  report(): StatsReport {
    const cores: (CoreStats | null)[] = [];
    for (let c = 0; c < this.cores; c++) cores.push(this.read(c));
    return { cores, total: sumStats(cores) };
  }
}

function emptyStats(core: number): CoreStats {
  return {
    core, packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, drops: 0, dropsByReason: {}, opened: 0, accepted: 0, closed: 0,
    active: 0, retransmissions: 0,
  };
}

/** The total of several cores' counters (core -1). */
export function sumStats(cores: (CoreStats | null)[]): CoreStats {
  const t = emptyStats(-1);
  for (const c of cores) {
    if (!c) continue;
    t.packetsIn += c.packetsIn;
    t.bytesIn += c.bytesIn;
    t.packetsOut += c.packetsOut;
    t.bytesOut += c.bytesOut;
    t.drops += c.drops;
    for (const [k, v] of Object.entries(c.dropsByReason)) t.dropsByReason[k] = (t.dropsByReason[k] ?? 0) + v;
    t.opened += c.opened;
    t.accepted += c.accepted;
    t.closed += c.closed;
    t.active += c.active;
    t.retransmissions += c.retransmissions;
  }
  return t;
}

/** `cur - prev` for every cumulative counter (active stays as is): what happened in one interval. */
export function statsDelta(cur: CoreStats, prev: CoreStats | null): CoreStats {
  const p = prev ?? emptyStats(cur.core);
  const dropsByReason: Record<string, number> = {};
  for (const [k, v] of Object.entries(cur.dropsByReason)) if (v - (p.dropsByReason[k] ?? 0) > 0) dropsByReason[k] = v - (p.dropsByReason[k] ?? 0);
  return {
    core: cur.core, packetsIn: cur.packetsIn - p.packetsIn, bytesIn: cur.bytesIn - p.bytesIn, packetsOut: cur.packetsOut - p.packetsOut,
    bytesOut: cur.bytesOut - p.bytesOut, drops: cur.drops - p.drops, dropsByReason, opened: cur.opened - p.opened,
    accepted: cur.accepted - p.accepted, closed: cur.closed - p.closed, active: cur.active, retransmissions: cur.retransmissions - p.retransmissions,
  };
}

const pad = (v: number, width: number): string => String(Math.round(v)).padStart(width);

/**
 * The lines stat_print prints for one interval of `seconds`: for a core (or
 * the total, `[ ALL ]`), mTCP's network line — flows, RX packets/s with the
 * frames dropped (mTCP's err column), RX Gbit/s, TX packets/s, TX Gbit/s —
 * then the TCP line: connections opened, accepted and closed per second,
 * active now, retransmissions per second, drops per second by reason.
 */
export function formatStatLines(d: CoreStats, seconds: number, portName: string): string[] {
  const tag = d.core < 0 ? '[ ALL ]' : `[CPU${String(d.core).padStart(2)}]`;
  const per = (n: number): number => n / seconds;
  const gbps = (bytes: number): string => ((bytes * 8) / seconds / 1e9).toFixed(2).padStart(5);
  const reasons = Object.entries(d.dropsByReason).map(([k, v]) => `${k}: ${Math.round(per(v))}`).join(', ');
  return [
    `${tag} ${portName} flows: ${pad(d.active, 6)}, RX: ${pad(per(d.packetsIn), 7)}(pps) (err: ${pad(per(d.drops), 5)}), ${gbps(d.bytesIn)}(Gbps), ` +
      `TX: ${pad(per(d.packetsOut), 7)}(pps), ${gbps(d.bytesOut)}(Gbps)`,
    `${tag} ${portName} conns opened: ${pad(per(d.opened), 6)}/s, accepted: ${pad(per(d.accepted), 6)}/s, closed: ${pad(per(d.closed), 6)}/s, ` +
      `active: ${pad(d.active, 6)}, retrans: ${pad(per(d.retransmissions), 5)}/s${reasons ? `, drops: ${reasons}` : ''}`,
  ];
}

/** Prints every core's and the total's lines each interval (stat_print), from a board. */
export class StatPrinter {
  readonly #timer: NodeJS.Timeout;
  /** The previous report, to print differences. */
  #prev: StatsReport;
  #prevAt: number;

  constructor(
    readonly board: StatsBoard,
    readonly portName: string,
    readonly write: (text: string) => void = (text) => process.stderr.write(text),
    intervalMs = 1000,
  ) {
    this.#prev = board.report();
    this.#prevAt = performance.now();
    this.#timer = setInterval(() => this.print(), intervalMs);
    this.#timer.unref(); // printing never keeps a program alive
  }

  /** Print the lines for the time since the last print. */
  print(): void {
    const now = performance.now();
    const seconds = (now - this.#prevAt) / 1000;
    const cur = this.board.report();
    const lines: string[] = [];
    for (const c of cur.cores) {
      if (c) lines.push(...formatStatLines(statsDelta(c, this.#prev.cores[c.core]), seconds, this.portName));
    }
    lines.push(...formatStatLines(statsDelta(cur.total, this.#prev.total), seconds, this.portName));
    this.#prev = cur;
    this.#prevAt = now;
    this.write(`${lines.join('\n')}\n`);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
