/**
 * The fuzzer (issue 3): random and mutated frames from an attacker port into
 * two live stacks whose established connections keep transferring verified
 * byte streams. Each injected frame is processed alone (the world is settled
 * first), so its effect on the target's counters is exact: it was either
 * dropped under one reason or processed. Deterministic: the same seed gives
 * the same frames and the same run.
 */
import { FrameBatch } from '../src/stack/port.ts';
import { Prng } from '../src/io/sim.ts';
import { ARP_MAX_ENTRIES } from '../src/stack/arp-cache.ts';
import { DropReason, DROP_REASON_NAMES } from '../src/stack/drop-reason.ts';
import { State, STATE_NAMES } from '../src/stack/tcp/state.ts';
import { ConnView } from './conn-view.ts';
import { read32, write32 } from '../src/stack/wire/bytes.ts';
import { checksumAdd, checksumFold, pseudoHeaderSum } from '../src/stack/wire/checksum.ts';
import { emitEthernet, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../src/stack/wire/ethernet.ts';
import { emitIpv4, IPPROTO_ICMP, IPPROTO_TCP, IPV4_HLEN } from '../src/stack/wire/ipv4.ts';
import { seqAdd } from './raw-seqnum.ts';
import { TCP_ACK, TCP_HLEN, TCP_RST, TCP_SYN } from '../src/stack/wire/tcp.ts';
import { hostMac, World, type Host } from './world.ts';

export const ATTACKER_MAC = 0x02000000ee01;
const LISTEN_PORT = 80;
const BACKLOG = 16;
/** Frames injected between two virtual milliseconds of transfer. */
const FRAMES_PER_MS = 8;
/** Captured frames kept as mutation seeds. */
const SEEDS = 64;
/** Drop reasons counted on the transmit side (answers that could not leave), not for a received frame. */
const TX_SIDE: readonly DropReason[] = [DropReason.IpNoRoute, DropReason.IpArpPending, DropReason.TxNoSlot, DropReason.TcpOooFull];
/** The reasons a frame must be dropped under; null when it may also be processed. */
type Expect = readonly DropReason[] | null;
const ANY: Expect = null;

const mask = (...r: DropReason[]): Expect => r;
const IP_HEADER_DROPS: Expect = mask(DropReason.IpBadVersion, DropReason.IpBadHeaderLen, DropReason.IpBadTotalLen, DropReason.IpBadChecksum);

/** Byte i of direction `dir` of connection `conn`: what the reader checks. */
export const streamByte = (conn: number, dir: number, i: number): number =>
  ((i * 131 + conn * 17 + dir * 101) ^ (i >>> 8) ^ (i >>> 16)) & 0xff;

export interface FuzzOptions {
  seed: number;
  frames: number;
  /** Established connections kept transferring (default 4). */
  conns?: number;
  /** Called every ~65,536 frames with the frames fed so far. */
  onProgress?: (fed: number) => void;
  /** Test hook: corrupt the byte the reader sees at this stream offset (proves the checker can fail). */
  corruptReadAt?: number;
}

export interface FuzzResult {
  seed: number;
  framesFed: number;
  /** Frames the target processed without dropping them, in all and by family. */
  processed: number;
  processedByFamily: Record<string, number>;
  /** Attacker frames dropped, by reason name. */
  drops: Record<string, number>;
  /** Frames by family name. */
  families: Record<string, number>;
  /** Stream bytes read and verified, both directions of every connection. */
  bytesVerified: number;
  maxActive: number;
  maxHalfOpen: number;
  maxArpEntries: number;
  /** Empty when the run passed. */
  failures: string[];
}

/** One direction of a connection: the writer's and the reader's progress through the stream. */
interface Stream {
  written: number;
  read: number;
  /** The reader saw the end of the stream (receive returned 0). */
  eof: boolean;
}

interface Conn {
  index: number;
  client: ConnView;
  server: ConnView;
  /** dir 0: client → server; dir 1: server → client. */
  streams: [Stream, Stream];
}

/** A control block's state and sequence variables, for failure reports. */
const describe = (t: ConnView): string =>
  `${STATE_NAMES[t.state]} snd.una ${t.sndUna >>> 0} snd.nxt ${t.sndNxt >>> 0} snd.wnd ${t.sndWnd} rcv.nxt ${t.rcvNxt >>> 0} ` +
  `ts.recent ${t.tsRecent >>> 0} ts.ok ${t.tsOk}`;

const hex = (b: Uint8Array, off: number, len: number): string => Buffer.from(b.subarray(off, off + len)).toString('hex');

export function fuzz(opts: FuzzOptions): FuzzResult {
  const seed = opts.seed >>> 0;
  const rnd = new Prng(seed ^ 0xf022);
  const u32 = (): number => rnd.nextU32();
  const below = (n: number): number => Math.floor(rnd.next() * n);
  const world = new World({ seed, hosts: 2, tcp: { maxConcurrency: 256, maxNumBuffers: 256 } });
  const [server, client] = world.hosts;
  const attacker = world.wire.attach(ATTACKER_MAC, { txSlots: 64 });
  const failures: string[] = [];
  const fail = (msg: string): void => {
    if (failures.length < 20) failures.push(msg);
  };
  const result: FuzzResult = {
    seed, framesFed: 0, processed: 0, processedByFamily: {}, drops: {}, families: {}, bytesVerified: 0, maxActive: 0, maxHalfOpen: 0,
    maxArpEntries: 0, failures,
  };
  const dropCounts = new Float64Array(DropReason.Count);

  // Seeds: real TCP frames between the hosts, captured as they cross the wire.
  const seeds: Uint8Array[] = [];
  world.wire.onFrame = (from, buf, off, len) => {
    if (from === attacker || ((buf[off + 12] << 8) | buf[off + 13]) !== ETHERTYPE_IPV4 || buf[off + 23] !== IPPROTO_TCP) return true;
    // Only frames between the two hosts: fixSeedAddresses may swap their addresses.
    const src = read32(buf, off + 26);
    const dst = read32(buf, off + 30);
    if (!((src === server.ip && dst === client.ip) || (src === client.ip && dst === server.ip))) return true;
    if (seeds.length < SEEDS) seeds.push(buf.slice(off, off + len));
    else if (rnd.next() < 0.05) seeds[below(SEEDS)] = buf.slice(off, off + len);
    return true;
  };

  // N connections, established before the attack.
  server.ctx.tcp.sockets.listen(1, 0, LISTEN_PORT, BACKLOG);
  client.ctx.tcp.sockets.listen(1, 0, LISTEN_PORT + 1, BACKLOG);
  const listener = server.ctx.tcp.sockets.listener(LISTEN_PORT)!;
  const nConns = opts.conns ?? 4;
  const clients: ConnView[] = [];
  for (let i = 0; i < nConns; i++) clients.push(new ConnView(client.ctx.tcp, client.ctx.tcp.sockets.connect(100 + i, client.ip, 0, server.ip, LISTEN_PORT)));
  world.runUntil(() => listener.queueCount === nConns, 5000);
  const conns: Conn[] = [];
  for (let i = 0; i < nConns; i++) {
    const s = new ConnView(server.ctx.tcp, server.ctx.tcp.sockets.accept(listener, 100 + i));
    const c = clients.find((x) => x.localPort === s.remotePort)!;
    conns.push({ index: conns.length, client: c, server: s, streams: [{ written: 0, read: 0, eof: false }, { written: 0, read: 0, eof: false }] });
  }
  if (conns.length !== nConns || conns.some((c) => c.client.state !== State.Established)) {
    fail('setup: the connections did not establish');
    return result;
  }

  const scratch = new Uint8Array(16384);
  const ends = (c: Conn, dir: number): [Host, ConnView, Host, ConnView] =>
    dir === 0 ? [client, c.client, server, c.server] : [server, c.server, client, c.client];
  /** Write more of every stream and read and check what arrived. */
  const pump = (writing: boolean): void => {
    for (const c of conns) {
      for (let dir = 0; dir < 2; dir++) {
        const [wh, wt, rh, rt] = ends(c, dir);
        const s = c.streams[dir];
        if (writing) {
          for (let i = 0; i < 4096; i++) scratch[i] = streamByte(c.index, dir, s.written + i);
          const n = wh.ctx.tcp.sockets.send(wt.id, scratch, 0, 4096);
          if (n > 0) s.written += n;
        }
        for (;;) {
          const n = rh.ctx.tcp.sockets.receive(rt.id, scratch, 0, scratch.length, false);
          if (n === 0) s.eof = true;
          if (n <= 0) break;
          if (opts.corruptReadAt !== undefined && s.read <= opts.corruptReadAt && opts.corruptReadAt < s.read + n) {
            scratch[opts.corruptReadAt - s.read] ^= 1;
          }
          for (let i = 0; i < n; i++) {
            if (scratch[i] !== streamByte(c.index, dir, s.read + i)) {
              fail(`conn ${c.index} dir ${dir}: byte ${s.read + i} is ${scratch[i]}, expected ${streamByte(c.index, dir, s.read + i)}`);
              break;
            }
          }
          s.read += n;
          result.bytesVerified += n;
        }
      }
    }
  };

  const tx = new FrameBatch(1);
  const rx = new FrameBatch(64);
  const reasonBefore = new Float64Array(DropReason.Count);
  const frameCopy = new Uint8Array(2048);
  /** TS.Recent of every connection end before the frame. */
  const tsBefore = new Int32Array(2 * nConns);
  let deadConns = 0;
  /**
   * Inject one frame built by `build` (which returns the frame's length and the reasons it must be dropped
   * under, or ANY) into `target`, alone, and check what became of it.
   */
  const inject = (target: Host, family: string, build: (b: Uint8Array, o: number) => [number, Expect]): void => {
    world.settle();
    if (attacker.txAlloc(0, tx, 1) !== 1) throw new Error('fuzz: no attacker TX slot');
    const b = tx.buf[0];
    const o = tx.off[0];
    const [len, expect] = build(b, o);
    tx.len[0] = len;
    frameCopy.set(b.subarray(o, o + len));
    attacker.txBurst(0, tx, 1);
    const st = target.ctx.stats;
    const rxBefore = st.rxFrames;
    reasonBefore.set(st.drops);
    const n = result.framesFed++;
    result.families[family] = (result.families[family] ?? 0) + 1;
    for (let i = 0; i < conns.length; i++) {
      tsBefore[2 * i] = conns[i].client.tsRecent;
      tsBefore[2 * i + 1] = conns[i].server.tsRecent;
    }
    const where = (): string => `frame ${n} (${family}) seed ${seed}: ${hex(frameCopy, 0, len)}`;
    try {
      target.ctx.poll(world.now);
    } catch (e) {
      fail(`exception escaped poll() at ${where()}: ${(e as Error).stack ?? String(e)}`);
      return;
    }
    if (st.rxFrames - rxBefore !== 1) {
      fail(`target received ${st.rxFrames - rxBefore} frames for ${where()}`);
      return;
    }
    let dropped = 0;
    let reason = 0;
    for (let r = 1; r < DropReason.Count; r++) {
      if (TX_SIDE.includes(r)) continue;
      const d = st.drops[r] - reasonBefore[r];
      if (d !== 0) {
        dropped += d;
        reason = r;
      }
    }
    if (dropped > 1) fail(`one frame counted as ${dropped} drops at ${where()}`);
    if (dropped === 1) dropCounts[reason]++;
    else {
      result.processed++;
      result.processedByFamily[family] = (result.processedByFamily[family] ?? 0) + 1;
    }
    if (expect !== null && (dropped !== 1 || !expect.includes(reason))) {
      const got = dropped === 1 ? DROP_REASON_NAMES[reason] : 'processed';
      const want = expect.map((r) => DROP_REASON_NAMES[r]).join('|');
      fail(`expected a drop as ${want}, got ${got}, at ${where()}`);
    }
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i];
      if (dropped === 1 && (c.client.tsRecent !== tsBefore[2 * i] || c.server.tsRecent !== tsBefore[2 * i + 1])) {
        fail(`conn ${c.index}: TS.Recent taken from a segment then dropped as ${DROP_REASON_NAMES[reason]} (RFC 7323 §4.3), at ${where()}`);
      }
      for (const t of [c.client, c.server]) {
        if ((t.failed || !t.inUse || t.state !== State.Established) && !(deadConns & (1 << c.index))) {
          deadConns |= 1 << c.index;
          fail(`conn ${c.index} left ESTABLISHED (state ${t.state}, failed ${t.failed}, error ${t.error}) after ${where()}`);
        }
      }
    }
  };

  // ---- frame builders ------------------------------------------------------

  const randomFill = (b: Uint8Array, o: number, len: number): void => {
    for (let i = 0; i < len; i++) b[o + i] = u32() & 0xff;
  };
  /** A source address that is neither host: on the link (answers wait for ARP) or off it (no route). */
  const strangerIp = (): number => (rnd.next() < 0.5 ? (0xc6120000 + 10 + below(240)) | 0 : u32() | 0);
  const ipChecksum = (b: Uint8Array, ipOff: number, hlen: number): void => {
    b[ipOff + 10] = b[ipOff + 11] = 0;
    const c = checksumFold(checksumAdd(b, ipOff, hlen, 0));
    b[ipOff + 10] = c >>> 8;
    b[ipOff + 11] = c & 0xff;
  };
  const tcpChecksum = (b: Uint8Array, tcpOff: number, len: number, src: number, dst: number): void => {
    b[tcpOff + 16] = b[tcpOff + 17] = 0;
    const c = checksumFold(checksumAdd(b, tcpOff, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len)));
    b[tcpOff + 16] = c >>> 8;
    b[tcpOff + 17] = c & 0xff;
  };

  /**
   * TCP options, some absurd. Returns [bytes written (a multiple of 4, at most 40), whether the
   * list is certain to be refused as TcpBadOption].
   */
  const writeOptions = (b: Uint8Array, o: number): [number, boolean] => {
    let i = 0;
    let bad = false;
    const room = 4 * below(11);
    while (i < room && !bad) {
      const k = below(12);
      const left = room - i;
      if (k === 0 && left >= 2) { // length 0 or 1: RFC 9293 §3.1 requires length >= 2
        b[o + i] = [2, 3, 5, 8, 30][below(5)];
        b[o + i + 1] = below(2);
        bad = true;
      } else if (k === 1 && left >= 2) { // length past the header end
        b[o + i] = [2, 8, 5, 99][below(4)];
        b[o + i + 1] = left + 1 + below(255 - left);
        bad = true;
      } else if (k === 2 && left >= 10) { // timestamps, any values
        b[o + i] = 8; b[o + i + 1] = 10; write32(b, o + i + 2, u32()); write32(b, o + i + 6, u32()); i += 10;
      } else if (k === 3 && left >= 10) { // SACK blocks with nonsense edges
        const n = 1 + below(Math.min(4, (left - 2) >> 3));
        b[o + i] = 5; b[o + i + 1] = 2 + n * 8;
        for (let j = 0; j < 2 * n; j++) write32(b, o + i + 2 + 4 * j, u32());
        i += 2 + n * 8;
      } else if (k === 4 && left >= 3) { // a wrong length for a known kind
        b[o + i] = [2, 3, 4, 5, 8][below(5)];
        b[o + i + 1] = 3;
        b[o + i + 2] = u32() & 0xff;
        i += 3;
      } else if (k === 5 && left >= 2) { // unknown kind, skipped by its length
        const l = 2 + below(left - 1);
        b[o + i] = 9 + below(247); b[o + i + 1] = l;
        randomFill(b, o + i + 2, l - 2);
        i += l;
      } else if (k === 6 && left >= 4) { // MSS, any value (0 included)
        b[o + i] = 2; b[o + i + 1] = 4; b[o + i + 2] = u32() & 0xff; b[o + i + 3] = u32() & 0xff; i += 4;
      } else if (k === 7 && left >= 3) { // window scale, any shift
        b[o + i] = 3; b[o + i + 1] = 3; b[o + i + 2] = u32() & 0xff; i += 3;
      } else if (k === 8 && left >= 1) {
        b[o + i++] = 1; // NOP
      } else if (k === 9 && left >= 1) {
        b[o + i] = 0; // EOL, then garbage that must be ignored
        randomFill(b, o + i + 1, left - 1);
        i = room;
      } else if (k === 10 && left >= 2) {
        b[o + i] = 4; b[o + i + 1] = 2; i += 2; // SACK-permitted
      } else {
        randomFill(b, o + i, left); // raw garbage
        i = room;
      }
    }
    if (bad) i += 2;
    if (i > room) i = room;
    for (let j = i; j < room; j++) b[o + j] = 1;
    return [room, bad];
  };

  /** A whole Eth/IPv4/TCP frame from srcIp to `target` with the given header values; returns [len, options certainly bad]. */
  const tcpFrame = (
    b: Uint8Array, o: number, target: Host, srcIp: number, sport: number, dport: number,
    seq: number, ack: number, flags: number, window: number, withOptions: boolean, payload: number,
  ): [number, boolean] => {
    const t = o + ETH_HLEN + IPV4_HLEN;
    const [optLen, bad] = withOptions ? writeOptions(b, t + TCP_HLEN) : [0, false];
    const hlen = TCP_HLEN + optLen;
    randomFill(b, t + hlen, payload);
    b[t] = sport >>> 8; b[t + 1] = sport & 0xff; b[t + 2] = dport >>> 8; b[t + 3] = dport & 0xff;
    write32(b, t + 4, seq);
    write32(b, t + 8, ack);
    b[t + 12] = (hlen >>> 2) << 4;
    b[t + 13] = flags;
    b[t + 14] = window >>> 8; b[t + 15] = window & 0xff;
    b[t + 18] = u32() & 0xff; b[t + 19] = u32() & 0xff;
    tcpChecksum(b, t, hlen + payload, srcIp, target.ip);
    emitIpv4(b, o + ETH_HLEN, srcIp, target.ip, IPPROTO_TCP, hlen + payload, u32() & 0xffff, 64);
    emitEthernet(b, o, hostMac(target.index), ATTACKER_MAC, ETHERTYPE_IPV4);
    return [ETH_HLEN + IPV4_HLEN + hlen + payload, bad];
  };

  /** A live connection's control block on `target` and on its peer. */
  const liveConn = (target: Host): [ConnView, Host] => {
    const c = conns[below(conns.length)];
    return target === server ? [c.server, client] : [c.client, server];
  };

  /** Families of frames. Each returns [frame length, expected drop mask or ANY]. */
  let flagCycle = 0;
  const families: [string, number, (b: Uint8Array, o: number, target: Host) => [number, Expect]][] = [
    ['random-bytes', 2, (b, o, target) => {
      const len = ETH_HLEN + below(1500);
      randomFill(b, o, len);
      emitEthernet(b, o, hostMac(target.index), ATTACKER_MAC, u32() & 0xffff);
      return [len, ANY];
    }],
    ['tcp-random', 4, (b, o, target) => {
      const dport = rnd.next() < 0.4 ? (target === server ? LISTEN_PORT : LISTEN_PORT + 1) : below(65536);
      const [len] = tcpFrame(b, o, target, rnd.next() < 0.2 ? liveConn(target)[1].ip : strangerIp(), below(65536), dport,
        u32(), u32(), flagCycle++ & 0xff, below(65536), rnd.next() < 0.5, rnd.next() < 0.3 ? below(200) : 0);
      return [len, ANY];
    }],
    ['live-out-of-window', 4, (b, o, target) => {
      // RFC 9293 §3.10.7.4: not within RCV.NXT .. RCV.NXT+RCV.WND, whatever the flags; the payload
      // stays clear of the window (a start at least 2^20 below RCV.NXT).
      const [t, peer] = liveConn(target);
      const seq = rnd.next() < 0.5 ? seqAdd(t.rcvAdvRight, 1 + below(1 << 30)) : seqAdd(t.rcvNxt, -(1 << 20) - below(1 << 30));
      const [len] = tcpFrame(b, o, target, peer.ip, t.remotePort, t.localPort, seq, rnd.next() < 0.5 ? t.sndUna : u32(),
        flagCycle++ & 0xff, below(65536), rnd.next() < 0.5, below(3) === 0 ? below(300) : 0);
      return [len, mask(DropReason.TcpOutOfWindow, DropReason.TcpPawsReject, DropReason.TcpBadOption)];
    }],
    ['live-bad-ack', 4, (b, o, target) => {
      // In-window sequence number, an ACK outside SND.UNA-MAX.SND.WND .. SND.MAX (RFC 5961 §5.2), no RST.
      const [t, peer] = liveConn(target);
      const ack = rnd.next() < 0.5 ? seqAdd(t.sndMax, 1 + below(1 << 30)) : seqAdd(t.sndUna, -(1 << 20) - t.maxSndWnd - below(1 << 30));
      const flags = ((flagCycle++ & 0xff) | TCP_ACK) & ~TCP_RST;
      const [len] = tcpFrame(b, o, target, peer.ip, t.remotePort, t.localPort, rnd.next() < 0.5 ? t.lastAckSent : t.rcvNxt, ack,
        flags, below(65536), rnd.next() < 0.7, below(3) === 0 ? below(300) : 0);
      return [len, mask(DropReason.TcpBadAck, DropReason.TcpSynInWindow, DropReason.TcpPawsReject, DropReason.TcpBadOption, DropReason.TcpOutOfWindow)];
    }],
    ['seed-byte-flip', 4, (b, o, target) => {
      // One byte changed, checksums left alone: every such change is caught (RFC 1071's sum sees any 8-bit burst).
      const s = seeds[below(seeds.length)];
      b.set(s, o);
      emitEthernet(b, o, hostMac(target.index), ATTACKER_MAC, ETHERTYPE_IPV4);
      fixSeedAddresses(b, o, target);
      const at = 12 + below(s.length - 12);
      b[o + at] ^= 1 + below(255);
      const ipHlen = (s[14] & 0xf) << 2;
      const expect = at < ETH_HLEN ? mask(DropReason.EthUnknownType, DropReason.ArpUnsupported)
        : at < ETH_HLEN + ipHlen ? IP_HEADER_DROPS
          : mask(DropReason.TcpBadDataOffset, DropReason.TcpBadChecksum);
      return [s.length, expect];
    }],
    ['seed-truncated', 3, (b, o, target) => {
      const s = seeds[below(seeds.length)];
      b.set(s, o);
      emitEthernet(b, o, hostMac(target.index), ATTACKER_MAC, ETHERTYPE_IPV4);
      fixSeedAddresses(b, o, target);
      const len = ETH_HLEN + below(s.length - ETH_HLEN);
      if (rnd.next() < 0.5 || len < ETH_HLEN + IPV4_HLEN) {
        return [len, mask(len < ETH_HLEN + IPV4_HLEN ? DropReason.IpTooShort : DropReason.IpBadTotalLen)];
      }
      // The IPv4 total length follows the cut (checksum recomputed): the TCP header itself is short.
      const ipLen = len - ETH_HLEN;
      b[o + 16] = ipLen >>> 8; b[o + 17] = ipLen & 0xff;
      ipChecksum(b, o + ETH_HLEN, IPV4_HLEN);
      const tcpLen = ipLen - IPV4_HLEN;
      if (tcpLen < TCP_HLEN) return [len, mask(DropReason.TcpTooShort)];
      if (tcpLen < (s[ETH_HLEN + IPV4_HLEN + 12] >>> 4) << 2) return [len, mask(DropReason.TcpBadDataOffset)];
      return [len, ANY]; // a prefix of a real segment: at worst, correct data
    }],
    ['seed-rewritten', 3, (b, o, target) => {
      // Header fields changed, checksums recomputed, moved off the live 4-tuples (a new source port).
      const s = seeds[below(seeds.length)];
      b.set(s, o);
      emitEthernet(b, o, hostMac(target.index), ATTACKER_MAC, ETHERTYPE_IPV4);
      fixSeedAddresses(b, o, target);
      const t = o + ETH_HLEN + IPV4_HLEN;
      const sport = 1 + below(79); // below 80: never a live 4-tuple (80 and ephemeral ports)
      b[t] = sport >>> 8; b[t + 1] = sport & 0xff;
      const k = below(5);
      if (k === 0) b[t + 13] = u32() & 0xff;
      else if (k === 1) write32(b, t + 4, u32());
      else if (k === 2) write32(b, t + 8, u32());
      else if (k === 3) b[t + 12] = (u32() & 0xf0) | (b[t + 12] & 0x0f);
      else b[t + 14] = b[t + 15] = 0;
      const tcpLen = s.length - ETH_HLEN - IPV4_HLEN;
      tcpChecksum(b, t, tcpLen, client === target ? server.ip : client.ip, target.ip);
      return [s.length, k === 3 && (b[t + 12] >>> 4) < 5 ? mask(DropReason.TcpBadDataOffset) : ANY];
    }],
    ['tcp-options', 4, (b, o, target) => {
      const live = rnd.next() < 0.5;
      const [t, peer] = liveConn(target);
      const [len, bad] = live
        ? tcpFrame(b, o, target, peer.ip, t.remotePort, t.localPort, seqAdd(t.rcvAdvRight, 1 + below(1 << 30)), t.sndUna,
          TCP_ACK, below(65536), true, 0)
        : tcpFrame(b, o, target, strangerIp(), below(65536), rnd.next() < 0.5 ? LISTEN_PORT : below(65536), u32(), u32(),
          rnd.next() < 0.5 ? TCP_SYN : flagCycle++ & 0xff, below(65536), true, 0);
      if (bad) return [len, mask(DropReason.TcpBadOption)];
      return [len, live ? mask(DropReason.TcpOutOfWindow, DropReason.TcpPawsReject, DropReason.TcpBadOption) : ANY];
    }],
    ['ipv4-bad', 3, (b, o, target) => {
      const [len0] = tcpFrame(b, o, target, strangerIp(), below(65536), below(65536), u32(), u32(), u32() & 0xff, 1, false, below(40));
      const ip = o + ETH_HLEN;
      const k = below(6);
      let len = len0;
      let expect: Expect;
      if (k === 0) { // version
        b[ip] = ((below(15) + 5) & 0xf) << 4 | 5;
        expect = mask(DropReason.IpBadVersion);
      } else if (k === 1) { // IHL below 5, or past the frame
        b[ip] = 0x40 | below(5);
        expect = mask(DropReason.IpBadHeaderLen);
      } else if (k === 2) { // total length below the header or past the frame
        const total = rnd.next() < 0.5 ? below(20) : len - ETH_HLEN + 1 + below(60000);
        b[ip + 2] = total >>> 8; b[ip + 3] = total & 0xff;
        ipChecksum(b, ip, IPV4_HLEN);
        expect = mask(DropReason.IpBadTotalLen);
      } else if (k === 3) { // a fragment: MF or an offset
        const ff = rnd.next() < 0.5 ? 0x2000 | below(0x2000) : 1 + below(0x1fff);
        b[ip + 6] = ff >>> 8; b[ip + 7] = ff & 0xff;
        ipChecksum(b, ip, IPV4_HLEN);
        expect = mask(DropReason.IpFragment);
      } else if (k === 4) { // IP options (random bytes, skipped), TCP behind them
        const words = 1 + below(10);
        b.copyWithin(ip + IPV4_HLEN + words * 4, ip + IPV4_HLEN, o + len);
        randomFill(b, ip + IPV4_HLEN, words * 4);
        len += words * 4;
        b[ip] = 0x45 + words;
        const total = len - ETH_HLEN;
        b[ip + 2] = total >>> 8; b[ip + 3] = total & 0xff;
        ipChecksum(b, ip, IPV4_HLEN + words * 4);
        expect = ANY;
      } else { // a wrong header checksum, or a protocol nobody serves
        if (rnd.next() < 0.5) {
          b[ip + 10] ^= 1 + below(255);
          expect = mask(DropReason.IpBadChecksum);
        } else {
          b[ip + 9] = [0, 2, 17, 41, 47, 50, 132, 255][below(8)];
          ipChecksum(b, ip, IPV4_HLEN);
          expect = mask(DropReason.IpUnknownProtocol);
        }
      }
      return [len, expect];
    }],
    ['arp', 2, (b, o, target) => {
      const len = ETH_HLEN + below(60);
      randomFill(b, o + ETH_HLEN, len - ETH_HLEN);
      emitEthernet(b, o, hostMac(target.index), ATTACKER_MAC, ETHERTYPE_ARP);
      const a = o + ETH_HLEN;
      if (rnd.next() < 0.5) { b[a] = 0; b[a + 1] = 1; b[a + 2] = 8; b[a + 3] = 0; b[a + 4] = 6; b[a + 5] = 4; b[a + 6] = 0; b[a + 7] = 1 + below(3); }
      // The sender address is never one of the hosts: claiming a host's address on the link is ARP
      // spoofing, which no stack can tell from a real move (RFC 826 has no authentication).
      write32(b, a + 14, strangerIp());
      if (rnd.next() < 0.5) write32(b, a + 24, target.ip);
      if (len - ETH_HLEN < 28) return [len, mask(DropReason.ArpTooShort)];
      return [len, ANY];
    }],
    ['icmp', 2, (b, o, target) => {
      const icmpLen = below(120);
      const ip = o + ETH_HLEN;
      const p = ip + IPV4_HLEN;
      randomFill(b, p, icmpLen);
      if (icmpLen >= 1 && rnd.next() < 0.5) b[p] = 8; // echo request
      const goodSum = rnd.next() < 0.6 && icmpLen >= 4;
      if (goodSum) {
        b[p + 2] = b[p + 3] = 0;
        const c = checksumFold(checksumAdd(b, p, icmpLen, 0));
        b[p + 2] = c >>> 8; b[p + 3] = c & 0xff;
      }
      emitIpv4(b, ip, strangerIp(), target.ip, IPPROTO_ICMP, icmpLen, u32() & 0xffff, 64);
      emitEthernet(b, o, hostMac(target.index), ATTACKER_MAC, ETHERTYPE_IPV4);
      return [ETH_HLEN + IPV4_HLEN + icmpLen, icmpLen < 8 ? mask(DropReason.IcmpTooShort) : ANY];
    }],
  ];
  /** A seed was captured towards either host: make it a frame from the other host to `target`. */
  function fixSeedAddresses(b: Uint8Array, o: number, target: Host): void {
    const ip = o + ETH_HLEN;
    const srcIp = target === server ? client.ip : server.ip;
    if (((b[ip + 16] << 24) | (b[ip + 17] << 16) | (b[ip + 18] << 8) | b[ip + 19]) === target.ip) return;
    // Swapping source and destination leaves both checksums right (the sums are commutative).
    write32(b, ip + 12, srcIp);
    write32(b, ip + 16, target.ip);
  }
  const weights = families.reduce((s, f) => s + f[1], 0);
  const pick = (): (typeof families)[number] => {
    let r = below(weights);
    for (const f of families) if ((r -= f[1]) < 0) return f;
    return families[0];
  };

  // ---- the run -------------------------------------------------------------

  const drainAttacker = (): void => {
    while (attacker.rxBurst(0, rx, 64) > 0) attacker.rxRelease(0, rx);
  };
  const checkBounds = (): void => {
    for (const h of world.hosts) {
      const tcp = h.ctx.tcp;
      if (tcp.activeCount > result.maxActive) result.maxActive = tcp.activeCount;
      for (const l of tcp.listeners.byPort.values()) if (l.halfOpen > result.maxHalfOpen) result.maxHalfOpen = l.halfOpen;
      const arp = Math.max(h.ctx.arp.size, h.ctx.arp.requestRecords);
      if (arp > result.maxArpEntries) result.maxArpEntries = arp;
    }
  };
  let ms = world.now;
  let nextProgress = 65536;
  while (result.framesFed < opts.frames && failures.length === 0) {
    pump(true);
    for (let i = 0; i < FRAMES_PER_MS && result.framesFed < opts.frames; i++) {
      const [name, , build] = pick();
      const target = rnd.next() < 0.5 ? server : client;
      inject(target, name, (b, o) => build(b, o, target));
    }
    drainAttacker();
    world.runTo(++ms);
    checkBounds();
    if (opts.onProgress && result.framesFed >= nextProgress) {
      opts.onProgress(result.framesFed);
      nextProgress += 65536;
    }
  }
  // Bounded memory: half-open connections within the backlog; control blocks within
  // the connections plus both listeners' backlogs.
  if (result.maxHalfOpen > BACKLOG) fail(`half-open connections grew to ${result.maxHalfOpen} (backlog ${BACKLOG})`);
  if (result.maxActive > nConns + 2 * BACKLOG) fail(`control blocks grew to ${result.maxActive}`);
  if (result.maxArpEntries > ARP_MAX_ENTRIES) fail(`the ARP cache grew to ${result.maxArpEntries} entries`);

  // The end: stop writing, FIN both ways, every stream arrives in full, both ends close.
  if (failures.length === 0) {
    for (const c of conns) {
      client.ctx.tcp.sockets.shutdownWrite(c.client.id);
      server.ctx.tcp.sockets.shutdownWrite(c.server.id);
    }
    const done = (): boolean => {
      pump(false);
      drainAttacker();
      return conns.every((c) => c.streams.every((s) => s.eof && s.read === s.written));
    };
    if (!world.runUntil(done, world.now + 120_000)) {
      for (const c of conns) {
        if (c.streams.every((s) => s.eof && s.read === s.written)) continue;
        fail(`conn ${c.index}: streams ${c.streams.map((s) => `${s.read}/${s.written}${s.eof ? ' eof' : ''}`).join(', ')} ` +
          `not complete after the fuzzing; client ${describe(c.client)}; server ${describe(c.server)}`);
      }
    }
    for (const c of conns) {
      client.ctx.tcp.sockets.close(c.client.id);
      server.ctx.tcp.sockets.close(c.server.id);
    }
    world.runUntil(() => world.hosts.every((h) => h.ctx.tcp.activeCount === 0), world.now + 300_000);
    for (const h of world.hosts) {
      if (h.ctx.tcp.activeCount !== 0) fail(`host ${h.index}: ${h.ctx.tcp.activeCount} control blocks still in use after every close`);
    }
  }
  for (let r = 1; r < DropReason.Count; r++) if (dropCounts[r] > 0) result.drops[DROP_REASON_NAMES[r]] = dropCounts[r];
  return result;
}

/** The command line that replays a run. */
export const reproduction = (seed: number, frames: number): string =>
  `npm run fuzz -- --frames ${frames} --seed ${seed} --jobs 1`;
