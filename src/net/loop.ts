/**
 * The bridge between one context's epoll and Node's event-driven sockets:
 * each Socket and Server registers its socket id with the interest it has now
 * (level-triggered), and one loop per context waits on mtcp_epoll_wait and
 * hands every event to its owner. The loop runs while something is watched.
 */
import { createEpollEvents, MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_DEL, MTCP_EPOLL_CTL_MOD } from '../epoll/events.ts';
import { mtcp_epoll_create, mtcp_epoll_ctl, mtcp_epoll_wait, mtcp_errno } from '../mtcp/api.ts';
import type { MtcpContext } from '../mtcp/context.ts';
import { errnoName } from '../stack/errno.ts';

export type EventHandler = (events: number) => void;

/** Events collected per wait. */
const BATCH = 256;
/** A wait returns at least this often, so a loop with nothing left to watch ends. */
const WAIT_MS = 1000;

const loops = new WeakMap<MtcpContext, NetLoop>();

export class NetLoop {
  readonly #epid: number;
  /** By socket id (ids are below the context's capacity): arrays, not Maps, as they are read for every event. */
  readonly #handlers: (EventHandler | null)[];
  readonly #interest: Int32Array;
  #watching = 0;
  readonly #events = createEpollEvents(BATCH);
  readonly #ev = { events: 0, data: { sockid: 0, ptr: null } };
  #running = false;

  private constructor(readonly mctx: MtcpContext) {
    this.#epid = mtcp_epoll_create(mctx, mctx.sockets.capacity);
    this.#handlers = new Array<EventHandler | null>(mctx.sockets.capacity).fill(null);
    this.#interest = new Int32Array(mctx.sockets.capacity);
    if (this.#epid < 0) throw new Error(`mtcp-ts/net: mtcp_epoll_create failed: ${errnoName(mtcp_errno())}`);
  }

  /** The loop of `mctx` (made on first use). */
  static of(mctx: MtcpContext): NetLoop {
    let l = loops.get(mctx);
    if (!l) loops.set(mctx, (l = new NetLoop(mctx)));
    return l;
  }

  /** How many sockets and servers are watched: the open ones of this context's mtcp-ts/net. */
  get watching(): number {
    return this.#watching;
  }

  /** Deliver events of `sockid` matching `interest` (MTCP_EPOLL* bits; ERR and HUP always) to `handler`. */
  watch(sockid: number, interest: number, handler: EventHandler): void {
    this.#ev.events = interest;
    this.#ev.data.sockid = sockid;
    if (mtcp_epoll_ctl(this.mctx, this.#epid, MTCP_EPOLL_CTL_ADD, sockid, this.#ev) !== 0) {
      throw new Error(`mtcp-ts/net: mtcp_epoll_ctl(ADD, ${sockid}) failed: ${errnoName(mtcp_errno())}`);
    }
    if (this.#handlers[sockid] === null) this.#watching++;
    this.#handlers[sockid] = handler;
    this.#interest[sockid] = interest;
    this.mctx.kick();
    if (!this.#running) void this.#run();
  }

  /** Change what `sockid` is watched for. */
  update(sockid: number, interest: number): void {
    if (this.#handlers[sockid] === null || this.#interest[sockid] === interest) return;
    this.#ev.events = interest;
    this.#ev.data.sockid = sockid;
    mtcp_epoll_ctl(this.mctx, this.#epid, MTCP_EPOLL_CTL_MOD, sockid, this.#ev);
    this.#interest[sockid] = interest;
    this.mctx.kick();
  }

  /** Stop watching `sockid` (before closing it). */
  unwatch(sockid: number): void {
    if (this.#handlers[sockid] === null) return;
    this.#handlers[sockid] = null;
    this.#interest[sockid] = 0;
    this.#watching--;
    mtcp_epoll_ctl(this.mctx, this.#epid, MTCP_EPOLL_CTL_DEL, sockid, null);
  }

  async #run(): Promise<void> {
    this.#running = true;
    const events = this.#events;
    try {
      while (this.#watching > 0 && this.mctx.running) {
        const n = await mtcp_epoll_wait(this.mctx, this.#epid, events, BATCH, WAIT_MS);
        for (let i = 0; i < n; i++) {
          try {
            this.#handlers[events[i].data.sockid]?.(events[i].events);
          } catch (err) {
            // As from any Node event handler: an uncaught exception, but the other sockets keep running.
            process.nextTick(() => {
              throw err;
            });
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
