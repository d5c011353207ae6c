/**
 * The DPDK driver: Debian's DPDK 22.11 through koffi. The control path binds
 * librte_eal, librte_ethdev and librte_mbuf directly; the burst calls and the
 * struct-heavy port setup go through native/dpdk-shim.c, built at install
 * (see the shim's header for why, bench/dpdk-ffi.ts for the measurement).
 *
 * Zero copy: the mempool's memory is mapped once as one ArrayBuffer
 * (koffi.view); a received frame is parsed in place at its mbuf's offset in
 * that mapping, and a frame to send is built directly in an mbuf taken from
 * the pool. One koffi call per burst in each direction.
 *
 * One EAL per process (DPDK's rule): the first port initializes it with the
 * arguments ealArgs() makes from mtcp.conf; devices are attached with
 * rte_dev_probe and detached when their port closes, and rte_eal_cleanup runs
 * at process exit.
 */
import koffi from 'koffi';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EBUSY, EIO, ENODEV, ENOMEM, ErrnoError } from '../stack/errno.ts';
import { FrameBatch, type DriverStats, type PacketDriver, type PortCapabilities } from '../stack/port.ts';
import type { DriverFactory, DriverSettings, RuntimePort } from './factory.ts';

/** Must equal MTCPTS_SHIM_ABI in native/dpdk-shim.c. */
const SHIM_ABI = 4;
/** mtcpts_port_setup's offload bits. */
const OFFLOAD_TX_CKSUM = 1;
const OFFLOAD_RX_CKSUM = 2;
const OFFLOAD_TSO = 4;
/** mtcpts_rx's per-frame verdict: the port found the IPv4 and TCP checksums good. */
const RX_CKSUM_GOOD = 1;
/** Frames per burst, per queue. */
const BURST = 64;
/** mbuf data room: 2 KiB of frame after DPDK's 128-byte headroom (RTE_MBUF_DEFAULT_BUF_SIZE). */
const DATA_ROOM = 2048 + 128;
/**
 * With TSO, TX mbufs come from a second pool whose data room (mbuf's largest, a uint16) holds a 64 KiB segment:
 * the stack builds a segment in one piece, so it goes as one mbuf rather than a chain.
 */
const SEGMENT_ROOM = 0xffff;
/**
 * DPDK ports are polled (the virtual devices here offer no RX interrupt: memif answers ENOTSUP), so an
 * idle stack must look again by itself. A quiet port is looked at once per IDLE_POLL_MS timer. A busy one
 * (a frame in or out within BUSY_MS) naps NAP_MS in Atomics.wait between looks: a nap yields the CPU,
 * where a spin (mTCP's way, on dedicated cores) starves the peer on a host whose cores are shared, and a
 * Node timer cannot be shorter than 1 ms. Echo of 64 B over memif between two processes, on two cores
 * shared with other work, two runs each: 1 connection, p50 round trip with timers 1,249-1,379 us, spinning
 * 107-5,845 us (p99 20 ms), naps 280-317 us; 32 connections, round trips/s: 13k-18k, 5k-17k, 30k.
 */
const IDLE_POLL_MS = 1;
const BUSY_MS = 50;
const NAP_MS = 0.1;
/** Atomics.wait needs a cell nobody notifies: its timeout is the nap. */
const napCell = new Int32Array(new SharedArrayBuffer(4));

const SHIM = 'build/libmtcpts-dpdk.so';
const SHIM_BUILDER = 'scripts/build-native.mjs';

/**
 * The package root: the first directory above this module (src/io/, dist/chunks/ or a bundle elsewhere
 * in the package) holding the shim or the script that builds it; null when there is none.
 */
function packageRoot(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, SHIM)) || existsSync(join(dir, SHIM_BUILDER))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Where scripts/build-native.mjs puts the shim (build/ at the package root). It runs at install when DPDK
 * is present; an install that skipped scripts (npm 11 without allowScripts, --ignore-scripts) or came
 * before DPDK did gets it built here, on first use of io = dpdk, saying so on stderr.
 */
function shimPath(): string {
  const root = packageRoot();
  if (!root) return SHIM;
  const path = join(root, SHIM);
  if (!existsSync(path) && existsSync(join(root, SHIM_BUILDER))) {
    process.stderr.write(`mtcp-ts: io = dpdk: the DPDK shim is not built yet (install scripts skipped?); building ${path} now\n`);
    spawnSync(process.execPath, [SHIM_BUILDER], { cwd: root, stdio: ['ignore', 2, 2] });
  }
  return path;
}

type Ptr = bigint;

interface Bindings {
  ealInit(argc: number, argv: string[]): number;
  ealCleanup(): number;
  devProbe(devargs: string): number;
  devRemove(name: string): number;
  strerror(errnum: number): string;
  portByName(name: string, out: Uint16Array): number;
  macGet(port: number, out: Uint8Array): number;
  macSet(port: number, mac: Uint8Array): number;
  linkGet(port: number, out: Uint8Array): number;
  /** rte_eth_dev_stop and rte_eth_dev_close, after EAL's interrupt thread has handled what it holds (see the shim). */
  portClose(port: number): number;
  poolCreate(name: string, n: number, cache: number, priv: number, room: number, socket: number): Ptr | null;
  poolFree(pool: Ptr): void;
  shimErrno(): number;
  portSetup(port: number, nq: number, rxd: number, txd: number, pool: Ptr, mtu: number): number;
  poolRange(pool: Ptr, out: BigUint64Array): void;
  rx(port: number, q: number, pkts: BigUint64Array, n: number, base: Ptr, meta: Uint32Array, dropped: Uint32Array): number;
  free(pkts: BigUint64Array, n: number): void;
  alloc(pool: Ptr, pkts: BigUint64Array, n: number, base: Ptr, meta: Uint32Array): number;
  tx(port: number, q: number, pkts: BigUint64Array, count: number, allocated: number, lens: Int32Array, segments: Int32Array, offload: number): number;
}

/** Bindings are made once per thread (koffi functions do not cross threads). */
let bindings: Bindings | null = null;

/** A clear error naming what is missing, instead of koffi's dlopen message; errno ENODEV. */
export class DpdkUnavailableError extends ErrnoError {
  constructor(message: string) {
    super(ENODEV, message);
  }
}

/** DPDK's rte_errno as an errno: its own codes (1000 and up, RTE_MAX_ERRNO) have none, so they read `fallback`. */
function systemErrno(rteErrno: number, fallback: number): number {
  return rteErrno > 0 && rteErrno < 1000 ? rteErrno : fallback;
}

function load(lib: string): ReturnType<typeof koffi.load> {
  try {
    return koffi.load(lib);
  } catch {
    throw new DpdkUnavailableError(`DPDK is not installed: cannot load ${lib} (on Debian or Ubuntu: apt-get install dpdk libdpdk-dev)`);
  }
}

function bind(): Bindings {
  if (bindings) return bindings;
  const eal = load('librte_eal.so.23');
  const eth = load('librte_ethdev.so.23');
  const mbuf = load('librte_mbuf.so.23');
  const mempool = load('librte_mempool.so.23');
  const path = shimPath();
  if (!existsSync(path)) {
    throw new DpdkUnavailableError(`the DPDK shim is not built (${path} is missing) and could not be built here: it needs libdpdk-dev, pkg-config and a C compiler, then \`npm run build:native\` in the package`);
  }
  const shim = koffi.load(path);
  // Checked before binding the rest: an older shim may lack a function this version binds.
  const abi = (shim.func('int mtcpts_abi(void)') as () => number)();
  if (abi !== SHIM_ABI) {
    throw new DpdkUnavailableError(`the DPDK shim at ${path} is out of date (ABI ${abi}, expected ${SHIM_ABI}): run \`npm run build:native\``);
  }
  const b: Bindings = {
    ealCleanup: eal.func('int rte_eal_cleanup(void)') as Bindings['ealCleanup'],
    devProbe: eal.func('int rte_dev_probe(const char *devargs)') as Bindings['devProbe'],
    devRemove: eal.func('int rte_eal_hotplug_remove(const char *busname, const char *devname)').bind(null, 'vdev') as Bindings['devRemove'],
    strerror: eal.func('const char *rte_strerror(int errnum)') as Bindings['strerror'],
    portByName: eth.func('int rte_eth_dev_get_port_by_name(const char *name, _Out_ uint16_t *port_id)') as Bindings['portByName'],
    macGet: eth.func('int rte_eth_macaddr_get(uint16_t port_id, _Out_ uint8_t *mac)') as Bindings['macGet'],
    macSet: eth.func('int rte_eth_dev_default_mac_addr_set(uint16_t port_id, const uint8_t *mac)') as Bindings['macSet'],
    linkGet: eth.func('int rte_eth_link_get_nowait(uint16_t port_id, _Out_ uint8_t *link)') as Bindings['linkGet'],
    portClose: shim.func('int mtcpts_port_close(uint16_t port)') as Bindings['portClose'],
    poolCreate: mbuf.func('void *rte_pktmbuf_pool_create(const char *name, unsigned int n, unsigned int cache_size, uint16_t priv_size, uint16_t data_room_size, int socket_id)') as Bindings['poolCreate'],
    poolFree: mempool.func('void rte_mempool_free(void *mp)') as Bindings['poolFree'],
    shimErrno: shim.func('int mtcpts_errno(void)') as Bindings['shimErrno'],
    ealInit: shim.func('int mtcpts_eal_init(int argc, char **argv)') as Bindings['ealInit'],
    portSetup: shim.func('int mtcpts_port_setup(uint16_t port, uint16_t nq, uint16_t nb_rxd, uint16_t nb_txd, void *pool, uint16_t mtu)') as Bindings['portSetup'],
    poolRange: shim.func('void mtcpts_pool_range(void *pool, _Out_ uint64_t *out)') as Bindings['poolRange'],
    rx: shim.func('uint16_t mtcpts_rx(uint16_t port, uint16_t q, void *pkts, uint16_t n, uintptr_t base, void *meta, void *dropped)') as Bindings['rx'],
    free: shim.func('void mtcpts_free(void *pkts, uint16_t n)') as Bindings['free'],
    alloc: shim.func('uint16_t mtcpts_alloc(void *pool, void *pkts, uint16_t n, uintptr_t base, void *meta)') as Bindings['alloc'],
    tx: shim.func('uint16_t mtcpts_tx(uint16_t port, uint16_t q, void *pkts, uint16_t count, uint16_t allocated, const void *lens, const void *segments, int offload)') as Bindings['tx'],
  };
  bindings = b;
  return b;
}

/** Why DPDK cannot be used here (libraries or shim missing), or null when it can. */
export function dpdkUnavailable(): string | null {
  try {
    bind();
    return null;
  } catch (err) {
    if (err instanceof DpdkUnavailableError) return err.message;
    throw err;
  }
}

/** What EAL needs from mtcp.conf. */
export interface EalSettings {
  /** CPUs DPDK may use (`core_mask`). */
  coreMask: number;
  /** Memory channels (`num_mem_ch`). */
  numMemCh: number;
  /** Whether a device is a PCI address (a real NIC) rather than a virtual device. */
  pci: boolean;
}

/** Hugepages the kernel has reserved (HugePages_Total in /proc/meminfo), 0 when none or unknown. */
export function hugepagesReserved(meminfo = '/proc/meminfo'): number {
  try {
    const m = /^HugePages_Total:\s+(\d+)/m.exec(readFileSync(meminfo, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * EAL arguments for this process: its CPUs and memory channels from
 * mtcp.conf, a file prefix of its own (two processes on one host must not
 * share DPDK's runtime files), and `--no-huge -m 512` when the host has no
 * hugepages. Without a PCI device, `--no-pci` keeps EAL from scanning the bus.
 */
export function ealArgs(s: EalSettings, hugepages = hugepagesReserved()): string[] {
  const args = ['mtcp-ts', '-c', `0x${s.coreMask.toString(16)}`, '-n', String(s.numMemCh), '--file-prefix', `mtcpts-${process.pid}`,
    '--log-level', 'lib.eal:error', '--no-telemetry'];
  if (hugepages === 0) args.push('--no-huge', '-m', '512');
  if (!s.pci) args.push('--no-pci');
  return args;
}

let ealStarted = false;

/** Start EAL once per process; later calls are no-ops. */
function startEal(b: Bindings, args: string[]): void {
  if (ealStarted) return;
  const rc = b.ealInit(args.length, args);
  if (rc < 0) {
    const err = b.shimErrno();
    throw new ErrnoError(systemErrno(err, ENODEV), `DPDK EAL did not start (${b.strerror(err)}); arguments: ${args.slice(1).join(' ')}`);
  }
  ealStarted = true;
  process.once('exit', () => {
    b.ealCleanup();
  });
}

/** A PCI address such as 0000:01:00.0 (a real NIC); anything else is a virtual device (net_af_packet0,iface=veth0). */
export function isPciAddress(device: string): boolean {
  return /^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/.test(device.split(',')[0]);
}

export interface DpdkPortOptions {
  /** Device arguments: a PCI address, or a virtual device with its arguments (`net_memif0,role=server,socket=/tmp/m.sock`). */
  device: string;
  /** RX/TX queue pairs: one per core. */
  queues: number;
  /** Link MTU. */
  mtu: number;
  /** EAL arguments (used by the first port of the process). */
  eal: string[];
  /** mbufs in the port's pool (default 8191: descriptors for every queue, plus bursts in flight). */
  mbufs?: number;
  /** Descriptors per RX and per TX queue (default 1024; the port may adjust). */
  descriptors?: number;
  /** A MAC to give the port (`<port>.mac`); the device's own otherwise. */
  mac?: number;
}

/** What a driver on any thread needs to use a started port (structured-cloneable). */
export interface DpdkPortShared {
  port: number;
  queues: number;
  mac: number;
  pool: Ptr;
  /** The mempool's memory: start address and length. */
  base: Ptr;
  length: number;
  /** OFFLOAD_* bits in use. */
  offloads: number;
  /** With TSO: the pool of large TX mbufs (SEGMENT_ROOM), and its memory; null without. */
  segmentPool: Ptr | null;
  segmentBase: Ptr;
  segmentLength: number;
}

const openPorts = new Map<string, DpdkPort>();

/** A started DPDK port: owns the device, its pool and its queues; closes when the last driver on it closes. */
export class DpdkPort {
  readonly shared: DpdkPortShared;
  readonly device: string;
  readonly #b: Bindings;
  #users = 0;
  #closed = false;

  /** Attach and start the device (EAL first, when this is the process's first port). */
  static open(o: DpdkPortOptions): DpdkPort {
    const b = bind();
    startEal(b, o.eal);
    const name = o.device.split(',')[0];
    if (openPorts.has(name)) throw new ErrnoError(EBUSY, `DPDK device ${name} is already open in this process`);
    const id = new Uint16Array(1);
    if (b.portByName(name, id) !== 0) {
      const rc = b.devProbe(o.device);
      if (rc < 0 || b.portByName(name, id) !== 0) {
        throw new ErrnoError(ENODEV, `DPDK has no port ${name}: probing \`${o.device}\` failed (${b.strerror(-rc)})`
          + (isPciAddress(o.device) ? '; is the NIC bound to vfio-pci (dpdk-devbind.py --status)?' : ''));
      }
    }
    const port = new DpdkPort(b, o, id[0]);
    openPorts.set(name, port);
    return port;
  }

  private constructor(b: Bindings, o: DpdkPortOptions, port: number) {
    this.#b = b;
    this.device = o.device;
    const name = `mtcpts_p${port}_${process.pid}`.slice(0, 25);
    const desc = o.descriptors ?? 1024;
    // Every queue's descriptors filled, plus the bursts in the stack's hands; a power of two minus one suits the ring.
    const mbufs = o.mbufs ?? 2 ** Math.ceil(Math.log2(o.queues * (2 * desc + 4 * BURST) + 1024)) - 1;
    const pool = b.poolCreate(name, mbufs, 256, 0, DATA_ROOM, -1);
    const fail = (what: string, rc: number, fallback: number): Error => {
      if (pool) b.poolFree(pool);
      if (!isPciAddress(o.device)) b.devRemove(o.device.split(',')[0]);
      return new ErrnoError(systemErrno(rc, fallback), `DPDK port ${o.device}: ${what} (${b.strerror(rc)})`);
    };
    if (!pool) throw fail(`no pool of ${mbufs} mbufs; is EAL's memory (-m) large enough?`, b.shimErrno(), ENOMEM);
    const mac = new Uint8Array(6);
    if (o.mac !== undefined) {
      for (let i = 5, v = o.mac; i >= 0; i--, v = Math.floor(v / 256)) mac[i] = v % 256;
      const rc = b.macSet(port, mac);
      if (rc !== 0) throw fail(`it refused MAC ${[...mac].map((x) => x.toString(16).padStart(2, '0')).join(':')}; drop the <port>.mac line to keep the device's own`, -rc, EIO);
    }
    const rc = b.portSetup(port, o.queues, desc, desc, pool, o.mtu);
    if (rc < 0) throw fail(`it did not start with ${o.queues} queue(s)`, -rc, EIO);
    b.macGet(port, mac);
    let m = 0;
    for (const byte of mac) m = m * 256 + byte;
    const range = new BigUint64Array(2);
    b.poolRange(pool, range);
    const base = range[0];
    const length = Number(range[1] - range[0]);
    // Large TX mbufs for every queue's descriptors and a burst in hand; without the memory for them, no TSO.
    let offloads = rc;
    let segmentPool: Ptr | null = null;
    if (offloads & OFFLOAD_TSO) {
      const n = 2 ** Math.ceil(Math.log2(o.queues * (desc + 2 * BURST) + 1)) - 1;
      segmentPool = b.poolCreate(`mtcpts_s${port}_${process.pid}`.slice(0, 25), n, 32, 0, SEGMENT_ROOM, -1);
      if (segmentPool) b.poolRange(segmentPool, range);
      else offloads &= ~OFFLOAD_TSO;
    }
    this.shared = {
      port, queues: o.queues, mac: m, pool, base, length, offloads,
      segmentPool, segmentBase: segmentPool ? range[0] : 0n, segmentLength: segmentPool ? Number(range[1] - range[0]) : 0,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Drivers on this port (made by driver()) not yet closed. */
  get users(): number {
    return this.#users;
  }

  /** Whether the link is up, and its speed in Mbit/s (rte_eth_link_get_nowait). */
  link(): { up: boolean; speedMbps: number } {
    const l = new Uint8Array(8);
    if (this.#b.linkGet(this.shared.port, l) !== 0) return { up: false, speedMbps: 0 };
    const speed = new DataView(l.buffer).getUint32(0, true);
    // struct rte_eth_link: speed, then bit fields duplex:1, autoneg:1, status:1.
    return { up: (l[4] & 4) !== 0, speedMbps: speed };
  }

  /** A driver for this port's queues on the calling thread. */
  driver(): DpdkDriver {
    if (this.#closed) throw new ErrnoError(ENODEV, `DPDK port ${this.device} is closed`);
    this.#users++;
    return new DpdkDriver(this.shared, () => this.#release());
  }

  #release(): void {
    if (--this.#users === 0) this.close();
  }

  /** Stop and close the port, detach a virtual device, free the pool. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const b = this.#b;
    const { port, pool } = this.shared;
    b.portClose(port);
    const name = this.device.split(',')[0];
    if (!isPciAddress(this.device)) b.devRemove(name);
    b.poolFree(pool);
    if (this.shared.segmentPool) b.poolFree(this.shared.segmentPool);
    openPorts.delete(name);
  }
}

/** Per-queue state: the mbuf pointers of the burst in hand and what the shim reported of them. */
class QueueState {
  readonly rxPkts = new BigUint64Array(BURST);
  readonly rxMeta = new Uint32Array(3 * BURST);
  rxHeld = 0;
  readonly txPkts = new BigUint64Array(BURST);
  readonly txMeta = new Uint32Array(2 * BURST);
  txHeld = 0;
}

export class DpdkDriver implements PacketDriver {
  readonly name = 'dpdk';
  readonly mac: number;
  readonly stats: DriverStats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  /**
   * A queue per core; frames up to one mbuf's data room; the offloads the port started with
   * (DpdkPortShared.offloads): filling IPv4 and TCP checksums of sent frames, verifying received ones
   * (the verdict travels in FrameBatch.checksumOk), cutting segments up to a large mbuf's room (TSO).
   * TX offloads stop under a wrapper (stopTxChecksumOffload).
   */
  #caps: PortCapabilities;
  /** Chained mbufs dropped on receive (a frame larger than one mbuf). */
  readonly rxChained = new Uint32Array(1);
  readonly #b: Bindings;
  readonly #s: DpdkPortShared;
  /** The whole mempool as one view, made once. */
  readonly #pool: Uint8Array;
  /** With TSO: the large TX mbufs' pool as one view. */
  readonly #segments: Uint8Array;
  readonly #q: QueueState[];
  readonly #onClose: () => void;
  readonly #noBatch = new FrameBatch(0);
  #wake: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  /** performance.now() when a burst last received or sent frames. */
  #lastBusy = -Infinity;
  #closed = false;

  constructor(shared: DpdkPortShared, onClose: () => void = () => {}) {
    this.#b = bind();
    this.#s = shared;
    this.mac = shared.mac;
    this.#caps = {
      maxFrameBytes: DATA_ROOM - 128, queues: shared.queues, txChecksumOffload: (shared.offloads & OFFLOAD_TX_CKSUM) !== 0,
      rxChecksumOffload: (shared.offloads & OFFLOAD_RX_CKSUM) !== 0,
      tsoMaxBytes: (shared.offloads & OFFLOAD_TSO) !== 0 ? SEGMENT_ROOM - 128 : 0, trustedLink: false,
    };
    this.#pool = new Uint8Array(koffi.view(shared.base, shared.length));
    this.#segments = shared.segmentPool ? new Uint8Array(koffi.view(shared.segmentBase, shared.segmentLength)) : this.#pool;
    this.#q = Array.from({ length: shared.queues }, () => new QueueState());
    this.#onClose = onClose;
  }

  get capabilities(): PortCapabilities {
    return this.#caps;
  }

  stopTxChecksumOffload(): void {
    if (this.#caps.txChecksumOffload) this.#caps = { ...this.#caps, txChecksumOffload: false, tsoMaxBytes: 0 };
  }

  rxBurst(queue: number, out: FrameBatch, max: number): number {
    const q = this.#q[queue];
    if (this.#closed || q.rxHeld > 0) return (out.count = 0);
    const n = this.#b.rx(this.#s.port, queue, q.rxPkts, Math.min(max, BURST, out.capacity), this.#s.base, q.rxMeta, this.rxChained);
    const meta = q.rxMeta;
    for (let i = 0; i < n; i++) {
      out.buf[i] = this.#pool;
      out.off[i] = meta[3 * i];
      out.len[i] = meta[3 * i + 1];
      out.id[i] = i;
      out.checksumOk[i] = meta[3 * i + 2] === RX_CKSUM_GOOD ? 1 : 0;
      this.stats.rxBytes += meta[3 * i + 1];
    }
    this.stats.rxFrames += n;
    if (n > 0) this.#lastBusy = performance.now();
    q.rxHeld = n;
    return (out.count = n);
  }

  rxRelease(queue: number, _batch: FrameBatch): void {
    const q = this.#q[queue];
    if (q.rxHeld > 0) this.#b.free(q.rxPkts, q.rxHeld);
    q.rxHeld = 0;
  }

  /** Give back the reserved TX mbufs of a queue that were never sent. */
  #releaseTx(q: QueueState): void {
    if (q.txHeld > 0) this.#b.free(q.txPkts, q.txHeld);
    q.txHeld = 0;
  }

  txAlloc(queue: number, out: FrameBatch, max: number): number {
    const q = this.#q[queue];
    // A new reservation replaces one that was never sent.
    this.#releaseTx(q);
    if (this.#closed) return (out.count = 0);
    // With TSO every TX slot is a large mbuf: which frames will be large segments is not known yet.
    const tso = this.#caps.tsoMaxBytes > 0;
    const s = this.#s;
    const n = this.#b.alloc(tso ? s.segmentPool! : s.pool, q.txPkts, Math.min(max, BURST, out.capacity), tso ? s.segmentBase : s.base, q.txMeta);
    const meta = q.txMeta;
    const cap = tso ? this.#caps.tsoMaxBytes : this.#caps.maxFrameBytes;
    const arena = tso ? this.#segments : this.#pool;
    for (let i = 0; i < n; i++) {
      out.buf[i] = arena;
      out.off[i] = meta[2 * i];
      out.len[i] = meta[2 * i + 1] < cap ? meta[2 * i + 1] : cap;
      out.id[i] = i;
    }
    q.txHeld = n;
    return (out.count = n);
  }

  txBurst(queue: number, batch: FrameBatch, count: number): void {
    const q = this.#q[queue];
    if (q.txHeld === 0) return;
    const sent = this.#b.tx(this.#s.port, queue, q.txPkts, count, q.txHeld, batch.len, batch.segmentBytes, this.#caps.txChecksumOffload ? 1 : 0);
    q.txHeld = 0;
    for (let i = 0; i < sent; i++) this.stats.txBytes += batch.len[i];
    this.stats.txFrames += sent;
    if (sent > 0) this.#lastBusy = performance.now();
    this.stats.txDropped += count - sent;
  }

  /** Polled (see IDLE_POLL_MS): after a nap while the port is busy, otherwise after IDLE_POLL_MS (or timeoutMs, if sooner). */
  waitRx(_queue: number, timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
      if (performance.now() - this.#lastBusy < BUSY_MS) {
        Atomics.wait(napCell, 0, 0, NAP_MS);
        this.#immediate = setImmediate(() => this.wakeRx(0));
      }
      else this.#timer = setTimeout(() => this.wakeRx(0), Math.min(Math.max(timeoutMs, 0), IDLE_POLL_MS));
    });
  }

  wakeRx(_queue: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  close(): void {
    if (this.#closed) return;
    for (let i = 0; i < this.#q.length; i++) {
      this.rxRelease(i, this.#noBatch);
      this.#releaseTx(this.#q[i]);
    }
    this.#closed = true;
    this.wakeRx(0);
    this.#onClose();
  }
}

/**
 * io = dpdk: EAL and a port start once per process, on the first context or share() (for workers), with
 * a queue per core; workers attach to the started port (MtcpShared.dpdk), each core to its own queue.
 * The port closes with the last driver made here, or at destroy() when none was.
 */
export const dpdkFactory: DriverFactory<DpdkPortShared> = {
  forRuntime: (settings, started) => new DpdkRuntimePort(settings, started),
};

class DpdkRuntimePort implements RuntimePort<DpdkPortShared> {
  readonly clock = null;
  /** The port this runtime started, shared by its contexts (one queue each). */
  #port: DpdkPort | null = null;

  constructor(
    readonly settings: DriverSettings,
    /** In a worker: the port the main thread started. */
    readonly started: DpdkPortShared | undefined,
  ) {}

  driver(_core: number): PacketDriver {
    return this.started ? new DpdkDriver(this.started) : this.#open().driver();
  }

  share(): DpdkPortShared {
    return this.started ?? this.#open().shared;
  }

  destroy(): void {
    if (this.#port && this.#port.users === 0) this.#port.close();
  }

  /** This runtime's port, started on first use (again after it closed) with a queue per core. */
  #open(): DpdkPort {
    const s = this.settings;
    const port = s.ports[0];
    if (!this.#port || this.#port.closed) this.#port = DpdkPort.open({
      device: port.device, queues: s.numCores, mtu: s.mtu, mac: port.macGiven ? port.mac : undefined,
      eal: ealArgs({ coreMask: s.coreMask, numMemCh: s.numMemCh, pci: isPciAddress(port.device) }),
    });
    return this.#port;
  }
}
