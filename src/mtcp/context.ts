/**
 * mctx: one core's context as the application sees it. It owns the stack,
 * the socket ids and the loop that drives them: receive a burst, process,
 * run timers, transmit, hand ready events to mtcp_epoll_wait, and yield to
 * Node's event loop between turns so the program's own timers and I/O run.
 */
import type { Epoll, ReadinessSource } from '../epoll/epoll.ts';
import type { MtcpEpollEvent } from '../epoll/events.ts';
import { MTCP_EPOLLHUP, MTCP_EPOLLIN, MTCP_EPOLLOUT } from '../epoll/events.ts';
import type { PacketDriver } from '../stack/port.ts';
import { StackContext, type ContextConfig } from '../stack/context.ts';
import type { SocketEvents } from '../stack/tcp/contracts.ts';
import { SocketKind, SocketTable } from './socket-table.ts';
import { STATS_PUBLISH_MS, type StatsBoard } from './stats.ts';

export interface Clock {
  /** Monotonic time, ms. */
  now(): number;
}

/** Idle turns spent polling before the loop sleeps until a frame or a deadline. */
const IDLE_SPINS = 32;
/**
 * Most events one wait is handed per turn (fewer than its maxevents when more are ready; the rest
 * come on the next turn). What the application writes in answer to them is transmitted at the start
 * of the next turn, before more events are handed over: the peer starts on the first answers while
 * this end works on the next ones. Handed 1,024 at once, the two ends of a busy ping-pong took turns,
 * each idle while the other worked through its whole batch (64 connections over shm: 57,000-78,000
 * round trips/s; 16 per turn: 163,000-176,000, in one run on 2026-12-08).
 */
const EVENTS_PER_TURN = 16;
/** Longest single sleep, ms (the loop re-checks its state at least this often). */
const MAX_SLEEP_MS = 1000;

const noop = (): void => {};

interface Waiter {
  epoll: Epoll;
  events: MtcpEpollEvent[];
  maxevents: number;
  /** Absolute deadline, ms; Infinity waits forever. */
  deadline: number;
  resolve: (n: number) => void;
}

export class MtcpContext implements SocketEvents, ReadinessSource {
  /** errno of the last failed call on this context. */
  errno = 0;
  readonly stack: StackContext;
  readonly sockets: SocketTable;
  /** Resolves when the loop has stopped and the driver is closed. */
  readonly closed: Promise<void>;
  readonly #clock: Clock;
  readonly #waiters: Waiter[] = [];
  #running = true;
  #sleeping = false;
  /** Resolves the loop's park (see keepsAlive); null while it runs. */
  #unpark: (() => void) | null = null;
  /**
   * Null (the default): the loop holds the thread alive until stop(). Set: only while this says so or a
   * connection is still in use (closing ones included); otherwise the loop parks, polling nothing and
   * holding no handle, so a program whose work is done exits as over node:net. kick() wakes it.
   */
  keepsAlive: (() => boolean) | null = null;
  /** When the loop next copies the counters to the board, ms. */
  #publishAt = 0;
  /** Turns in a row that found nothing to do. */
  #idle = 0;
  #keepAlive: NodeJS.Timeout | null = null;
  /** Resolves `closed`. */
  #stopped: (() => void) | null = null;

  constructor(
    readonly core: number,
    readonly driver: PacketDriver,
    config: ContextConfig,
    clock: Clock,
    /** Where this context publishes its counters for other threads (its row: `core`). */
    readonly board: StatsBoard | null = null,
  ) {
    this.#clock = clock;
    this.sockets = new SocketTable(config.tcp.maxConcurrency);
    this.stack = new StackContext(driver, core, config, this);
    this.syncClock();
    this.closed = this.#loop();
  }

  get running(): boolean {
    return this.#running;
  }

  now(): number {
    return this.#clock.now();
  }

  /**
   * Bring the stack's clock to now before an application call that sets a
   * deadline: between turns of the loop (before its first, or while it
   * sleeps) the stack's time is behind, and a connect made then would time
   * out against a clock that started at 0.
   */
  syncClock(): void {
    const now = Math.floor(this.#clock.now());
    if (now > this.stack.tcp.now) {
      this.stack.now = now;
      this.stack.tcp.now = now;
    }
  }

  // ---- SocketEvents and ReadinessSource --------------------------------

  wake(sockid: number, bits: number): void {
    const ep = this.sockets.epollId[sockid];
    if (ep < 0) return;
    this.sockets.epolls.get(ep)?.wake(sockid, bits);
  }

  readiness(sockid: number): number {
    const st = this.sockets;
    switch (st.kind[sockid]) {
      case SocketKind.Stream: {
        // An unconnected socket reports OUT|HUP, as Linux does.
        const c = st.conn[sockid];
        return c >= 0 ? this.stack.tcp.sockets.readiness(c) : MTCP_EPOLLOUT | MTCP_EPOLLHUP;
      }
      case SocketKind.Listener: {
        const l = st.listeners.get(sockid);
        return l && l.queueCount > 0 ? MTCP_EPOLLIN : 0;
      }
      default:
        return 0;
    }
  }

  // ---- the loop ---------------------------------------------------------

  /** Wait for events on `epoll`; resolves with the count (0 on timeout). */
  wait(epoll: Epoll, events: MtcpEpollEvent[], maxevents: number, timeoutMs: number): Promise<number> {
    if (!this.#running) return Promise.resolve(0);
    const deadline = timeoutMs < 0 ? Infinity : this.#clock.now() + timeoutMs;
    return new Promise<number>((resolve) => {
      this.#waiters.push({ epoll, events, maxevents, deadline, resolve });
      this.kick();
    });
  }

  /** The application queued work: wake the loop if it sleeps. */
  kick(): void {
    if (this.#sleeping) this.driver.wakeRx(this.stack.queue);
    if (this.#unpark) {
      this.#unpark();
      this.#unpark = null;
    }
  }

  /** Stop the loop; pending waits resolve with 0. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.kick();
  }

  /**
   * The loop, one turn per macrotask: `#turn` runs from setImmediate (or after a sleep) and schedules
   * the next. A callback, not an async function awaiting a timers/promises setImmediate: that allocated
   * a promise, its resolvers and an argument array every turn, idle turns included (a one-connection
   * ping-pong spins ten or more turns per round trip), about 6 KB per round trip in all: a scavenge
   * every 15 ms in each thread, and the scavenges were the round trips' p999.
   */
  #loop(): Promise<void> {
    // A pending Atomics.waitAsync does not keep a thread alive; this handle does, until the context stops.
    this.#keepAlive = setInterval(noop, 1 << 30);
    // Start on a later turn: the caller is still setting up.
    setImmediate(this.#turn);
    return new Promise<void>((resolve) => (this.#stopped = resolve));
  }

  readonly #turn = (): void => {
    if (!this.#running) {
      this.#finish();
      return;
    }
    const now = this.#clock.now();
    if (now >= this.#publishAt) this.#publish(now);
    let work = this.stack.poll(now);
    if (this.#waiters.length > 0) work += this.#serveWaiters(now);
    if (work > 0) {
      this.#idle = 0;
      setImmediate(this.#turn);
      return;
    }
    if (this.stack.tcp.hasPendingOutput) {
      this.stack.flushOutput(now);
      setImmediate(this.#turn);
      return;
    }
    if (++this.#idle < IDLE_SPINS) {
      setImmediate(this.#turn);
      return;
    }
    if (this.keepsAlive && !this.keepsAlive() && this.stack.tcp.activeCount === 0) {
      this.#keepAlive!.unref();
      this.#unpark = this.#resume;
      return;
    }
    let until = this.stack.nextDeadline();
    for (const w of this.#waiters) if (w.deadline < until) until = w.deadline;
    let sleep = until - now;
    if (sleep > MAX_SLEEP_MS) sleep = MAX_SLEEP_MS;
    if (sleep <= 0) {
      setImmediate(this.#turn);
      return;
    }
    this.#publish(now); // the counters stay still while it sleeps
    this.#sleeping = true;
    this.driver.waitRx(this.stack.queue, sleep).then(this.#woke);
  };

  /** Back from a sleep on the driver. */
  readonly #woke = (): void => {
    this.#sleeping = false;
    this.#turn();
  };

  /** Unparked by kick(). */
  readonly #resume = (): void => {
    this.#keepAlive!.ref();
    this.#idle = 0;
    setImmediate(this.#turn);
  };

  #finish(): void {
    clearInterval(this.#keepAlive!);
    for (const w of this.#waiters.splice(0)) w.resolve(0);
    this.driver.close();
    this.#publish(this.#clock.now());
    this.#stopped!();
  }

  /** Copy the counters to the board. */
  #publish(now: number): void {
    this.#publishAt = now + STATS_PUBLISH_MS;
    this.board?.publish(this.core, this.stack.stats, this.stack.tcp.activeCount);
  }

  /** Resolve waits that have events or whose time is up. Returns how many resolved. */
  #serveWaiters(now: number): number {
    let served = 0;
    const ws = this.#waiters;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      const n = w.epoll.hasReady ? w.epoll.collect(w.events, w.maxevents < EVENTS_PER_TURN ? w.maxevents : EVENTS_PER_TURN) : 0;
      if (n > 0 || now >= w.deadline) {
        ws.splice(i--, 1);
        w.resolve(n);
        if (n > 0) served++;
      }
    }
    return served;
  }
}
