/**
 * Receive-side scaling as a NIC does it, so that a software wire spreads frames
 * over per-core queues exactly as a DPDK port would, and so that a core can
 * predict where the replies to a connection it opens will arrive.
 *
 * The hash is Toeplitz (Microsoft's RSS specification; DPDK's software version
 * is rte_softrss() in rte_thash.h): for each set bit i of the input, counted
 * from the most significant bit of its first byte, XOR in the 32 bits of the
 * key that start at key bit i. The IPv4 input is the source address, the
 * destination address, then for TCP the source and destination ports, all in
 * network byte order (DPDK's struct rte_ipv4_tuple).
 *
 * Here the bits are precomputed per input byte: table[p * 256 + v] is what
 * byte p holding value v contributes, so a hash is 12 table reads and XORs on
 * int32s, and allocates nothing.
 *
 * The key mtcp-ts uses, like mTCP and native/dpdk-shim.c, is 0x6d5a repeated:
 * its 16-bit period makes hash(a, b, pa, pb) equal hash(b, a, pb, pa), so both
 * directions of a flow land on one queue (Woo and Park, "Scalable TCP Session
 * Monitoring with Symmetric Receive-side Scaling", KAIST TR, 2012).
 *
 * The queue is then chosen as a DPDK port does by default: the hash's low bits
 * index a redirection table (RETA) whose entry i is i % queues, the table the
 * PMDs fill when the application gives none (ixgbe_rss_configure,
 * i40e_pf_config_rss). 128 entries is ixgbe's table and the mask mTCP's
 * GetRSSCPUCore applies (RSS_BIT_MASK 0x7F); i40e and mlx5 have 512.
 */
import { read32 } from './wire/bytes.ts';
import { ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from './wire/ethernet.ts';
import { IPPROTO_TCP, IPV4_HLEN } from './wire/ipv4.ts';

/** Bytes of a Toeplitz key (the 40 of Microsoft's specification and of DPDK's rss_key_len). */
export const RSS_KEY_LEN = 40;
/** Redirection table entries (ixgbe's, and mTCP's RSS_BIT_MASK + 1). */
export const DEFAULT_RETA_SIZE = 128;
/** queueOfFrame's answer for a frame every queue must see (ARP). */
export const RSS_EVERY_QUEUE = -1;
/** Input bytes of the IPv4/TCP tuple: two addresses and two ports. */
const TUPLE_BYTES = 12;

/** The symmetric key: 0x6d, 0x5a repeated over 40 bytes. */
export function symmetricRssKey(): Uint8Array {
  const key = new Uint8Array(RSS_KEY_LEN);
  for (let i = 0; i < RSS_KEY_LEN; i += 2) {
    key[i] = 0x6d;
    key[i + 1] = 0x5a;
  }
  return key;
}

/** The Toeplitz hash of IPv4 tuples under one key. */
export class ToeplitzHash {
  /** table[p * 256 + v]: the bits input byte p with value v XORs into the hash. */
  readonly #table: Int32Array;

  constructor(key: Uint8Array) {
    // An input of n bytes reads key bits 0 .. 8n + 31.
    if (!(key instanceof Uint8Array) || key.length < TUPLE_BYTES + 4) {
      throw new RangeError(`RSS key must be a Uint8Array of at least ${TUPLE_BYTES + 4} bytes (usually ${RSS_KEY_LEN})`);
    }
    const table = new Int32Array(TUPLE_BYTES * 256);
    for (let p = 0; p < TUPLE_BYTES; p++) {
      // The key's 32-bit window starting at each bit of input byte p (bit 0 is the most significant).
      const windows = new Int32Array(8);
      for (let b = 0; b < 8; b++) windows[b] = keyWindow(key, p * 8 + b);
      for (let v = 0; v < 256; v++) {
        let h = 0;
        for (let b = 0; b < 8; b++) if (v & (0x80 >> b)) h ^= windows[b];
        table[p * 256 + v] = h;
      }
    }
    this.#table = table;
  }

  /** The hash of a TCP (or UDP) tuple; addresses as int32 or uint32, ports 0..65535. Returns an int32. */
  hash4(srcIp: number, dstIp: number, srcPort: number, dstPort: number): number {
    const t = this.#table;
    return this.hash2(srcIp, dstIp) ^
      t[2048 + ((srcPort >>> 8) & 0xff)] ^ t[2304 + (srcPort & 0xff)] ^
      t[2560 + ((dstPort >>> 8) & 0xff)] ^ t[2816 + (dstPort & 0xff)];
  }

  /** The hash of the addresses alone (IPv4 without ports: not TCP, or a fragment). Returns an int32. */
  hash2(srcIp: number, dstIp: number): number {
    const t = this.#table;
    return t[srcIp >>> 24] ^ t[256 + ((srcIp >>> 16) & 0xff)] ^ t[512 + ((srcIp >>> 8) & 0xff)] ^ t[768 + (srcIp & 0xff)] ^
      t[1024 + (dstIp >>> 24)] ^ t[1280 + ((dstIp >>> 16) & 0xff)] ^ t[1536 + ((dstIp >>> 8) & 0xff)] ^ t[1792 + (dstIp & 0xff)];
  }
}

/** The 32 key bits starting at bit `bit` (bit 0 is the most significant bit of key[0]), as an int32. */
function keyWindow(key: Uint8Array, bit: number): number {
  const byte = bit >> 3;
  const shift = bit & 7;
  const word = read32(key, byte);
  return shift === 0 ? word : (word << shift) | (key[byte + 4] >>> (8 - shift));
}

/**
 * The queue a NIC with DPDK's default redirection table picks for `hash`:
 * entry (hash & (retaSize - 1)) of a table holding i % queues at entry i.
 */
export function retaQueue(hash: number, queues: number, retaSize: number = DEFAULT_RETA_SIZE): number {
  return (hash & (retaSize - 1)) % queues;
}

/** Which receive queue a frame or a connection belongs to, as a NIC configured by native/dpdk-shim.c decides. */
export class RssSteering {
  readonly hash: ToeplitzHash;

  constructor(
    /** Redirection table entries, a power of two; queues above it would never be chosen. */
    readonly retaSize: number = DEFAULT_RETA_SIZE,
    key: Uint8Array = symmetricRssKey(),
  ) {
    if (!Number.isInteger(retaSize) || retaSize < 1 || (retaSize & (retaSize - 1)) !== 0) {
      throw new RangeError(`RSS redirection table size ${retaSize} must be a power of two`);
    }
    this.hash = new ToeplitzHash(key);
  }

  /** The queue (of `queues`) that TCP segments from src to dst arrive on. */
  queueOf(srcIp: number, dstIp: number, srcPort: number, dstPort: number, queues: number): number {
    if (queues <= 1) return 0;
    return retaQueue(this.hash.hash4(srcIp, dstIp, srcPort, dstPort), queues, this.retaSize);
  }

  /**
   * The receive queue (of `queues`) of the Ethernet frame at buf[off, off + len).
   * The shim enables RSS for IPv4 and TCP (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP):
   * an unfragmented TCP segment hashes its addresses and ports, any other IPv4
   * packet (ICMP, a fragment) its addresses, and a frame the NIC cannot hash
   * (not IPv4, or too short) goes to queue 0. ARP differs from a NIC on
   * purpose: it goes to every queue (RSS_EVERY_QUEUE), so that every core
   * learns the neighbours, and the reply to a request reaches the core that
   * sent it. Reads the bytes only; allocates nothing.
   */
  queueOfFrame(buf: Uint8Array, off: number, len: number, queues: number): number {
    if (queues <= 1 || len < ETH_HLEN) return 0;
    const type = (buf[off + 12] << 8) | buf[off + 13];
    if (type === ETHERTYPE_ARP) return RSS_EVERY_QUEUE;
    if (type !== ETHERTYPE_IPV4 || len < ETH_HLEN + IPV4_HLEN) return 0;
    const ip = off + ETH_HLEN;
    if (buf[ip] >> 4 !== 4) return 0;
    const ihl = (buf[ip] & 0x0f) << 2;
    if (ihl < IPV4_HLEN || len < ETH_HLEN + ihl) return 0;
    const src = read32(buf, ip + 12);
    const dst = read32(buf, ip + 16);
    const fragment = ((buf[ip + 6] & 0x3f) | buf[ip + 7]) !== 0; // MF set or a fragment offset: no ports to read
    let h: number;
    if (buf[ip + 9] === IPPROTO_TCP && !fragment && len >= ETH_HLEN + ihl + 4) {
      const tcp = ip + ihl;
      h = this.hash.hash4(src, dst, (buf[tcp] << 8) | buf[tcp + 1], (buf[tcp + 2] << 8) | buf[tcp + 3]);
    } else {
      h = this.hash.hash2(src, dst);
    }
    return retaQueue(h, queues, this.retaSize);
  }
}
