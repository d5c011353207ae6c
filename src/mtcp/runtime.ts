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
import type { PacketDriver } from '../stack/port.ts';
import { attachShm, ShmWire, type ShmWireShared } from '../io/shm.ts';
import { CaptureDriver } from '../io/capture.ts';
import { ImpairedDriver } from '../io/impair.ts';
import { closeTap, openTap, TapDriver, type TapPortShared } from '../io/tap.ts';
import { DpdkDriver, DpdkPort, ealArgs, isPciAddress, type DpdkPortShared } from '../io/dpdk.ts';
import { interfaceMac, openNetmap } from '../io/netmap.ts';
import type { SimDriver, SimWire } from '../io/sim.ts';
import { PortShare } from '../io/wrapper.ts';
import type { ContextConfig } from '../stack/context.ts';
import { EEXIST, EINVAL, ErrnoError } from '../stack/errno.ts';
import { MtcpContext, type Clock } from './context.ts';
import { StatPrinter, StatsBoard, type StatsReport } from './stats.ts';

export interface MtcpInitOptions {
  /** io = sim: the simulated wire to attach to (its virtual clock drives the stack). */
  sim?: SimWire;
  /**
   * io = shm: an existing wire (from another stack's `shmPeer()`, or ShmWire.create({ queues: [a, b] })
   * when the two ends have different core counts) and the port to take; its queue count must be num_cores.
   */
  shm?: { wire: ShmWireShared; port: 0 | 1 };
  /**
   * io = dpdk: a port another thread of this process started (DpdkPort.shared). EAL and a port start
   * once per process, so worker threads attach to the main thread's port, each to its own queue.
   */
  dpdk?: DpdkPortShared;
  /** io = tap: a TAP another thread of this process opened (its descriptor is the process's), for worker threads. */
  tap?: TapPortShared;
  /** Fixed secret for ISNs and port choice (deterministic tests); random by default. */
  secret?: [number, number];
  /** The statistics board of a runtime made in another thread (MtcpShared.stats), so its contexts report there. */
  stats?: SharedArrayBuffer;
}

/** Everything a worker thread needs to make a context of a runtime built elsewhere (structured-cloneable). */
export interface MtcpShared {
  config: MtcpConfig;
  shm?: { wire: ShmWireShared; port: 0 | 1 };
  dpdk?: DpdkPortShared;
  tap?: TapPortShared;
  /** The statistics board's buffer. */
  stats: SharedArrayBuffer;
}

const realClock: Clock = { now: () => performance.now() };

export class MtcpRuntime {
  readonly config: MtcpConfig;
  readonly #sim: SimWire | undefined;
  readonly #shm: { wire: ShmWireShared; port: 0 | 1 } | undefined;
  readonly #secret: [number, number] | undefined;
  readonly contexts = new Map<number, MtcpContext>();
  /** Every core's counters, published by the contexts (in this thread or in workers). */
  readonly board: StatsBoard;
  /** stat_print's printer, when started. */
  #printer: StatPrinter | null = null;
  /** io = dpdk: the started port, shared by this runtime's contexts (one queue each). */
  #dpdk: DpdkPort | null = null;
  /** io = dpdk in a worker: the port the main thread started. */
  readonly #dpdkShared: DpdkPortShared | undefined;
  /** io = tap: the TAP this runtime opened, with a queue per core. */
  #tap: TapPortShared | null = null;
  /** Drivers of this thread using #tap. */
  #tapUsers = 0;
  /** #tap was shared with worker threads: it stays open until destroy(). */
  #tapLent = false;
  /** io = tap in a worker: the TAP the main thread opened. */
  readonly #tapShared: TapPortShared | undefined;
  /** io = sim: the port this runtime's contexts share, one queue each (a sim port lives in one thread). */
  #simPort: SimDriver | null = null;
  /** Contexts using #simPort. */
  #simUsers = 0;

  constructor(config: MtcpConfig, options: MtcpInitOptions = {}) {
    if (config.ports.length === 0) throw new Error(`${config.file}: no port configured; set \`port\` and \`<port>.addr\``);
    this.config = config;
    this.#secret = options.secret;
    this.#dpdkShared = options.dpdk;
    this.#tapShared = options.tap;
    this.board = new StatsBoard(config.numCores, options.stats);
    if (config.io === 'sim') {
      if (!options.sim) throw new Error('io = sim needs a SimWire: mtcp_init(conf, { sim: wire })');
      this.#sim = options.sim;
    } else if (config.io === 'shm') {
      const n = config.numCores;
      this.#shm = options.shm ?? { wire: ShmWire.create({ slots: config.shmSlots, queues: n }).share(), port: 0 };
      const queues = this.#shm.wire.queues[this.#shm.port];
      if (queues !== n) {
        throw new Error(`${config.file}: num_cores = ${n} but this end of the shm wire has ${queues} queue(s); ` +
          'make the wire with ShmWire.create({ queues: [port 0 cores, port 1 cores] })');
      }
    }
  }

  /** For the stack at the other end of this runtime's shm wire. */
  shmPeer(): { wire: ShmWireShared; port: 0 | 1 } {
    if (!this.#shm) throw new Error('shmPeer(): this runtime does not use io = shm');
    return { wire: this.#shm.wire, port: this.#shm.port === 0 ? 1 : 0 };
  }

  /**
   * What a worker thread needs to make a context of this runtime. For io =
   * dpdk this starts the port here (once per process), so workers attach to it.
   */
  share(): MtcpShared {
    const cfg = this.config;
    if (cfg.io === 'sim') throw new Error('io = sim runs in the thread that owns the SimWire; it cannot be shared with workers');
    const stats = this.board.buffer;
    if (cfg.io === 'dpdk') return { config: cfg, dpdk: this.#dpdkShared ?? this.#dpdkPort().shared, stats };
    if (cfg.io === 'tap') {
      if (this.#tapShared) return { config: cfg, tap: this.#tapShared, stats };
      this.#tapLent = true;
      return { config: cfg, tap: this.#tapPort(), stats };
    }
    return this.#shm ? { config: cfg, shm: this.#shm, stats } : { config: cfg, stats };
  }

  /** This runtime's DPDK port, started on first use with a queue per core. */
  #dpdkPort(): DpdkPort {
    const cfg = this.config;
    const port = cfg.ports[0];
    if (!this.#dpdk || this.#dpdk.closed) this.#dpdk = DpdkPort.open({
      device: port.device, queues: cfg.numCores, mtu: cfg.mtu, mac: port.macGiven ? port.mac : undefined,
      eal: ealArgs({ coreMask: cfg.coreMask, numMemCh: cfg.numMemCh, pci: isPciAddress(port.device) }),
    });
    return this.#dpdk;
  }

  createContext(core: number): MtcpContext {
    const cfg = this.config;
    if (!Number.isInteger(core) || core < 0 || core >= cfg.numCores) {
      throw new ErrnoError(EINVAL, `core ${core} is out of range: num_cores = ${cfg.numCores}`);
    }
    if (this.contexts.has(core)) throw new ErrnoError(EEXIST, `core ${core} already has a context`);
    const port = cfg.ports[0];
    let driver: PacketDriver;
    let clock: Clock;
    if (this.#sim) {
      driver = this.#simShare(this.#sim, port.mac);
      clock = this.#sim.clock;
    } else if (cfg.io === 'tap') {
      driver = this.#tapShared ? new TapDriver(this.#tapShared, port.mac) : this.#tapDriver(port.mac);
      clock = realClock;
    } else if (cfg.io === 'dpdk') {
      driver = this.#dpdkShared ? new DpdkDriver(this.#dpdkShared) : this.#dpdkPort().driver();
      clock = realClock;
    } else if (cfg.io === 'netmap') {
      // mTCP's netmap_module.c opens netmap:<if> with one core and netmap:<if>-<core> with several: one ring pair per core.
      // A NIC in netmap mode still filters on its own MAC, so the stack takes it unless <port>.mac is given.
      const name = port.device || port.name;
      driver = openNetmap({ port: name, ringId: cfg.numCores > 1 ? core : -1, mac: port.macGiven ? port.mac : interfaceMac(name) ?? port.mac });
      clock = realClock;
    } else {
      const shm = this.#shm!;
      driver = attachShm(shm.wire, shm.port, port.mac);
      clock = realClock;
    }
    // The wrappers stop the port's TX checksum offload themselves and declare what is true through them;
    // the stack reads the outermost port's capabilities.
    if (cfg.impair) driver = new ImpairedDriver(driver, cfg.impair, (this.#secret ?? randomSecret())[0] ^ core, clock.now.bind(clock));
    // Outermost, so the file shows what the stack received and sent.
    if (cfg.capture) driver = new CaptureDriver(driver, core === 0 ? cfg.capture : cfg.capture.replace(/(\.pcapng)?$/, `-core${core}$1`));
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
        idleTimeoutMs: cfg.tcpTimeoutSec < 0 ? -1 : cfg.tcpTimeoutSec * 1000,
        timeWaitMs: cfg.tcpTimewaitSec * 1000,
        mtu: cfg.mtu,
        cc: cfg.cc,
        secret,
      },
    };
    let mctx: MtcpContext;
    try {
      mctx = new MtcpContext(core, driver, config, clock, this.board);
    } catch (err) {
      // The stack refused the configuration (an MTU the driver's frames cannot carry): let go of the port, whose
      // rings netmap would otherwise keep bound (NR_EXCLUSIVE) until the process ends.
      driver.close();
      throw err;
    }
    this.contexts.set(core, mctx);
    void mctx.closed.then(() => {
      if (this.contexts.get(core) === mctx) this.contexts.delete(core);
    });
    return mctx;
  }

  /** This runtime's TAP, opened on first use with a queue per core; the port's name is the interface's (created when missing). */
  #tapPort(): TapPortShared {
    this.#tap ??= openTap(this.config.ports[0].name, this.config.numCores, Math.max(2048, this.config.mtu + 14));
    return this.#tap;
  }

  /** A driver on this runtime's TAP for one more context; the TAP closes with the last one unless workers use it. */
  #tapDriver(mac: number): PacketDriver {
    const tap = this.#tapPort();
    this.#tapUsers++;
    return new TapDriver(tap, mac, {}, () => {
      if (--this.#tapUsers === 0 && !this.#tapLent) this.#closeTap();
    });
  }

  #closeTap(): void {
    if (this.#tap) closeTap(this.#tap);
    this.#tap = null;
    this.#tapLent = false;
  }

  /** This runtime's sim port (made on first use, with a queue per core), for one more context. */
  #simShare(wire: SimWire, mac: number): PacketDriver {
    if (!this.#simPort || this.#simPort.closed) {
      const queues = this.config.numCores;
      // Staging slots: a full burst (64) for every context at once, with room to spare.
      this.#simPort = wire.attach(mac, { queues, txSlots: 256 * queues });
    }
    const port = this.#simPort;
    this.#simUsers++;
    return new PortShare(port, () => {
      if (--this.#simUsers === 0) port.close();
    });
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

  /** Stop every context and the stat printer; a DPDK port started here for workers (share) closes too. */
  destroy(): void {
    this.#printer?.stop();
    this.#printer = null;
    for (const mctx of this.contexts.values()) mctx.stop();
    if (this.#dpdk && this.contexts.size === 0) this.#dpdk.close();
    if (this.#tap && this.#tapUsers === 0) this.#closeTap();
  }
}

function randomSecret(): [number, number] {
  const a = new Uint32Array(2);
  webcrypto.getRandomValues(a);
  return [a[0], a[1]];
}
