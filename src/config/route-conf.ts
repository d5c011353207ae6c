/**
 * mTCP's route.conf: `ROUTES n`, then n lines `ip/prefix port`. A /0 line is
 * the default route and its ip is the gateway. Each port's own subnet is an
 * implicit directly connected route; the longest prefix wins.
 */
import { parseCidr, prefixMask } from './addr.ts';
import { ConfigError } from './errors.ts';
import { countedLines } from './lines.ts';

export interface RouteEntry {
  /** Destination network (uint32, host bits cleared); 0 for the default route. */
  addr: number;
  /** Prefix length, 0..32. */
  prefix: number;
  /** Port name the route leaves by. */
  port: string;
  /** Next hop for this route, 0 when directly connected. */
  gateway: number;
}

/** What RouteTable needs of a port (a PortConfig will do): its subnet is routed directly. */
export interface RoutePort {
  /** Port name. */
  name: string;
  /** The port's IPv4 address. */
  addr: number;
  /** The port's subnet prefix length. */
  prefix: number;
}

/** A route by a port the configuration does not have (loadMtcpConf skips such a file when it only found it beside mtcp.conf). */
export class RouteUnknownPortError extends ConfigError {
  constructor(file: string, line: number, readonly port: string, portNames: readonly string[]) {
    super(file, line, `unknown port \`${port}\``, `one of the configured ports (${portNames.join(', ') || 'none'})`);
  }
}

export function parseRouteConf(text: string, file: string, portNames: readonly string[]): RouteEntry[] {
  const rest = countedLines(text, file, { keyword: 'ROUTES', header: 'a `ROUTES n` header', items: 'routes', lineForm: '`ip/prefix port`' });
  return rest.map(({ text: t, line }) => {
    const parts = t.split(/\s+/);
    const cidr = parts.length === 2 ? parseCidr(parts[0]) : null;
    if (!cidr) throw new ConfigError(file, line, `bad route \`${t}\``, '`ip/prefix port`, e.g. `198.18.0.0/24 shm0`');
    if (!portNames.includes(parts[1])) {
      throw new RouteUnknownPortError(file, line, parts[1], portNames);
    }
    if (cidr.prefix === 0) return { addr: 0, prefix: 0, port: parts[1], gateway: cidr.addr };
    return { addr: (cidr.addr & prefixMask(cidr.prefix)) >>> 0, prefix: cidr.prefix, port: parts[1], gateway: 0 };
  });
}

/** Longest-prefix-match routing over typed arrays: lookups allocate nothing. */
export class RouteTable {
  /** Masked network of each route, longest prefix first. */
  readonly #net: Uint32Array;
  /** Network mask of each route. */
  readonly #mask: Uint32Array;
  /** Gateway of each route (uint32), 0 when directly connected. */
  readonly #gateway: Float64Array;
  /** Port name of each route. */
  readonly #ports: string[];

  constructor(routes: readonly RouteEntry[], ports: readonly RoutePort[]) {
    const implicit: RouteEntry[] = ports.map((p) => ({
      addr: (p.addr & prefixMask(p.prefix)) >>> 0, prefix: p.prefix, port: p.name, gateway: 0,
    }));
    // Explicit routes first, so they win over an implicit route of the same length.
    const all = [...routes, ...implicit].map((r, i) => ({ r, i }));
    all.sort((a, b) => b.r.prefix - a.r.prefix || a.i - b.i);
    this.#net = new Uint32Array(all.map(({ r }) => (r.addr & prefixMask(r.prefix)) >>> 0));
    this.#mask = new Uint32Array(all.map(({ r }) => prefixMask(r.prefix)));
    this.#gateway = new Float64Array(all.map(({ r }) => r.gateway));
    this.#ports = all.map(({ r }) => r.port);
  }

  /** Index of the best route for dst (uint32 or int32 form), -1 when none. */
  lookup(dst: number): number {
    for (let i = 0; i < this.#net.length; i++) {
      if (((dst & this.#mask[i]) >>> 0) === this.#net[i]) return i;
    }
    return -1;
  }

  /** IPv4 of the next hop towards dst (dst itself when directly connected), -1 when unreachable. */
  nextHop(dst: number): number {
    const i = this.lookup(dst);
    if (i < 0) return -1;
    return this.#gateway[i] !== 0 ? this.#gateway[i] : dst;
  }

  /** Port the best route for dst leaves by, null when unreachable. */
  portOf(dst: number): string | null {
    const i = this.lookup(dst);
    return i < 0 ? null : this.#ports[i];
  }
}
