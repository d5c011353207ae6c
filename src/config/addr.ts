/** Text forms of IPv4 and MAC addresses (numbers inside the stack). */

/**
 * 198.18.0.1 → 0xc6120001; -1 when invalid. An octet with a leading zero
 * (`010`) is rejected: inet_addr(3), which mTCP uses, reads it as octal, so
 * taking it as decimal would silently change the address.
 */
export function parseIpv4(text: string): number {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(text);
  if (!m) return -1;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return -1;
    n = n * 256 + o;
  }
  return n;
}

export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** aa:bb:cc:dd:ee:ff → 48-bit integer; -1 when invalid. */
export function parseMac(text: string): number {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) return -1;
  return parseInt(text.replace(/:/g, ''), 16);
}

export function formatMac(n: number): string {
  return n.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** 198.18.0.0/15 → { addr, prefix }; null when invalid. */
export function parseCidr(text: string): { addr: number; prefix: number } | null {
  const m = /^([^/]+)\/(0|[1-9]\d?)$/.exec(text);
  if (!m) return null;
  const addr = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  if (addr < 0 || prefix > 32) return null;
  return { addr, prefix };
}

/** Network mask of a prefix length as a uint32 (prefixMask(0) === 0). */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}
