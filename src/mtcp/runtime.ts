/**
 * What mtcp_init sets up for a process (or, in Node, a thread): the
 * configuration, the packet wire, and the contexts made from them. Several
 * runtimes can live in one thread (tests join two stacks that way); the C-style
 * API keeps one default runtime per thread.
 */
import { webcrypto } from 'node:crypto';
import { ArpTable } from '../config/arp-conf.ts';
import type { MtcpConfig } from '../config/mtcp-conf.ts';
import { RouteTable } from '../config/route-conf.ts';
import { CaptureDriver } from '../io/capture.ts';
import type { DriverFactory, RuntimePort } from '../io/factory.ts';
import { ImpairedDriver } from '../io/impair.ts';
import type { ShmWireEnd } from '../io/shm.ts';
import type { ContextConfig } from '../stack/context.ts';
import type { PacketDriver } from '../stack/port.ts';
import { EEXIST, EINVAL, ErrnoError } from '../stack/errno.ts';
import { MtcpContext, type Clock } from './context.ts';
import { DRIVERS, type PortAttachments } from './drivers.ts';
import { StatPrinter, StatsBoard, type StatsReport } from './stats.ts';

/**
 * How to make a runtime. Under the config's io name, what its port attaches to (PortAttachments):
 * `sim`, the SimWire (required; its virtual clock drives the stack); `shm`, a wire end (another stack's
 * `shmPeer()`, or `{ wire: ShmWire.create({ queues: [a, b] }).share(), port }` when the two ends have
 * different core counts; its queue count must be num_cores; a new wire by default); `tap` and `dpdk`,
 * the port the main thread opened (MtcpShared), for worker threads.
 */
export interface MtcpInitOptions extends PortAttachments {
  /** Fixed secret for ISNs and port choice (deterministic tests); random by default. */
  secret?: [number, number];
  /** The statistics board of a runtime made in another thread (MtcpShared.stats), so its contexts report there. */
  stats?: SharedArrayBuffer;
  /** Which cores have a context, of a runtime made in another thread (MtcpShared.cores): one context per core across threads. */
  cores?: SharedArrayBuffer;
}

/**
 * Everything a worker thread needs to make a context of a runtime built elsewhere (structured-cloneable):
 * the config, the statistics board, and under the io name what the port lends to workers.
 */
export interface MtcpShared extends PortAttachments {
  config: MtcpConfig;
  /** The statistics board's buffer. */
  stats: SharedArrayBuffer;
  /** Which cores have a context (CoreClaims' buffer). */
  cores: SharedArrayBuffer;
}

/**
 * Which cores of a runtime have a context, in every thread that shares the runtime (mtcp_share, runOnCores): one Int32
 * per core in a SharedArrayBuffer, taken with a compare-and-swap, so two threads cannot both make core k's context.
 */
class CoreClaims {
  readonly #taken: Int32Array;

  constructor(cores: number, readonly buffer = new SharedArrayBuffer(cores * 4)) {
    if (buffer.byteLength !== cores * 4) throw new RangeError(`core claims: ${buffer.byteLength} bytes do not hold ${cores} core(s)`);
    this.#taken = new Int32Array(buffer);
  }

  /** Take `core`; false when a context of it exists (in any thread). */
  claim(core: number): boolean {
    return Atomics.compareExchange(this.#taken, core, 0, 1) === 0;
  }

  release(core: number): void {
    Atomics.store(this.#taken, core, 0);
  }
}

const realClock: Clock = { now: () => performance.now() };

export class MtcpRuntime {
  readonly config: MtcpConfig;
  readonly #secret: [number, number] | undefined;
  readonly contexts = new Map<number, MtcpContext>();
  /** Every core's counters, published by the contexts (in this thread or in workers). */
  readonly board: StatsBoard;
  /** Which cores have a context, shared with the threads this runtime is shared with. */
  readonly #claims: CoreClaims;
  /** stat_print's printer, when started. */
  #printer: StatPrinter | null = null;
  /** The port this runtime's contexts use, from the driver registered for the config's io (src/mtcp/drivers.ts). */
  readonly #port: RuntimePort<unknown>;

  constructor(config: MtcpConfig, options: MtcpInitOptions = {}) {
    if (config.ports.length === 0) throw new ErrnoError(EINVAL, `${config.file}: no port configured; set \`port\` and \`<port>.addr\``);
    this.config = config;
    this.#secret = options.secret;
    this.board = new StatsBoard(config.numCores, options.stats);
    this.#claims = new CoreClaims(config.numCores, options.cores);
    const factory: DriverFactory<unknown> = DRIVERS[config.io];
    this.#port = factory.forRuntime(config, options[config.io]);
  }

  /** For the stack at the other end of this runtime's shm wire. */
  shmPeer(): ShmWireEnd {
    if (this.config.io !== 'shm') throw new Error('shmPeer(): this runtime does not use io = shm');
    const end = this.#port.share() as ShmWireEnd;
    return { wire: end.wire, port: end.port === 0 ? 1 : 0 };
  }

  /**
   * What a worker thread needs to make a context of this runtime. A port that can be lent opens here if
   * it has not yet (io = dpdk starts EAL and the port, once per process; io = tap opens the TAP) and stays
   * open for the workers; io = sim cannot leave this thread.
   */
  share(): MtcpShared {
    const attach = this.#port.share();
    const shared: MtcpShared = { config: this.config, stats: this.board.buffer, cores: this.#claims.buffer };
    return attach === undefined ? shared : Object.assign(shared, { [this.config.io]: attach });
  }

  createContext(core: number): MtcpContext {
    const cfg = this.config;
    if (!Number.isInteger(core) || core < 0 || core >= cfg.numCores) {
      throw new ErrnoError(EINVAL, `core ${core} is out of range: num_cores = ${cfg.numCores}`);
    }
    if (this.contexts.has(core)) throw new ErrnoError(EEXIST, `core ${core} already has a context`);
    if (!this.#claims.claim(core)) throw new ErrnoError(EEXIST, this.#takenElsewhere(core));
    const port = cfg.ports[0];
    const clock = this.#port.clock ?? realClock;
    const secret = this.#secret ?? randomSecret();
    const config: ContextConfig = {
      ip: port.addr | 0,
      routes: new RouteTable(cfg.routes, cfg.ports),
      staticArp: new ArpTable(cfg.arp),
      tcp: {
        maxConcurrency: cfg.maxConcurrency,
        maxNumBuffers: cfg.maxNumBuffers,
        rcvbuf: cfg.rcvbuf,
        sndbuf: cfg.sndbuf,
        rcvbufMax: cfg.rcvbufMax,
        sndbufMax: cfg.sndbufMax,
        bufferMemory: cfg.tcpBufferMemory,
        // As mTCP, which checks idle timeouts only when tcp_timeout > 0 (0 and -1 both disable them).
        idleTimeoutMs: cfg.tcpTimeoutSec > 0 ? cfg.tcpTimeoutSec * 1000 : -1,
        timeWaitMs: cfg.tcpTimewaitSec * 1000,
        mtu: cfg.mtu,
        cc: cfg.cc,
        secret,
      },
    };
    let driver: PacketDriver;
    try {
      driver = this.#port.driver(core);
    } catch (err) {
      this.#claims.release(core); // no port, no context: the core stays free
      throw err;
    }
    let mctx: MtcpContext;
    try {
      // The wrappers stop the port's TX checksum offload themselves and declare what is true through them;
      // the stack learns what the outermost one can do from its capabilities.
      if (cfg.impair) driver = new ImpairedDriver(driver, cfg.impair, (this.#secret ?? randomSecret())[0] ^ core, clock.now.bind(clock));
      // Outermost, so the file shows what the stack received and sent.
      if (cfg.capture) driver = new CaptureDriver(driver, core === 0 ? cfg.capture : cfg.capture.replace(/(\.pcapng)?$/, `-core${core}$1`));
      mctx = new MtcpContext(core, driver, config, clock, this.board);
    } catch (err) {
      // A wrapper or the stack refused (a capture file that cannot be made, an MTU the driver's frames cannot
      // carry): let go of the port, whose rings netmap would otherwise keep bound (NR_EXCLUSIVE) until the process ends.
      driver.close();
      this.#claims.release(core);
      throw err;
    }
    this.contexts.set(core, mctx);
    void mctx.closed.then(() => {
      if (this.contexts.get(core) === mctx) this.contexts.delete(core);
      this.#claims.release(core);
    });
    return mctx;
  }

  /** Why core k's context cannot be made here, when another thread holds it: and what a second stack would use instead. */
  #takenElsewhere(core: number): string {
    const peer = this.config.io === 'shm'
      ? '; a second stack (a client of this one, say) is not a context of this runtime: hand its worker mtcp_shm_peer() and call mtcp_init(conf, { shm }) there'
      : '';
    return `core ${core} already has a context in another thread of this runtime (mtcp_share() lends the runtime's other cores, ` +
      `num_cores = ${this.config.numCores})${peer}`;
  }

  /**
   * Free core k's claim after the worker thread that held its context ended without stopping it (terminated): called
   * by the thread that started that worker (runOnCores), never while the context may still run.
   */
  releaseCoreOfEndedWorker(core: number): void {
    this.#claims.release(core);
  }

  /** Every core's counters and their total, as the contexts last published them (STATS_PUBLISH_MS). */
  stats(): StatsReport {
    return this.board.report();
  }

  /** Print every core's statistics each `intervalMs` (stat_print; mtcp_init starts it when the config asks). */
  startStatPrint(write?: (text: string) => void, intervalMs = 1000): void {
    this.#printer?.stop();
    this.#printer = new StatPrinter(this.board, this.config.ports[0].name, write, intervalMs);
  }

  /** Stop every context and the stat printer; a port opened here only for workers (share) closes too. */
  destroy(): void {
    this.#printer?.stop();
    this.#printer = null;
    for (const mctx of this.contexts.values()) mctx.stop();
    this.#port.destroy();
  }
}

function randomSecret(): [number, number] {
  const a = new Uint32Array(2);
  webcrypto.getRandomValues(a);
  return [a[0], a[1]];
}
