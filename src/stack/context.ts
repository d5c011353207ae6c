/**
 * One core's stack: a driver queue, Ethernet/ARP/IPv4/ICMP, and the TCP engine.
 * Pure logic over the PacketDriver burst interface; the caller supplies the
 * time to each poll().
 */
import { ARP_REQUEST_INTERVAL_MS, ARP_RETRY_MS, ARP_UNICAST_PROBE_MS, ArpCache, PendingFrames, type StaticNeighbours } from './arp-cache.ts';
import { copyBytes } from './copy.ts';
import { DropReason } from './drop-reason.ts';
import { FrameBatch, type PacketDriver } from './port.ts';
import { Stats } from './stats.ts';
import type { SocketEvents, TcpTransmitter } from './tcp/contracts.ts';
import { TcpEngine, type TcpConfig } from './tcp/engine.ts';
import { ArpFields, ARP_LEN, ARP_REPLY, ARP_REQUEST, emitArp, parseArp } from './wire/arp.ts';
import {
  ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, MAC_BROADCAST, emitEthernet, emitEthernetBytes, ethType, isBroadcast,
  macBytes, macEquals, readMac, writeMac,
} from './wire/ethernet.ts';
import { emitIcmpEcho, IcmpFields, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, parseIcmp } from './wire/icmp.ts';
import { emitIpv4, IPPROTO_ICMP, IPPROTO_TCP, IPV4_HLEN, Ipv4Fields, parseIpv4 } from './wire/ipv4.ts';
import { parseTcp, TCP_MAX_HLEN } from './wire/tcp.ts';

/** Frames per receive or transmit burst. */
export const BURST = 64;
/** Default IP TTL (Linux net.ipv4.ip_default_ttl). */
const IP_TTL = 64;
/** Largest IPv4 datagram: its total length field is 16 bits. RFC 791 §3.1 */
const IPV4_MAX_LEN = 0xffff;
/**
 * Largest frame kept while its next hop's MAC is looked up (a jumbo frame); a larger one, or a segment the port
 * would cut (TSO), is dropped and counted instead (IpArpPending) and TCP sends it again.
 */
const PENDING_FRAME_MAX_BYTES = 9216;

/** Next-hop selection, e.g. the config's RouteTable. */
export interface NextHopResolver {
  /** IPv4 address of the next hop towards `dst` (int32 or uint32 form), -1 when unreachable. */
  nextHop(dst: number): number;
}

export interface ContextConfig {
  /** This port's IPv4 address. */
  ip: number;
  tcp: TcpConfig;
  routes: NextHopResolver;
  staticArp: StaticNeighbours | null;
}

export class StackContext implements TcpTransmitter {
  readonly stats = new Stats();
  readonly tcp: TcpEngine;
  readonly arp: ArpCache;
  /** Our IPv4 address, as an int32 (the stack's form, see docs/conventions.md). */
  readonly ip: number;
  readonly mac: number;
  /** Sent segments carry no TCP checksum: the port fills it (capabilities.txChecksumOffload) or the link is trusted. */
  readonly tcpChecksumOffload: boolean;
  /** Most payload bytes of a segment the port cuts itself (capabilities.tsoMaxBytes less the headers), 0 without TSO. */
  readonly tsoMaxPayload: number;
  readonly #macBytes: Uint8Array;
  /** One-entry next-hop cache: the last destination, its next hop and that hop's MAC bytes. */
  #cacheDst = 0;
  #cacheHop = 0;
  #cacheValid = false;
  /** Until when the cached hop's ARP entry is fresh (a field, so the packet path needs no map lookup). */
  #cacheFreshUntil = Infinity;
  readonly #cacheMac = new Uint8Array(6);
  /** Current time, whole ms. */
  now = 0;

  readonly #rx = new FrameBatch(BURST);
  readonly #tx = new FrameBatch(BURST);
  /** TX slots of #tx already holding a finished frame. */
  #txUsed = 0;
  /** Index in #tx of the frame being built. */
  #txCur = -1;
  txBuf: Uint8Array = new Uint8Array(0);
  txOff = 0;
  #ipId = 0;
  readonly #pending: PendingFrames;
  readonly #ipf = new Ipv4Fields();
  readonly #arpf = new ArpFields();
  readonly #icmpf = new IcmpFields();
  readonly #routes: NextHopResolver;
  /** Verify received TCP checksums: the link may corrupt frames (capabilities.trustedLink is false). */
  readonly #verifyTcp: boolean;
  /** The port marks frames whose checksums it verified (capabilities.rxChecksumOffload). */
  readonly #rxChecksumOffload: boolean;
  readonly #sendPending = (off: number, len: number): void => this.#sendPendingFrame(off, len);
  readonly #retryArp = (hop: number): void => this.#requestArp(hop, MAC_BROADCAST, ARP_RETRY_MS);
  #pendingMac = 0;

  constructor(readonly driver: PacketDriver, readonly queue: number, config: ContextConfig, events: SocketEvents) {
    const caps = driver.capabilities;
    // A segment the driver cannot carry would be lost on every try: refuse the configuration instead.
    const maxMtu = caps.maxFrameBytes - ETH_HLEN;
    if (config.tcp.mtu > maxMtu) {
      throw new RangeError(`mtu ${config.tcp.mtu} does not fit the driver's ${caps.maxFrameBytes}-byte frames (at most ${maxMtu})`);
    }
    this.ip = config.ip | 0;
    this.mac = driver.mac;
    this.#macBytes = macBytes(driver.mac);
    this.#routes = config.routes;
    if (caps.tsoMaxBytes > 0 && (!caps.txChecksumOffload || caps.tsoMaxBytes < caps.maxFrameBytes || caps.tsoMaxBytes > ETH_HLEN + IPV4_MAX_LEN)) {
      throw new RangeError(`tsoMaxBytes ${caps.tsoMaxBytes} needs txChecksumOffload and must lie between maxFrameBytes ` +
        `${caps.maxFrameBytes} and ${ETH_HLEN + IPV4_MAX_LEN}`);
    }
    this.#verifyTcp = !caps.trustedLink;
    this.#rxChecksumOffload = caps.rxChecksumOffload;
    this.tcpChecksumOffload = caps.txChecksumOffload || caps.trustedLink;
    // Room for the longest header: a segment's options vary (SACK blocks), its payload limit should not.
    this.tsoMaxPayload = caps.tsoMaxBytes > 0 ? caps.tsoMaxBytes - ETH_HLEN - IPV4_HLEN - TCP_MAX_HLEN : 0;
    this.arp = new ArpCache(config.staticArp);
    this.#pending = new PendingFrames(256, Math.min(caps.maxFrameBytes, PENDING_FRAME_MAX_BYTES));
    this.tcp = new TcpEngine(config.tcp, this.stats, this, events, { queue, queues: caps.queues });
  }

  /**
   * One turn of the loop: the output pass (what the previous turn's input and
   * timers decided is owed, the ACKs riding on what the application queued
   * since), then receive and process a burst and run the timers, which decide
   * what is owed but send nothing; transmit. Returns the number of frames
   * received plus sent.
   */
  poll(time: number): number {
    // The stack keeps whole milliseconds: integers stay unboxed on the packet path.
    const now = Math.floor(time);
    this.now = now;
    this.tcp.now = now;
    this.tcp.flush(now);
    const rx = this.#rx;
    const n = this.driver.rxBurst(this.queue, rx, BURST);
    const portVerifies = this.#rxChecksumOffload;
    for (let i = 0; i < n; i++) {
      const reason = this.#input(rx.buf[i], rx.off[i], rx.len[i], portVerifies && rx.checksumOk[i] === 1);
      if (reason !== DropReason.None) this.stats.drops[reason]++;
    }
    if (n > 0) this.driver.rxRelease(this.queue, rx);
    this.tcp.runTimers(now);
    if (this.#pending.count > 0) {
      this.stats.drops[DropReason.IpArpPending] += this.#pending.expire(now);
      this.#pending.forEachHop(this.#retryArp);
    }
    return n + this.flushTx();
  }

  /** Hand built frames to the driver. Returns frames sent. */
  flushTx(): number {
    const used = this.#txUsed;
    if (this.#tx.count > 0) {
      this.driver.txBurst(this.queue, this.#tx, used);
      this.#tx.count = 0;
    }
    this.#txUsed = 0;
    this.#txCur = -1;
    return used;
  }

  /** Send pending TCP output now (before sleeping). */
  flushOutput(time: number): number {
    const now = Math.floor(time);
    this.now = now;
    this.tcp.flush(now);
    return this.flushTx();
  }

  /** Earliest time something is due, ms (Infinity when nothing is). */
  nextDeadline(): number {
    if (this.tcp.hasPendingOutput) return this.now;
    const t = this.tcp.nextTimerAt();
    return this.#pending.count > 0 ? Math.min(t, this.now + 100) : t;
  }

  // ---- receive ------------------------------------------------------------

  /** `checksumOk`: the port verified the frame's IPv4 and TCP checksums (receive checksum offload). */
  #input(buf: Uint8Array, off: number, len: number, checksumOk: boolean): DropReason {
    this.stats.rxFrames++;
    this.stats.rxBytes += len;
    if (len < ETH_HLEN) return DropReason.EthTooShort;
    if (!macEquals(buf, off, this.#macBytes) && !isBroadcast(buf, off)) return DropReason.EthNotForUs;
    const type = ethType(buf, off);
    if (type === ETHERTYPE_IPV4) return this.#ipInput(buf, off, len, checksumOk);
    if (type === ETHERTYPE_ARP) return this.#arpInput(buf, off, len);
    return DropReason.EthUnknownType;
  }

  /** An IPv4 frame (`off` is the Ethernet header's offset). */
  #ipInput(buf: Uint8Array, frameOff: number, frameLen: number, checksumOk: boolean): DropReason {
    const ipf = this.#ipf;
    const r = parseIpv4(buf, frameOff + ETH_HLEN, frameLen - ETH_HLEN, ipf);
    if (r !== DropReason.None) return r;
    if (ipf.dst !== this.ip) return DropReason.IpNotForUs;
    if (ipf.proto === IPPROTO_TCP) {
      const seg = this.tcp.seg;
      const tr = parseTcp(buf, ipf.payloadOff, ipf.payloadLen, ipf.src, ipf.dst, seg, this.#verifyTcp && !checksumOk);
      if (tr !== DropReason.None) return tr;
      return this.tcp.input(buf, ipf.src, ipf.dst);
    }
    if (ipf.proto === IPPROTO_ICMP) return this.#icmpInput(buf, readMac(buf, frameOff + 6));
    return DropReason.IpUnknownProtocol;
  }

  /** Answer echo requests. RFC 792 */
  #icmpInput(buf: Uint8Array, srcMac: number): DropReason {
    const ipf = this.#ipf;
    const icmp = this.#icmpf;
    const r = parseIcmp(buf, ipf.payloadOff, ipf.payloadLen, icmp);
    if (r !== DropReason.None) return r;
    if (icmp.type !== ICMP_ECHO_REQUEST) return DropReason.IcmpUnsupported;
    const need = ETH_HLEN + IPV4_HLEN + 8 + icmp.payloadLen;
    if (!this.#reserve()) return DropReason.None; // #reserve counted the drop (TxNoSlot): count it once
    if (this.#tx.len[this.#txCur] < need) return DropReason.TxNoSlot;
    const out = this.#tx.buf[this.#txCur];
    const o = this.#tx.off[this.#txCur];
    const icmpLen = emitIcmpEcho(out, o + ETH_HLEN + IPV4_HLEN, ICMP_ECHO_REPLY, icmp.id, icmp.seq, buf, icmp.payloadOff, icmp.payloadLen);
    emitIpv4(out, o + ETH_HLEN, this.ip, ipf.src, IPPROTO_ICMP, icmpLen, this.#ipId++ & 0xffff, IP_TTL);
    emitEthernet(out, o, srcMac, this.mac, ETHERTYPE_IPV4);
    this.#commit(ETH_HLEN + IPV4_HLEN + icmpLen);
    this.stats.icmpEchoReplies++;
    return DropReason.None;
  }

  /** An ARP frame (`frameOff` is the Ethernet header's offset). */
  #arpInput(buf: Uint8Array, frameOff: number, frameLen: number): DropReason {
    const a = this.#arpf;
    const r = parseArp(buf, frameOff + ETH_HLEN, frameLen - ETH_HLEN, a);
    if (r !== DropReason.None) return r;
    // ARP carries no checksum: a sender address that is not the frame's source is a damaged or
    // forged packet, and learning it would send a neighbour's traffic nowhere until the entry ages.
    if (a.sha !== readMac(buf, frameOff + 6)) return DropReason.ArpSenderMismatch;
    // RFC 826 "Packet Reception": merge the sender into an entry we have (a gratuitous ARP moves a
    // neighbour), then, only when we are the target, learn it and answer requests.
    const forUs = a.tpa === this.ip;
    if (!forUs && !this.arp.has(a.spa)) return DropReason.ArpNotForUs;
    if (this.arp.learn(a.spa, a.sha, this.now) && a.spa === this.#cacheHop) this.#cacheValid = false;
    if (a.spa === this.#cacheHop) this.#cacheFreshUntil = this.arp.freshUntil(a.spa);
    if (!forUs) return DropReason.None;
    this.#pendingMac = a.sha;
    this.#pending.release(a.spa, this.#sendPending);
    // Every queue sees ARP (the software wires copy it to each, src/stack/rss.ts): all learn, queue 0
    // answers, so a request gets one reply (a NIC steers ARP to queue 0 anyway).
    if (a.op === ARP_REQUEST && this.queue === 0) {
      if (!this.#reserve()) return DropReason.None; // #reserve counted the drop (TxNoSlot): count it once
      const out = this.#tx.buf[this.#txCur];
      const o = this.#tx.off[this.#txCur];
      emitEthernet(out, o, a.sha, this.mac, ETHERTYPE_ARP);
      emitArp(out, o + ETH_HLEN, ARP_REPLY, this.mac, this.ip, a.sha, a.spa);
      this.#commit(ETH_HLEN + ARP_LEN);
      this.stats.arpRepliesSent++;
    }
    return DropReason.None;
  }

  // ---- transmit -----------------------------------------------------------

  /** Make #txCur a free TX slot. */
  #reserve(): boolean {
    if (this.#txUsed < this.#tx.count) {
      this.#txCur = this.#txUsed;
      return true;
    }
    if (this.#tx.count > 0) this.flushTx();
    if (this.driver.txAlloc(this.queue, this.#tx, BURST) === 0) {
      this.stats.drops[DropReason.TxNoSlot]++;
      return false;
    }
    this.#txCur = 0;
    return true;
  }

  /** The frame in #txCur is `len` bytes and ready. */
  #commit(len: number, segmentBytes = 0): void {
    this.#tx.len[this.#txCur] = len;
    this.#tx.segmentBytes[this.#txCur] = segmentBytes;
    this.#txUsed++;
    this.#txCur = -1;
    this.stats.txFrames++;
    this.stats.txBytes += len;
  }

  beginTcp(_dstIp: number): boolean {
    if (!this.#reserve()) return false;
    this.txBuf = this.#tx.buf[this.#txCur];
    this.txOff = this.#tx.off[this.#txCur] + ETH_HLEN + IPV4_HLEN;
    return true;
  }

  endTcp(srcIp: number, dstIp: number, tcpLen: number, segmentBytes: number): void {
    const buf = this.txBuf;
    const o = this.#tx.off[this.#txCur];
    emitIpv4(buf, o + ETH_HLEN, srcIp, dstIp, IPPROTO_TCP, tcpLen, this.#ipId++ & 0xffff, IP_TTL);
    const frameLen = ETH_HLEN + IPV4_HLEN + tcpLen;
    if (!this.#cacheValid || dstIp !== this.#cacheDst) {
      if (!this.#resolve(dstIp, buf, o, frameLen, segmentBytes)) return; // the slot stays free for the next frame
    } else if (this.now > this.#cacheFreshUntil && this.arp.mayRequest(this.#cacheHop, this.now)) {
      emitEthernetBytes(buf, o, this.#cacheMac, this.#macBytes, ETHERTYPE_IPV4);
      this.#commit(frameLen, segmentBytes);
      // Refresh, and keep using the entry meanwhile: by unicast first, by broadcast once that went unanswered.
      const unicast = this.now - this.#cacheFreshUntil <= ARP_UNICAST_PROBE_MS;
      this.#requestArp(this.#cacheHop, unicast ? readMac(this.#cacheMac, 0) : MAC_BROADCAST, 0);
      return;
    }
    emitEthernetBytes(buf, o, this.#cacheMac, this.#macBytes, ETHERTYPE_IPV4);
    this.#commit(frameLen, segmentBytes);
  }

  /**
   * Find the next hop and its MAC for dstIp and cache them. When the MAC is
   * unknown the frame waits for the ARP reply (mTCP drops it instead), unless it is too large to keep.
   */
  #resolve(dstIp: number, buf: Uint8Array, o: number, frameLen: number, segmentBytes: number): boolean {
    const h = this.#routes.nextHop(dstIp);
    if (h === -1) {
      this.stats.drops[DropReason.IpNoRoute]++;
      return false;
    }
    const hop = h | 0;
    const mac = this.arp.lookup(hop);
    if (mac < 0) {
      emitEthernet(buf, o, MAC_BROADCAST, this.mac, ETHERTYPE_IPV4);
      if (segmentBytes > 0 || frameLen > this.#pending.slotSize || this.#pending.add(hop, buf, o, frameLen, this.now)) {
        this.stats.drops[DropReason.IpArpPending]++;
      }
      this.#requestArp(hop, MAC_BROADCAST);
      return false;
    }
    writeMac(this.#cacheMac, 0, mac);
    this.#cacheDst = dstIp;
    this.#cacheHop = hop;
    this.#cacheFreshUntil = this.arp.freshUntil(hop);
    this.#cacheValid = true;
    return true;
  }

  /** Ask who has `targetIp`, unless a request for it went out less than `interval` ms ago (0: already checked). */
  #requestArp(targetIp: number, dstMac: number, interval = ARP_REQUEST_INTERVAL_MS): void {
    if (interval > 0 && !this.arp.mayRequest(targetIp, this.now, interval)) return;
    if (!this.#reserve()) return;
    const out = this.#tx.buf[this.#txCur];
    const o = this.#tx.off[this.#txCur];
    emitEthernet(out, o, dstMac, this.mac, ETHERTYPE_ARP);
    emitArp(out, o + ETH_HLEN, ARP_REQUEST, this.mac, this.ip, 0, targetIp);
    this.#commit(ETH_HLEN + ARP_LEN);
    this.stats.arpRequestsSent++;
  }

  #sendPendingFrame(off: number, len: number): void {
    if (!this.#reserve()) return;
    const out = this.#tx.buf[this.#txCur];
    const o = this.#tx.off[this.#txCur];
    copyBytes(this.#pending.bytes, off, out, o, len);
    writeMac(out, o, this.#pendingMac);
    this.#commit(len);
  }
}
