/** mTCP's arp.conf: `ARP_ENTRY n`, then n lines `ip/prefix mac`. */
import { parseCidr, parseMac, prefixMask } from './addr.ts';
import { ConfigError } from './errors.ts';
import { countedLines } from './lines.ts';

export interface ArpEntry {
  /** IPv4 address (uint32) as written; host bits are ignored when matching. */
  addr: number;
  /** Prefix length, 0..32 (/32 for one neighbour, /0 for everything, e.g. a gateway's MAC). */
  prefix: number;
  /** 48-bit MAC. */
  mac: number;
}

export function parseArpConf(text: string, file: string): ArpEntry[] {
  const rest = countedLines(text, file, { keyword: 'ARP_ENTRY', header: 'an `ARP_ENTRY n` header', items: 'entries', lineForm: '`ip/prefix mac`' });
  return rest.map(({ text: t, line }) => {
    const parts = t.split(/\s+/);
    const cidr = parts.length === 2 ? parseCidr(parts[0]) : null;
    if (!cidr) throw new ConfigError(file, line, `bad entry \`${t}\``, '`ip/prefix mac`, e.g. `198.18.0.2/32 02:00:c6:12:00:02`');
    const mac = parseMac(parts[1]);
    if (mac < 0) throw new ConfigError(file, line, `bad MAC address \`${parts[1]}\``, 'six hex bytes separated by colons');
    return { addr: cidr.addr, prefix: cidr.prefix, mac };
  });
}

/** Static neighbours with longest-prefix match; lookups allocate nothing. */
export class ArpTable {
  /** Masked network of each entry, longest prefix first. */
  readonly #net: Uint32Array;
  /** Network mask of each entry. */
  readonly #mask: Uint32Array;
  /** MAC of each entry (48 bits, exact in a double). */
  readonly #mac: Float64Array;

  constructor(entries: readonly ArpEntry[]) {
    const sorted = [...entries].sort((a, b) => b.prefix - a.prefix); // stable: the first of equal prefixes wins
    this.#net = new Uint32Array(sorted.map((e) => (e.addr & prefixMask(e.prefix)) >>> 0));
    this.#mask = new Uint32Array(sorted.map((e) => prefixMask(e.prefix)));
    this.#mac = new Float64Array(sorted.map((e) => e.mac));
  }

  /** MAC for `ip` (uint32 or int32 form), -1 when no entry covers it. */
  lookup(ip: number): number {
    for (let i = 0; i < this.#net.length; i++) {
      if (((ip & this.#mask[i]) >>> 0) === this.#net[i]) return this.#mac[i];
    }
    return -1;
  }
}
