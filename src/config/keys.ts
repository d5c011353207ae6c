/**
 * Every mtcp.conf key in one table: its default, its limits, what it means and where the value comes
 * from. The file parser (mtcp-conf.ts) and mtcp_getconf / mtcp_setconf (src/mtcp/api.ts) both read it,
 * so a key's default and limits are written once and the two ways of setting it agree.
 */
import { CONGESTION_CONTROL_NAMES } from '../stack/tcp/congestion/index.ts';

/** The packet I/O drivers mtcp.conf's `io` names (each has a factory in src/mtcp/drivers.ts). */
export const IO_NAMES = ['sim', 'shm', 'tap', 'dpdk', 'netmap'] as const;
export type IoName = (typeof IO_NAMES)[number];

/** MtcpConfig's integer fields that a key sets. */
export type IntegerField =
  | 'numCores' | 'numMemCh' | 'maxConcurrency' | 'maxNumBuffers' | 'rcvbuf' | 'sndbuf' | 'rcvbufMax' | 'sndbufMax' | 'tcpBufferMemory'
  | 'tcpTimeoutSec' | 'tcpTimewaitSec' | 'mtu' | 'shmSlots';

/** The members of mTCP's struct mtcp_conf that mtcp_getconf and mtcp_setconf read and change. */
export type MtcpConfName = 'num_cores' | 'max_concurrency' | 'max_num_buffers' | 'rcvbuf_size' | 'sndbuf_size' | 'tcp_timewait' | 'tcp_timeout';

interface KeyInfo {
  /** What the key means, as the README's table says it. */
  readonly meaning: string;
  /** Where the key and its default come from. */
  readonly source: string;
}

/** A key whose value is an integer within limits. */
export interface IntegerKey extends KeyInfo {
  readonly kind: 'integer';
  /** The MtcpConfig field it sets. */
  readonly field: IntegerField;
  readonly default: number;
  /** Smallest and largest value accepted. */
  readonly min: number;
  readonly max: number;
  /** A rule beyond the range, for the few keys that have one. */
  readonly rule?: { readonly holds: (n: number) => boolean; readonly expected: string };
  /** Its struct mtcp_conf member, when mtcp_getconf and mtcp_setconf handle it. */
  readonly conf?: MtcpConfName;
}

/** A key whose value is text the parser reads by its own rules (names, addresses, masks, lists). */
export interface TextKey extends KeyInfo {
  readonly kind: 'text';
  /** The default, as the README states it. */
  readonly default: string;
  /** The values it takes, when it is one of a list. */
  readonly values?: readonly string[];
}

export type ConfKey = IntegerKey | TextKey;

const isPowerOfTwo = (n: number): boolean => (n & (n - 1)) === 0;

/** mtcp.conf's keys (the per-port `<port>.addr`, `<port>.mac` and `<port>.device` are read with `port`). */
export const CONF_KEYS = {
  io: {
    kind: 'text', default: 'shm', values: IO_NAMES, meaning: 'the packet I/O driver',
    source: 'mTCP (its drivers: dpdk, netmap, psio, onvm); sim, shm and tap are mtcp-ts\'s',
  },
  num_cores: {
    kind: 'integer', field: 'numCores', default: 1, min: 1, max: 128, conf: 'num_cores',
    meaning: 'cores: one context, one RSS queue and, under runOnCores, one pinned worker each',
    source: 'mTCP config.c (its default is every CPU); at most 128 queues per port',
  },
  core_mask: {
    kind: 'text', default: 'the lowest num_cores bits', meaning: 'hex CPU mask; core k runs on its k-th CPU',
    source: 'mTCP (DPDK\'s EAL -c)',
  },
  num_mem_ch: {
    kind: 'integer', field: 'numMemCh', default: 4, min: 1, max: 16,
    meaning: 'memory channels per socket, for io = dpdk', source: 'mTCP (DPDK\'s EAL -n); 4 as in mTCP\'s sample epserver.conf',
  },
  port: {
    kind: 'text', default: '<io>0', meaning: 'port names, space separated (for tap and netmap: the interface)',
    source: 'mTCP (it read each port\'s address from the kernel; mtcp-ts reads <port>.addr)',
  },
  stat_print: { kind: 'text', default: 'none', meaning: 'ports whose statistics are printed every second', source: 'mTCP' },
  max_concurrency: {
    kind: 'integer', field: 'maxConcurrency', default: 10000, min: 1, max: 1 << 22, conf: 'max_concurrency',
    meaning: 'connections (and socket ids) per core', source: 'mTCP (10000 in its sample epserver.conf)',
  },
  max_num_buffers: {
    kind: 'integer', field: 'maxNumBuffers', default: 10000, min: 1, max: 1 << 22, conf: 'max_num_buffers',
    meaning: 'send and receive buffers per pool, per core', source: 'mTCP (10000 in its sample epserver.conf)',
  },
  rcvbuf: {
    kind: 'integer', field: 'rcvbuf', default: 8192, min: 64, max: 1 << 30, conf: 'rcvbuf_size',
    meaning: 'receive buffer per connection, bytes; defaults to sndbuf when only that is set', source: 'mTCP config.c (at least 64)',
  },
  sndbuf: {
    kind: 'integer', field: 'sndbuf', default: 8192, min: 64, max: 1 << 30, conf: 'sndbuf_size',
    meaning: 'send buffer per connection, bytes; defaults to rcvbuf when only that is set', source: 'mTCP config.c (at least 64)',
  },
  rcvbuf_max: {
    kind: 'integer', field: 'rcvbufMax', default: 4 << 20, min: 64, max: 1 << 30,
    meaning: 'largest receive buffer of one connection, bytes: it starts at rcvbuf and grows by doublings as the data read per round trip demands '
      + '(rounded down to rcvbuf times a power of two; at most rcvbuf: no growth); the window scale offered follows it',
    source: 'mtcp-ts (Linux\'s tcp_rmem maximum, 4 MiB on small machines; its receive autotuning)',
  },
  sndbuf_max: {
    kind: 'integer', field: 'sndbufMax', default: 4 << 20, min: 64, max: 1 << 30,
    meaning: 'largest send buffer of one connection, bytes: it starts at sndbuf and grows to twice the congestion window while the '
      + 'application keeps it full (rounded down to sndbuf times a power of two; at most sndbuf: no growth)',
    source: 'mtcp-ts (Linux\'s tcp_wmem maximum, 4 MiB; its tcp_sndbuf_expand)',
  },
  tcp_buffer_memory: {
    kind: 'integer', field: 'tcpBufferMemory', default: 256 << 20, min: 0, max: 2 ** 40,
    meaning: 'bytes per core that buffers grown beyond rcvbuf/sndbuf may hold together; a buffer the budget refuses stays at its size '
      + '(counted as tcpBufferGrowthCapped); 0: no growth',
    source: 'mtcp-ts (Linux\'s tcp_mem limit)',
  },
  tcp_timeout: {
    kind: 'integer', field: 'tcpTimeoutSec', default: 30, min: -1, max: 86400, conf: 'tcp_timeout',
    meaning: 'idle timeout, seconds: a connection that receives nothing for that long fails with ETIMEDOUT; 0 or -1 disables',
    source: 'mTCP tcp_in.h TCP_TIMEOUT (30 s); mTCP checks timeouts only when tcp_timeout > 0',
  },
  tcp_timewait: {
    kind: 'integer', field: 'tcpTimewaitSec', default: 0, min: 0, max: 3600, conf: 'tcp_timewait',
    meaning: 'TIME_WAIT duration, seconds (0: the connection is released at once)', source: 'mTCP tcp_in.h TCP_TIMEWAIT (0)',
  },
  cc: {
    kind: 'text', default: 'reno', values: CONGESTION_CONTROL_NAMES, meaning: 'congestion control: reno (RFC 5681) or cubic (RFC 9438)',
    source: 'mtcp-ts (mTCP has Reno only)',
  },
  mtu: {
    kind: 'integer', field: 'mtu', default: 1500, min: 576, max: 65535,
    meaning: 'link MTU, bytes (MSS = MTU - 40); a driver whose frames cannot carry it refuses it (shm\'s slots follow it, up to 65535)',
    source: 'mtcp-ts (RFC 791\'s 576 to the largest IPv4 datagram, as Linux\'s loopback uses 65536)',
  },
  shm_slots: {
    kind: 'integer', field: 'shmSlots', default: 1024, min: 64, max: 65536, meaning: 'io = shm: slots per ring',
    rule: { holds: isPowerOfTwo, expected: 'a power of two from 64 to 65536' }, source: 'mtcp-ts',
  },
  arp_conf: {
    kind: 'text', default: 'config/arp.conf beside mtcp.conf, when present', meaning: 'static neighbours (mTCP\'s arp.conf format)',
    source: 'mtcp-ts (mTCP reads config/arp.conf)',
  },
  route_conf: {
    kind: 'text', default: 'config/route.conf beside mtcp.conf, when present', meaning: 'static routes (mTCP\'s route.conf format)',
    source: 'mtcp-ts (mTCP reads config/route.conf)',
  },
  impair: {
    kind: 'text', default: 'none', meaning: 'loss, corruption, duplication, reordering and delay around the driver, for tests',
    source: 'mtcp-ts',
  },
  capture: { kind: 'text', default: 'none', meaning: 'a pcapng file receiving every frame in and out', source: 'mtcp-ts' },
} as const satisfies Record<string, ConfKey>;

export type ConfKeyName = keyof typeof CONF_KEYS;

/** The integer keys, in table order. */
export const INTEGER_KEYS: readonly (IntegerKey & { readonly key: ConfKeyName })[] = (Object.entries(CONF_KEYS) as [ConfKeyName, ConfKey][])
  .flatMap(([key, spec]) => (spec.kind === 'integer' ? [{ ...spec, key }] : []));

/** What is wrong with `n` as a value of an integer key ('is not an integer', 'is out of range', ...), or null when nothing is. */
export function integerProblem(spec: IntegerKey, n: number): string | null {
  if (!Number.isInteger(n)) return 'is not an integer';
  if (n < spec.min || n > spec.max) return 'is out of range';
  if (spec.rule && !spec.rule.holds(n)) return `is not ${spec.rule.expected}`;
  return null;
}

/** What a good value of an integer key is, for error messages. */
export function integerExpected(spec: IntegerKey): string {
  return spec.rule?.expected ?? `an integer from ${spec.min} to ${spec.max}`;
}
