/**
 * mTCP's mtcp.conf: `key = value` lines with `#` comments. mTCP's keys keep
 * their meaning and defaults; mtcp-ts adds what mTCP read from the kernel's
 * interfaces (`<port>.addr`, `<port>.mac`). A bad line is a ConfigError naming
 * the file and line, never a silent default. Keys, defaults and limits come
 * from one table (keys.ts), which mtcp_setconf checks against too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { EIO, ENOENT } from '../stack/errno.ts';
import type { CongestionControlName } from '../stack/tcp/congestion/index.ts';
import { parseCidr, parseMac } from './addr.ts';
import { parseArpConf, type ArpEntry } from './arp-conf.ts';
import { ConfigError } from './errors.ts';
import type { LinkImpairments } from '../stack/impairments.ts';
import { CONF_KEYS, INTEGER_KEYS, integerExpected, integerProblem, type IntegerKey, type IoName } from './keys.ts';
import { contentLines } from './lines.ts';
import { parseRouteConf, RouteUnknownPortError, type RouteEntry } from './route-conf.ts';

export type { ArpEntry } from './arp-conf.ts';
export type { RouteEntry } from './route-conf.ts';
export type { CongestionControlName } from '../stack/tcp/congestion/index.ts';

export type { IoName } from './keys.ts';

/** The CPUs a core mask names, lowest first: core k runs on the k-th (mTCP's core_mask). */
export function maskCpus(mask: number): number[] {
  const cpus: number[] = [];
  for (let v = mask, cpu = 0; v >= 1; v = Math.floor(v / 2), cpu++) if (v % 2 === 1) cpus.push(cpu);
  return cpus;
}

/** One port: mTCP read these from the kernel's interface; mtcp-ts reads `<port>.addr` / `<port>.mac`. */
export interface PortConfig {
  /** Port name from `port` (letters, digits, _). */
  name: string;
  /** IPv4 address, uint32. */
  addr: number;
  /** Subnet prefix length, 0..32. */
  prefix: number;
  /** 48-bit MAC; 02:00:a:b:c:d (locally administered, from the address) unless `<port>.mac` is given. */
  mac: number;
  /** Whether `<port>.mac` was given (io = dpdk otherwise keeps the device's own MAC). */
  macGiven: boolean;
  /**
   * `<port>.device`: io = dpdk, a PCI address or a virtual device with its arguments; io = netmap, the netmap
   * port when its name is not a port name (a VALE port vale0:a, a pipe end eth0{1); '' otherwise.
   */
  device: string;
}

export interface MtcpConfig {
  /** The file it came from (or a label for text). */
  file: string;
  /** Packet I/O driver (`io`). */
  io: IoName;
  /** Cores, one context each (`num_cores`, 1..128). */
  numCores: number;
  /** CPUs the cores may use (`core_mask`); the lowest numCores bits by default (inexact above 52 cores). */
  coreMask: number;
  /** Memory channels per socket (`num_mem_ch`, passed to DPDK's EAL as -n). */
  numMemCh: number;
  /** Ports in `port` order. */
  ports: PortConfig[];
  /** Ports whose statistics are printed (`stat_print`). */
  statPrint: string[];
  /** Connections per core (`max_concurrency`). */
  maxConcurrency: number;
  /** Send/receive buffers per core (`max_num_buffers`). */
  maxNumBuffers: number;
  /** Receive buffer bytes per connection (`rcvbuf`). */
  rcvbuf: number;
  /** Send buffer bytes per connection (`sndbuf`). */
  sndbuf: number;
  /** Largest receive and send buffer of one connection as they grow (`rcvbuf_max`, `sndbuf_max`). */
  rcvbufMax: number;
  sndbufMax: number;
  /** Bytes per core the grown buffers may hold together (`tcp_buffer_memory`). */
  tcpBufferMemory: number;
  /** Idle timeout, seconds; 0 or -1 disables (`tcp_timeout`). */
  tcpTimeoutSec: number;
  /** TIME_WAIT duration, seconds (`tcp_timewait`). */
  tcpTimewaitSec: number;
  /** Congestion control (`cc`). */
  cc: CongestionControlName;
  /** Link MTU in bytes (`mtu`). */
  mtu: number;
  /** shm ring slots per queue (`shm_slots`). */
  shmSlots: number;
  /** `arp_conf` as written ('' when not given; loadMtcpConf then tries config/arp.conf). */
  arpConf: string;
  /** `route_conf` as written ('' when not given; loadMtcpConf then tries config/route.conf). */
  routeConf: string;
  /** Static ARP entries (filled by loadMtcpConf). */
  arp: ArpEntry[];
  /** Static routes (filled by loadMtcpConf). */
  routes: RouteEntry[];
  /** What loadMtcpConf did with each arp.conf / route.conf, named or found beside the file (sideFilesLine says it in one line). */
  sideFiles: SideFile[];
  /** `impair`: losses, corruption, duplication, reordering and delay added around the driver (none by default). */
  impair: Partial<LinkImpairments> | null;
  /** `capture`: a pcapng file receiving every frame in and out ('' for none); cores after the first add -core<N>. */
  capture: string;
}

/** An arp.conf or route.conf that loadMtcpConf read, or found beside mtcp.conf and skipped. */
export interface SideFile {
  key: 'arp_conf' | 'route_conf';
  /** Absolute path. */
  path: string;
  /** Named by arp_conf / route_conf (false: found as config/arp.conf or config/route.conf beside mtcp.conf). */
  named: boolean;
  /** Entries read; -1 when skipped. */
  entries: number;
  /** Why a file found beside mtcp.conf was skipped ('' when loaded). */
  skipped: string;
}

/** Defaults with no port (the table's, keys.ts), for building a config in code. */
export function defaultConfig(): MtcpConfig {
  const c: MtcpConfig = {
    file: '<defaults>', io: CONF_KEYS.io.default, numCores: 0, coreMask: 0, numMemCh: 0, ports: [], statPrint: [],
    maxConcurrency: 0, maxNumBuffers: 0, rcvbuf: 0, sndbuf: 0, rcvbufMax: 0, sndbufMax: 0, tcpBufferMemory: 0, tcpTimeoutSec: 0, tcpTimewaitSec: 0, cc: CONF_KEYS.cc.default,
    mtu: 0, shmSlots: 0, arpConf: '', routeConf: '', arp: [], routes: [], sideFiles: [], impair: null, capture: '',
  };
  for (const spec of INTEGER_KEYS) c[spec.field] = spec.default;
  c.coreMask = 2 ** c.numCores - 1;
  return c;
}

interface Line {
  line: number;
  value: string;
}

/** An integer key's value, within the table's limits (the same check mtcp_setconf makes). */
function integer(file: string, key: string, l: Line, spec: IntegerKey): number {
  const n = /^-?\d+$/.test(l.value) ? Number(l.value) : NaN;
  const problem = integerProblem(spec, n);
  if (problem) throw new ConfigError(file, l.line, `${key} = ${Number.isNaN(n) ? l.value : n} ${problem}`, integerExpected(spec));
  return n;
}

/** `impair = loss=0.05, corrupt=0.001, duplicate=0.01, reorder=0.01, reorder_ms=5, delay_ms=2`: each optional, with its largest value. */
const IMPAIR_KEYS: Record<string, [keyof LinkImpairments, number]> = {
  loss: ['loss', 1], corrupt: ['corrupt', 1], duplicate: ['duplicate', 1], reorder: ['reorder', 1], reorder_ms: ['reorderMs', 10_000],
  delay_ms: ['delayMs', 10_000],
};

function impairments(file: string, l: Line): Partial<LinkImpairments> {
  const out: Partial<LinkImpairments> = {};
  const expected = `comma-separated name=value pairs: ${Object.keys(IMPAIR_KEYS).map((k) => `${k} (0..${IMPAIR_KEYS[k][1]})`).join(', ')}`;
  for (const part of l.value.split(',')) {
    const m = /^\s*([a-z_]+)\s*=\s*([0-9.]+)\s*$/.exec(part);
    const spec = m ? IMPAIR_KEYS[m[1]] : undefined;
    const v = m ? Number(m[2]) : NaN;
    if (!m || !spec || !Number.isFinite(v) || v < 0 || v > spec[1]) throw new ConfigError(file, l.line, `impair: bad \`${part.trim()}\``, expected);
    out[spec[0]] = v;
  }
  return out;
}
const PORT_NAME = /^[A-Za-z0-9_]+$/;
/** The per-port keys: `<port>.addr`, `<port>.mac`, `<port>.device`. */
type PortKey = 'addr' | 'mac' | 'device';

/** Parse mtcp.conf text (no files are read; arp and routes stay empty). */
export function parseMtcpConf(text: string, file: string): MtcpConfig {
  return parseWithLines(text, file).config;
}

/** The config and where each plain key was given (for errors found later, e.g. a missing arp_conf file). */
function parseWithLines(text: string, file: string): { config: MtcpConfig; seen: Map<string, Line> } {
  const seen = new Map<string, Line>();
  const portKeys = new Map<string, Map<PortKey, Line>>();
  for (const { line, text: t } of contentLines(text)) {
    const eq = t.indexOf('=');
    if (eq < 0) throw new ConfigError(file, line, `\`${t}\` has no \`=\``, '`key = value`');
    const key = t.slice(0, eq).trim();
    const value = t.slice(eq + 1).trim();
    if (key === '') throw new ConfigError(file, line, `\`${t}\` has no key before \`=\``, '`key = value`');
    if (value === '') throw new ConfigError(file, line, `${key} has no value`, '`key = value`');
    const dot = /^([A-Za-z0-9_]+)\.(addr|mac|device)$/.exec(key);
    if (dot) {
      const per = portKeys.get(dot[1]) ?? new Map<PortKey, Line>();
      if (per.has(dot[2] as PortKey)) throw new ConfigError(file, line, `duplicate key ${key}`, 'each key once');
      per.set(dot[2] as PortKey, { line, value });
      portKeys.set(dot[1], per);
      continue;
    }
    if (!Object.hasOwn(CONF_KEYS, key)) {
      throw new ConfigError(file, line, `unknown key \`${key}\``, `one of ${Object.keys(CONF_KEYS).join(', ')}, <port>.addr, <port>.mac, <port>.device`);
    }
    if (seen.has(key)) throw new ConfigError(file, line, `duplicate key ${key}`, 'each key once');
    seen.set(key, { line, value });
  }

  const c = defaultConfig();
  c.file = file;
  const get = (k: string): Line | undefined => seen.get(k);
  let l: Line | undefined;

  if ((l = get('io'))) {
    const names: readonly string[] = CONF_KEYS.io.values;
    if (!names.includes(l.value)) throw new ConfigError(file, l.line, `unknown io = ${l.value}`, `one of ${names.join(', ')}`);
    c.io = l.value as IoName;
  }
  for (const spec of INTEGER_KEYS) {
    if ((l = get(spec.key))) c[spec.field] = integer(file, spec.key, l, spec);
  }
  c.coreMask = 2 ** c.numCores - 1;
  if ((l = get('core_mask'))) {
    // At most 13 hex digits: cores 0..51, exact in a JS number.
    const m = /^(0x|0X)?([0-9a-fA-F]{1,13})$/.exec(l.value);
    if (!m) throw new ConfigError(file, l.line, `core_mask = ${l.value} is not a hex mask`, 'a hex number of at most 13 digits (cores 0 to 51), such as 0xf');
    const mask = parseInt(m[2], 16);
    const bits = maskCpus(mask).length;
    if (bits < c.numCores) {
      throw new ConfigError(file, l.line, `core_mask = ${l.value} has ${bits} cores but num_cores = ${c.numCores}`, `at least ${c.numCores} bits set`);
    }
    c.coreMask = mask;
  }
  // mTCP: rcvbuf and sndbuf each default to the other when only one is set.
  const rcv = get('rcvbuf');
  const snd = get('sndbuf');
  if (rcv && !snd) c.sndbuf = c.rcvbuf;
  if (snd && !rcv) c.rcvbuf = c.sndbuf;
  if ((l = get('cc'))) {
    const names: readonly string[] = CONF_KEYS.cc.values;
    if (!names.includes(l.value)) {
      throw new ConfigError(file, l.line, `unknown cc = ${l.value}`, `one of ${names.join(', ')}`);
    }
    c.cc = l.value as CongestionControlName;
  }
  if ((l = get('impair'))) c.impair = impairments(file, l);
  c.capture = get('capture')?.value ?? '';
  c.arpConf = get('arp_conf')?.value ?? '';
  c.routeConf = get('route_conf')?.value ?? '';

  // Ports: `port` lists names; each needs `<name>.addr`.
  const portLine = get('port');
  const names = portLine ? portLine.value.split(/\s+/) : [`${c.io}0`];
  for (const n of names) {
    if (!PORT_NAME.test(n)) throw new ConfigError(file, portLine?.line ?? 0, `bad port name \`${n}\``, 'letters, digits and _');
  }
  if (new Set(names).size !== names.length) throw new ConfigError(file, portLine?.line ?? 0, 'a port is listed twice', 'distinct port names');
  for (const [name, per] of portKeys) {
    if (!names.includes(name)) {
      const first = [...per.values()][0];
      throw new ConfigError(file, first.line, `${name}.* is given but ${name} is not in \`port\``, `a port from \`port = ${names.join(' ')}\``);
    }
  }
  c.ports = names.map((name) => {
    const per = portKeys.get(name);
    const addrLine = per?.get('addr');
    if (!addrLine) throw new ConfigError(file, portLine?.line ?? 0, `port ${name} has no address`, `a line \`${name}.addr = ip/prefix\``);
    const cidr = parseCidr(addrLine.value);
    if (!cidr) throw new ConfigError(file, addrLine.line, `${name}.addr = ${addrLine.value}`, 'an IPv4 address with a prefix, e.g. 198.18.0.1/24');
    let mac: number;
    const macLine = per?.get('mac');
    if (macLine) {
      mac = parseMac(macLine.value);
      if (mac < 0) throw new ConfigError(file, macLine.line, `${name}.mac = ${macLine.value}`, 'six hex bytes separated by colons');
    } else {
      mac = 0x020000000000 + cidr.addr; // locally administered 02:00:a:b:c:d
    }
    const deviceLine = per?.get('device');
    if (c.io === 'dpdk' && !deviceLine) {
      throw new ConfigError(file, portLine?.line ?? 0, `io = dpdk: port ${name} has no device`,
        `a line \`${name}.device = <PCI address, or virtual device such as net_af_packet0,iface=veth0>\``);
    }
    if (c.io !== 'dpdk' && c.io !== 'netmap' && deviceLine) {
      throw new ConfigError(file, deviceLine.line, `${name}.device is for io = dpdk or netmap`, 'no <port>.device line, or io = dpdk or netmap');
    }
    // nr_name holds 63 characters; rings follow num_cores, so libnetmap's ring and flag suffixes have no place here.
    if (c.io === 'netmap' && deviceLine && !/^(netmap:)?[^\s*^/@]{1,63}$/.test(deviceLine.value)) {
      throw new ConfigError(file, deviceLine.line, `${name}.device = ${deviceLine.value}`,
        'a netmap port of at most 63 characters: an interface (eth0), a VALE port (vale0:a) or a pipe end (eth0{1), without * ^ / @ suffixes');
    }
    return { name, addr: cidr.addr, prefix: cidr.prefix, mac, macGiven: !!macLine, device: deviceLine?.value ?? '' };
  });
  // Every driver opens ports[0] only: a second name would be configured and never used, so it is refused.
  if (c.ports.length > 1) {
    throw new ConfigError(file, portLine?.line ?? 0, `port = ${names.join(' ')}: io = ${c.io} takes one port per stack in this version, ` +
      `so ${names.slice(1).join(' and ')} would get no driver`, 'one name in `port` (run one stack per port)');
  }
  if ((l = get('stat_print'))) {
    c.statPrint = l.value.split(/\s+/);
    for (const p of c.statPrint) {
      if (!names.includes(p)) throw new ConfigError(file, l.line, `stat_print names unknown port \`${p}\``, `ports from \`port\` (${names.join(', ')})`);
    }
  }
  return { config: c, seen };
}

/** A config file's text, or a ConfigError naming it with the system's errno (ENOENT, EACCES, ...). */
function readConfigFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(path, 0, `cannot read the file (${e.code ?? e.message})`, `a readable ${what}`, Math.abs(e.errno ?? 0) || EIO);
  }
}

/**
 * Read mtcp.conf and the arp.conf / route.conf it uses: the files arp_conf and route_conf name (relative to mtcp.conf),
 * else config/arp.conf and config/route.conf beside it when present. A route.conf found beside it that routes by a port
 * this file does not configure (the repository's config/route.conf beside a tap.conf, say) is skipped, and
 * `sideFiles` says so; a named one is an error.
 */
export function loadMtcpConf(path: string): MtcpConfig {
  const { config: c, seen } = parseWithLines(readConfigFile(path, 'mtcp.conf'), path);
  const dir = dirname(path);
  const names = c.ports.map((p) => p.name);
  const locate = (explicit: string, fallback: string, key: SideFile['key']): { path: string; named: boolean } | null => {
    if (explicit) {
      const p = resolve(dir, explicit);
      if (!existsSync(p)) {
        throw new ConfigError(path, seen.get(key)?.line ?? 0, `${key} = ${explicit} does not exist (${p})`, 'an existing file, relative to this file\'s directory', ENOENT);
      }
      return { path: p, named: true };
    }
    const p = resolve(dir, fallback);
    return existsSync(p) ? { path: p, named: false } : null;
  };
  const arp = locate(c.arpConf, 'config/arp.conf', 'arp_conf');
  if (arp) {
    c.arp = parseArpConf(readConfigFile(arp.path, 'arp.conf'), arp.path);
    c.sideFiles.push({ key: 'arp_conf', ...arp, entries: c.arp.length, skipped: '' });
  }
  const route = locate(c.routeConf, 'config/route.conf', 'route_conf');
  if (route) {
    const text = readConfigFile(route.path, 'route.conf');
    try {
      c.routes = parseRouteConf(text, route.path, names);
      c.sideFiles.push({ key: 'route_conf', ...route, entries: c.routes.length, skipped: '' });
    } catch (err) {
      if (route.named || !(err instanceof RouteUnknownPortError)) throw err;
      c.sideFiles.push({ key: 'route_conf', ...route, entries: -1, skipped: `it routes by ${err.port}, not a port of this file (name it with route_conf to use it)` });
    }
  }
  return c;
}

/** The one line mtcp_init prints about the side files: which were loaded, which found beside mtcp.conf were skipped and why. */
export function sideFilesLine(c: MtcpConfig): string {
  const rel = (p: string): string => relative(dirname(resolve(c.file)), p) || p;
  const parts = c.sideFiles.map((f) => (f.entries >= 0
    ? `${rel(f.path)} (${f.entries} ${f.key === 'arp_conf' ? 'ARP entr' + (f.entries === 1 ? 'y' : 'ies') : 'route' + (f.entries === 1 ? '' : 's')}${f.named ? '' : ', found beside it'})`
    : `skipped ${rel(f.path)}: ${f.skipped}`));
  return `${c.file}: ${parts.length > 0 ? `side files ${parts.join('; ')}` : 'no arp.conf or route.conf'}`;
}
