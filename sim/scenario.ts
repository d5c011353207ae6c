/**
 * Seeded chaos scenarios: two stacks on an impaired sim wire, many
 * connections opened both ways, applications that read and write in random
 * sizes, pause reading (zero windows), half-close, close early and abort.
 * Invariants, checked as the run goes and at its end:
 *   - every byte read is the byte the peer wrote at that offset (each stream
 *     is a distinct pattern), so loss, duplication, reordering and corruption
 *     never reach the application;
 *   - a connection both sides end cleanly delivers exactly what was written,
 *     then end of stream, in both directions;
 *   - every connection ends (cleanly, or with an error on an abort) within
 *     the scenario's virtual-time bound;
 *   - once all sockets are closed and the world is quiet, no control block,
 *     buffer, timer, flow entry or wire slot is left.
 * A scenario is a pure function of its seed.
 */
import { Prng, type Impairments } from '../src/io/sim.ts';
import { DropReason } from '../src/stack/drop-reason.ts';
import { EAGAIN } from '../src/stack/errno.ts';
import { TCP_ACK, TCP_SYN } from '../src/stack/wire/tcp.ts';
import { State, STATE_NAMES } from '../src/stack/tcp/state.ts';
import { ConnView } from './conn-view.ts';
import type { CongestionControlName } from '../src/stack/tcp/congestion/index.ts';
import { FrameLog, type Party } from './frame-log.ts';
import { World, hostIp, type Host } from './world.ts';
import { STREAM_PATTERN as PATTERN, STREAM_PERIOD as PERIOD } from './stream-pattern.ts';

/**
 * Virtual time every connection must end within, ms. The slowest legitimate ending: 6 SYN retries
 * (1+2+...+64 s = 127 s), 15 data retransmissions backing off to the 60 s RTO maximum (RFC 6298 (2.5),
 * under 15 min), keepalive (10 s + 20 x 5 s), an orphan's 60 s FIN_WAIT_2 limit: well under 45 min.
 */
export const SCENARIO_BOUND_MS = 45 * 60_000;
/** Keepalive on every socket, so a peer that vanished (its RST lost) is noticed: 10 s idle, 5 s apart, 20 probes. */
const KEEPALIVE = { idleMs: 10_000, intvlMs: 5_000, cnt: 20 };
const PORT = 80;
/** World steps a scenario may take (each is one instant with something due); far above any passing seed. */
const MAX_STEPS = 2_000_000;
/** Reads one application makes on one socket in one pass. */
const READS_PER_PASS = 64;
/** Application passes at one instant, each after a socket event, before the clock moves on regardless. */
const MAX_APP_PASSES_PER_INSTANT = 1000;
/** Idle application passes over a world with nothing pending before the scenario is declared hung. */
const QUIET_PASSES = 3;

export type Ending = 'clean' | 'abort' | 'close-early';

export interface ScenarioParams {
  seed: number;
  impairments: Impairments;
  connections: number;
  cc: CongestionControlName;
  sack: boolean;
  mtu: number;
  rcvbuf: number;
  sndbuf: number;
  timeWaitMs: number;
}

export interface ScenarioResult {
  seed: number;
  ok: boolean;
  /** What failed, when !ok. */
  failure: string;
  params: ScenarioParams;
  virtualMs: number;
  bytes: number;
  /** Connections by how they ended. */
  outcomes: Record<string, number>;
  /** Connections that failed because a retry limit was reached with every answer lost (the frames show it). */
  excused: string[];
}

interface Side {
  host: Host;
  tcb: ConnView | null;
  /** Pattern offset of the stream this side writes. */
  offset: number;
  toSend: number;
  sent: number;
  received: number;
  eof: boolean;
  shutDown: boolean;
  /** 'open' until the application lets go of the socket. */
  end: 'open' | 'done' | 'error' | 'aborted' | 'closed-early';
  errno: number;
  /** Local port, once the application holds the socket. */
  port: number;
  /** Virtual time the application got the socket (connect or accept), and let go of it. */
  openedAt: number;
  endedAt: number;
  ending: Ending;
  endingAt: number;
  maxRead: number;
  maxWrite: number;
  /** While now < this, the application does not read (its window fills and closes). */
  readPausedUntil: number;
  /** Chance of a pause after each read. */
  pauseChance: number;
  /** Pauses left: a bounded number, so a slow reader still ends within the scenario's bound. */
  pausesLeft: number;
}

interface Conn {
  id: number;
  opensAt: number;
  active: Side;
  passive: Side;
  /** Index of the host that opens it. */
  from: number;
}

/** Draw the scenario parameters from the seed. */
export function scenarioParams(seed: number): ScenarioParams {
  const r = new Prng(seed * 2654435761 + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r.next() * xs.length)];
  const maybe = (p: number, hi: number): number => (r.next() < p ? r.next() * hi : 0);
  const delayMs = maybe(0.7, 20);
  return {
    seed,
    impairments: {
      loss: maybe(0.7, 0.3),
      duplicate: maybe(0.4, 0.1),
      reorder: maybe(0.4, 0.1),
      reorderMs: 1 + r.next() * 5,
      corrupt: maybe(0.3, 0.05),
      delayMs,
      jitterMs: r.next() < 0.5 ? r.next() * delayMs * 0.5 : 0,
      bandwidthBps: r.next() < 0.5 ? 0 : Math.round(1e6 * Math.pow(1000, r.next())),
    },
    connections: Math.ceil(Math.pow(64, r.next())),
    cc: pick(['reno', 'cubic'] as const),
    sack: r.next() < 0.8,
    // Not 9000: World attaches drivers with the sim wire's default 2048-byte frames, so a jumbo segment never fits a slot.
    mtu: pick([576, 1280, 1500, 1500]),
    rcvbuf: pick([2048, 4096, 16384, 65536, 262144]),
    sndbuf: pick([2048, 4096, 16384, 65536, 262144]),
    timeWaitMs: r.next() < 0.5 ? 0 : Math.floor(r.next() * 2000),
  };
}

/**
 * A fault planted on purpose, so tests can show the checker fails when it should: flip one
 * byte an application reads, keep one send buffer out of its pool, or make host 0 ignore
 * every SYN|ACK. 'cut-return-path' is the opposite check: the network loses everything host 1
 * sends, every connection fails, and the frame log must accept each failure as legitimate.
 */
export type PlantedFault = 'none' | 'corrupt-read' | 'leak-buffer' | 'swallow-syn-ack' | 'cut-return-path';

/** The one-line command that reruns `seed` exactly. */
export const reproduction = (seed: number): string => `npm run sim -- --seed ${seed}`;

/** Run the scenario of `seed` to its end; never throws (an escaped exception is a failure). */
export function runScenario(seed: number, fault: PlantedFault = 'none'): ScenarioResult {
  const params = scenarioParams(seed);
  const result: ScenarioResult = { seed, ok: false, failure: '', params, virtualMs: 0, bytes: 0, outcomes: {}, excused: [] };
  let run: ScenarioRun | null = null;
  try {
    try {
      run = new ScenarioRun(params, fault, false);
      run.execute();
    } catch (err) {
      if (!(err instanceof NeedsEvidence)) throw err;
      // A connection failed under loss: run the same seed again, recording every frame, to judge it.
      run = new ScenarioRun(params, fault, true);
      run.execute();
    }
    result.virtualMs = Math.round(run.world.now);
    result.bytes = run.bytes;
    result.outcomes = run.outcomes();
    result.excused = run.excused;
    result.ok = true;
  } catch (err) {
    if (run) result.virtualMs = Math.round(run.world.now);
    result.failure = err instanceof Error ? `${err.message}${err instanceof InvariantError ? '' : `\n${err.stack}`}` : String(err);
  }
  return result;
}

export class InvariantError extends Error {}

/** A failure only the frame log can judge (a retry limit under loss): the seed runs again with it. */
class NeedsEvidence extends InvariantError {}

class ScenarioRun {
  readonly world: World;
  readonly conns: Conn[] = [];
  readonly #r: Prng;
  readonly #buf = new Uint8Array(65536);
  /** Passive side waiting for its accept, by "host:remoteIp:remotePort". */
  readonly #byPeer = new Map<string, Side>();
  #nextSock = 100;
  /** Bytes written and read and sockets let go, by every application: changes whenever one makes progress. */
  #progress = 0;
  /** Whether a stack raised a socket event since the applications last looked. */
  #woken = false;
  bytes = 0;

  /** A receive that will have one byte flipped ('corrupt-read' plants it on the first non-empty read). */
  #corruptNextRead: boolean;

  /** Connections that failed with every answer lost, as the frame log showed (explaining runs only). */
  readonly excused: string[] = [];
  readonly #log: FrameLog | null;

  constructor(readonly p: ScenarioParams, fault: PlantedFault, explain: boolean) {
    this.#corruptNextRead = fault === 'corrupt-read';
    this.#r = new Prng(p.seed ^ 0x5bd1e995);
    const maxConcurrency = 2 * p.connections + 8;
    this.world = new World({
      seed: p.seed,
      mtu: p.mtu,
      tcp: {
        maxConcurrency, maxNumBuffers: maxConcurrency, rcvbuf: p.rcvbuf, sndbuf: p.sndbuf, idleTimeoutMs: -1,
        timeWaitMs: p.timeWaitMs, mtu: p.mtu, cc: p.cc, sack: p.sack,
      },
    });
    this.world.impair(p.impairments);
    this.#log = explain ? new FrameLog(this.world) : null;
    if (fault === 'leak-buffer') this.world.hosts[0].ctx.tcp.sndPool.alloc(0);
    if (fault === 'swallow-syn-ack') {
      // An engine that ignores every SYN|ACK reaching host 0 intact: its connects time out, and the frames say why not.
      const tcp = this.world.hosts[0].ctx.tcp;
      const input = tcp.input.bind(tcp);
      tcp.input = (buf, src, dst) => ((tcp.seg.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK) ? DropReason.TcpBadFlags : input(buf, src, dst));
    }
    // Not a fault of the stack: the network loses everything host 1 sends, so every connection fails legitimately.
    if (fault === 'cut-return-path') this.world.impair({ loss: 1 }, 1);
    for (const h of this.world.hosts) {
      h.ctx.tcp.sockets.listen(1, 0, PORT, maxConcurrency);
      h.onWake = () => {
        this.#woken = true;
      };
    }
    const r = this.#r;
    const size = (): number => (r.next() < 0.15 ? 0 : Math.floor(Math.pow(256 * 1024, r.next())));
    for (let id = 0; id < p.connections; id++) {
      const from = r.next() < 0.5 ? 0 : 1;
      const opensAt = r.next() < 0.5 ? 0 : Math.floor(r.next() * 2000);
      const side = (host: Host): Side => {
        const roll = r.next();
        const ending: Ending = roll < 0.75 ? 'clean' : roll < 0.88 ? 'abort' : 'close-early';
        return {
          host, tcb: null, port: 0, openedAt: 0, endedAt: 0, offset: Math.floor(r.next() * PERIOD), toSend: size(), sent: 0, received: 0, eof: false,
          shutDown: false, end: 'open', errno: 0, ending, endingAt: opensAt + Math.floor(r.next() * 3000),
          maxRead: 1 + Math.floor(Math.pow(65536, r.next())), maxWrite: 1 + Math.floor(Math.pow(65536, r.next())),
          readPausedUntil: 0, pauseChance: r.next() < 0.3 ? r.next() * 0.05 : 0, pausesLeft: 1 + Math.floor(r.next() * 4),
        };
      };
      this.conns.push({ id, opensAt, from, active: side(this.world.hosts[from]), passive: side(this.world.hosts[1 - from]) });
    }
  }

  execute(): void {
    const w = this.world;
    let quietPasses = 0;
    let passesNow = 0;
    for (;;) {
      const progressBefore = this.#progress;
      this.#woken = false;
      this.#applications();
      const appProgressed = this.#progress !== progressBefore;
      if (this.#allEnded()) break;
      if (w.now > SCENARIO_BOUND_MS) {
        throw new InvariantError(`connections still open after ${SCENARIO_BOUND_MS} ms of virtual time: ${this.#openConnections()}`);
      }
      // The stacks act on what the applications did; an application they wake acts again before time moves,
      // as an event loop would.
      w.settle();
      if (this.#woken && ++passesNow < MAX_APP_PASSES_PER_INSTANT) continue;
      passesNow = 0;
      // Nothing pending in the world and an application pass that did nothing, several times over: a hang.
      quietPasses = this.#step(this.#nextAppDeadline()) || appProgressed ? 0 : quietPasses + 1;
      if (quietPasses > QUIET_PASSES) {
        throw new InvariantError(`at ${this.world.now.toFixed(3)} ms nothing is pending (no frame, no timer) but connections never ended: ${this.#openConnections()}`);
      }
    }
    // Everything is closed by the applications: let the stacks finish (TIME_WAIT, orphans, lost FINs).
    const quietBy = w.now + SCENARIO_BOUND_MS;
    while (!this.#stacksEmpty()) {
      if (w.now > quietBy) throw new InvariantError(`after every socket closed, the stacks still hold: ${this.#leaks()}`);
      if (!this.#step(quietBy)) break;
      this.#acceptStragglers();
    }
    this.#drainWire();
    const leaks = this.#leaks();
    if (leaks) throw new InvariantError(`resources left after every socket closed: ${leaks}`);
    for (const c of this.conns) this.#checkDelivery(c);
  }

  outcomes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.conns) {
      const k = `${c.active.end}/${c.passive.end}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  /** World steps taken; a run that needs more than MAX_STEPS is spinning in virtual time. */
  #steps = 0;

  #step(limit: number): boolean {
    if (++this.#steps > MAX_STEPS) {
      throw new InvariantError(`no end after ${MAX_STEPS} steps, at ${this.world.now.toFixed(3)} ms of virtual time: ${this.#openConnections()}`);
    }
    return this.world.step(limit);
  }

  /** The connections not ended yet, and what the stacks hold. */
  #openConnections(): string {
    const open = this.conns.filter((c) => c.active.end === 'open' || c.passive.end === 'open')
      .map((c) => `#${c.id} active ${describeSide(c.active)} / passive ${describeSide(c.passive)}`);
    return `${open.length} open: ${open.slice(0, 3).join('; ')}; stacks hold: ${this.#leaks()}`;
  }

  #allEnded(): boolean {
    for (const c of this.conns) if (c.active.end === 'open' || (c.passive.end === 'open' && c.passive.tcb)) return false;
    // A passive side never accepted ends with its opener, once no handshake for it is left in the stacks.
    return this.#noPendingAccepts();
  }

  #noPendingAccepts(): boolean {
    for (const h of this.world.hosts) {
      const l = h.ctx.tcp.sockets.listener(PORT)!;
      if (l.queueCount > 0 || l.halfOpen > 0) return false;
    }
    return true;
  }

  /** The next instant after now at which some application acts on its own (opens, ends, resumes reading). */
  #nextAppDeadline(): number {
    const now = this.world.now;
    let t = Infinity;
    const consider = (at: number): void => {
      if (at > now && at < t) t = at;
    };
    for (const c of this.conns) {
      if (c.active.tcb === null && c.active.end === 'open') consider(c.opensAt);
      for (const s of [c.active, c.passive]) {
        if (s.end !== 'open') continue;
        if (s.ending !== 'clean') consider(s.endingAt);
        consider(s.readPausedUntil);
      }
    }
    return t;
  }

  /** One pass of every application over its sockets. */
  #applications(): void {
    const now = this.world.now;
    for (const c of this.conns) {
      const a = c.active;
      if (a.tcb === null && a.end === 'open' && now >= c.opensAt) {
        const peer = this.world.hosts[1 - c.from];
        const sock = this.#nextSock++;
        const id = a.host.ctx.tcp.sockets.connect(sock, a.host.ip, 0, peer.ip, PORT);
        if (id < 0) throw new InvariantError(`connect #${c.id} failed with ${-id}`);
        const t = new ConnView(a.host.ctx.tcp, id);
        a.host.ctx.tcp.sockets.setKeepAlive(id, true, KEEPALIVE.idleMs, KEEPALIVE.intvlMs, KEEPALIVE.cnt);
        a.tcb = t;
        a.port = t.localPort;
        a.openedAt = now;
        this.#byPeer.set(`${peer.index}:${a.host.ip}:${t.localPort}`, c.passive);
      }
    }
    this.#acceptStragglers();
    for (const c of this.conns) {
      this.#drive(c, c.active, c.passive);
      this.#drive(c, c.passive, c.active);
    }
  }

  #acceptStragglers(): void {
    for (const h of this.world.hosts) {
      const l = h.ctx.tcp.sockets.listener(PORT)!;
      for (;;) {
        const sock = this.#nextSock;
        const id = h.ctx.tcp.sockets.accept(l, sock);
        if (id < 0) break;
        const t = new ConnView(h.ctx.tcp, id);
        this.#nextSock++;
        const side = this.#byPeer.get(`${h.index}:${t.remoteIp}:${t.remotePort}`);
        this.#byPeer.delete(`${h.index}:${t.remoteIp}:${t.remotePort}`);
        if (!side || side.end !== 'open' || side.tcb) {
          // A connection whose opener already gave up on it (or a stale duplicate): close it.
          h.ctx.tcp.sockets.abort(t.id);
          continue;
        }
        h.ctx.tcp.sockets.setKeepAlive(t.id, true, KEEPALIVE.idleMs, KEEPALIVE.intvlMs, KEEPALIVE.cnt);
        side.tcb = t;
        side.port = t.localPort;
        side.openedAt = this.world.now;
      }
    }
  }

  #drive(c: Conn, s: Side, peer: Side): void {
    const t = s.tcb;
    if (!t || s.end !== 'open') return;
    const tcp = s.host.ctx.tcp;
    const now = this.world.now;
    const r = this.#r;
    if (s.ending === 'abort' && now >= s.endingAt) {
      tcp.sockets.abort(t.id);
      this.#let(s, 'aborted');
      return;
    }
    if (s.ending === 'close-early' && now >= s.endingAt) {
      tcp.sockets.close(t.id);
      this.#let(s, 'closed-early');
      return;
    }
    // Write.
    const writable = t.state === State.Established || t.state === State.CloseWait;
    while (writable && !s.shutDown && s.sent < s.toSend) {
      let n = s.toSend - s.sent;
      if (n > s.maxWrite) n = s.maxWrite;
      if (n > PERIOD) n = PERIOD;
      const k = tcp.sockets.send(t.id, PATTERN, (s.offset + s.sent) % PERIOD, n);
      if (k <= 0) break;
      s.sent += k;
      this.#progress += k;
    }
    if (writable && !s.shutDown && s.sent === s.toSend && s.ending === 'clean') {
      tcp.sockets.shutdownWrite(t.id);
      s.shutDown = true;
    }
    // Read, unless paused (the window closes while paused).
    if (now >= s.readPausedUntil) {
      for (let round = 0; ; round++) {
        if (round === READS_PER_PASS) {
          // Data is still readable (level-triggered): this application comes back at once, like a loop's next tick.
          this.#woken = true;
          break;
        }
        const k = tcp.sockets.receive(t.id, this.#buf, 0, s.maxRead < this.#buf.length ? s.maxRead : this.#buf.length, false);
        if (k > 0) {
          if (this.#corruptNextRead) {
            this.#buf[k - 1] ^= 0x20;
            this.#corruptNextRead = false;
          }
          const at = (peer.offset + s.received) % PERIOD;
          for (let i = 0; i < k; i++) {
            if (this.#buf[i] !== PATTERN[at + i]) {
              throw new InvariantError(`conn #${c.id}: byte ${s.received + i} read by ${s === c.active ? 'opener' : 'acceptor'} is ${this.#buf[i]}, the peer wrote ${PATTERN[at + i]}`);
            }
          }
          s.received += k;
          this.#progress += k;
          this.bytes += k;
          if (s.received > peer.sent) throw new InvariantError(`conn #${c.id}: read ${s.received} bytes, the peer wrote ${peer.sent}`);
          if (s.pausesLeft > 0 && s.pauseChance > 0 && r.next() < s.pauseChance) {
            s.pausesLeft--;
            s.readPausedUntil = now + 1 + Math.floor(r.next() * 2000);
            break;
          }
          continue;
        }
        if (k === 0) {
          s.eof = true;
        } else if (-k !== EAGAIN) {
          s.errno = -k;
          tcp.sockets.close(t.id);
          this.#let(s, 'error');
          return;
        }
        break;
      }
    }
    if (t.failed) {
      s.errno = t.error;
      tcp.sockets.close(t.id);
      this.#let(s, 'error');
      return;
    }
    if (s.eof && s.shutDown && s.sent === s.toSend) {
      tcp.sockets.close(t.id);
      this.#let(s, 'done');
    }
  }

  #let(s: Side, end: Side['end']): void {
    this.#progress++;
    s.end = end;
    s.endedAt = this.world.now;
    s.tcb = null;
  }

  /** What a connection delivered, judged by how each side ended. */
  #checkDelivery(c: Conn): void {
    const pairs: [Side, Side, string][] = [[c.active, c.passive, 'opener to acceptor'], [c.passive, c.active, 'acceptor to opener']];
    const clean = c.active.ending === 'clean' && c.passive.ending === 'clean';
    if (clean && (c.active.end !== 'done' || c.passive.end !== 'done')) {
      const what = `conn #${c.id}: both applications ended cleanly but it ended ${describeSide(c.active)} / ${describeSide(c.passive)}`;
      // Under loss a retry limit may be reached legitimately: only the frames can tell (see frame-log.ts).
      if (!this.#log) throw new NeedsEvidence(what);
      const party = (s: Side, index: number, port: number): Party => ({
        ip: hostIp(index), port, errno: s.errno, openedAt: s.openedAt, endedAt: s.endedAt, held: s.port !== 0,
      });
      const why = this.#log.explain(party(c.active, c.from, c.active.port), party(c.passive, 1 - c.from, PORT));
      if (!why) throw new InvariantError(`${what}; the frames do not show a retry limit reached with every answer lost`);
      this.excused.push(`conn #${c.id}: ${why}`);
    }
    for (const [w, rd, dir] of pairs) {
      if (rd.end === 'done' && w.sent !== rd.received) {
        throw new InvariantError(`conn #${c.id} ${dir}: end of stream after ${rd.received} of ${w.sent} bytes`);
      }
      // A writer that closes early sends its FIN before writing everything (RFC 9293 §3.10.4): only a clean one owes it all.
      if (rd.end === 'done' && w.ending === 'clean' && w.sent !== w.toSend) {
        throw new InvariantError(`conn #${c.id} ${dir}: the writer ended with ${w.sent} of ${w.toSend} bytes written`);
      }
    }
  }

  #stacksEmpty(): boolean {
    for (const h of this.world.hosts) if (h.ctx.tcp.activeCount > 0) return false;
    return true;
  }

  /**
   * Frames still in flight are delivered. A late duplicate SYN may open a half-open connection on a
   * listener (nothing remembers the old connection once TIME-WAIT is over, RFC 9293 §3.10.7.2); such
   * a connection must end on its own, and nothing else may come back.
   */
  #drainWire(): void {
    const quietBy = this.world.now + SCENARIO_BOUND_MS;
    while (this.#step(Infinity)) {
      this.#acceptStragglers();
      for (const h of this.world.hosts) {
        const tcb = h.ctx.tcp.tcb;
        for (let t = 0; t < tcb.capacity; t++) {
          // CLOSED blocks are ending (one may wait for the output pass to send its last segment).
          const st = tcb.state(t);
          if (tcb.inUse(t) !== 0 && st !== State.SynReceived && st !== State.Closed) {
            throw new InvariantError(`a late frame brought a connection back: ${this.#leaks()}`);
          }
        }
      }
      if (this.world.now > quietBy) throw new InvariantError(`a half-open connection opened by a late frame never ended: ${this.#leaks()}`);
    }
  }

  #leaks(): string {
    const out: string[] = [];
    for (const h of this.world.hosts) {
      const tcp = h.ctx.tcp;
      const name = `host ${h.index}`;
      if (tcp.activeCount) {
        const states: string[] = [];
        for (let t = 0; t < tcp.tcb.capacity; t++) {
          if (tcp.tcb.inUse(t) !== 0) states.push(`${STATE_NAMES[tcp.tcb.state(t)]}${tcp.tcb.sockid(t) < 0 ? '(orphan)' : ''}`);
        }
        out.push(`${name}: ${tcp.activeCount} control blocks [${states.slice(0, 5).join(', ')}]`);
      }
      if (tcp.sndPool.inUse) out.push(`${name}: ${tcp.sndPool.inUse} send buffers`);
      if (tcp.rcvPool.inUse) out.push(`${name}: ${tcp.rcvPool.inUse} receive buffers`);
      if (tcp.wheel.size) out.push(`${name}: ${tcp.wheel.size} timers`);
      if (tcp.flows.size) out.push(`${name}: ${tcp.flows.size} flow entries`);
      const l = tcp.sockets.listener(PORT)!;
      if (l.halfOpen || l.queueCount) out.push(`${name}: listener holds ${l.halfOpen} half-open, ${l.queueCount} queued`);
    }
    if (this.world.wire.slotsInUse) out.push(`wire: ${this.world.wire.slotsInUse} frame slots`);
    return out.join('; ');
  }
}

function describeSide(s: Side): string {
  const st = s.tcb ? STATE_NAMES[s.tcb.state] : '-';
  return `${s.end}${s.errno ? `(errno ${s.errno})` : ''} [${s.ending}, state ${st}, sent ${s.sent}/${s.toSend}, read ${s.received}${s.eof ? '+eof' : ''}]`;
}
