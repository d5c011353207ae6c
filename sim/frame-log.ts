/**
 * Frame-by-frame evidence for the scenario checker. Under heavy loss a
 * connection may legitimately fail: every SYN lost (connect gives up after
 * SYN_RETRIES), every answer to a half-open SYN|ACK lost (the listener gives
 * up after SYNACK_RETRIES), or every copy of one segment or its ACK lost
 * (DATA_RETRIES). The log records what each host sent and what reached it
 * intact, so the checker accepts such a failure only when the wire shows it.
 */
import { DropReason } from '../src/stack/drop-reason.ts';
import { ECONNRESET, ETIMEDOUT } from '../src/stack/errno.ts';
import { DATA_RETRIES, SYN_RETRIES, SYNACK_RETRIES } from '../src/stack/tcp/sender.ts';
import { RTO_INITIAL_MS, RTO_MAX_MS } from '../src/stack/tcp/rtt.ts';
import { ETH_HLEN, ETHERTYPE_IPV4, readMac } from '../src/stack/wire/ethernet.ts';
import { IPPROTO_TCP, Ipv4Fields, parseIpv4 } from '../src/stack/wire/ipv4.ts';
import { seqValue } from '../src/stack/wire/seqnum.ts';
import { seqGt } from './raw-seqnum.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpFields, parseTcp } from '../src/stack/wire/tcp.ts';
import type { World } from './world.ts';

interface FrameRecord {
  at: number;
  /** true: sent by `src` (before impairments); false: reached the other end intact. */
  sent: boolean;
  src: number;
  flags: number;
  seq: number;
  ack: number;
  len: number;
}

/** One side of a connection as the checker judges it. */
export interface Party {
  ip: number;
  port: number;
  /** errno the application saw, 0 for none. */
  errno: number;
  /** Virtual time the application opened (or accepted) the socket, and let go of it. */
  openedAt: number;
  endedAt: number;
  /** Whether the application ever held the socket (an acceptor whose connection never completed did not). */
  held: boolean;
}

export class FrameLog {
  readonly #byConn = new Map<string, FrameRecord[]>();
  readonly #ip = new Ipv4Fields();
  readonly #tcp = new TcpFields();

  constructor(readonly world: World) {
    world.wire.onFrame = (_from, buf, off, len) => {
      this.#record(buf, off, len, true);
      return true;
    };
    // A copy whose destination address was damaged reaches the port but not the stack.
    world.wire.onDeliver = (to, buf, off, len) => {
      if (len >= ETH_HLEN && readMac(buf, off) === to.mac) this.#record(buf, off, len, false);
    };
  }

  #record(buf: Uint8Array, off: number, len: number, sent: boolean): void {
    if (len < ETH_HLEN || ((buf[off + 12] << 8) | buf[off + 13]) !== ETHERTYPE_IPV4) return;
    const ip = this.#ip;
    if (parseIpv4(buf, off + ETH_HLEN, len - ETH_HLEN, ip) !== DropReason.None || ip.proto !== IPPROTO_TCP) return;
    const f = this.#tcp;
    // A damaged frame is the same as a lost one to the receiver: only intact deliveries count.
    if (parseTcp(buf, ip.payloadOff, ip.payloadLen, ip.src, ip.dst, f, true) !== DropReason.None) return;
    const key = connKey(ip.src, f.srcPort, ip.dst, f.dstPort);
    let list = this.#byConn.get(key);
    if (!list) this.#byConn.set(key, (list = []));
    list.push({ at: this.world.now, sent, src: ip.src, flags: f.flags, seq: seqValue(f.seq) >>> 0, ack: seqValue(f.ack) >>> 0, len: f.payloadLen });
  }

  /**
   * Why a connection both applications meant to end cleanly failed, when the
   * frames show a retry limit reached with every answer lost; null when they
   * do not (an engine bug).
   */
  explain(opener: Party, acceptor: Party): string | null {
    const frames = this.#byConn.get(connKey(opener.ip, opener.port, acceptor.ip, acceptor.port)) ?? [];
    if (!acceptor.held) {
      if (opener.errno === ETIMEDOUT) {
        const why = connectTimedOut(frames, opener, acceptor);
        if (why) return why;
      }
      if (opener.errno === ECONNRESET || opener.errno === ETIMEDOUT) {
        const why = halfOpenExpired(frames, opener, acceptor);
        if (why) return why;
      }
    }
    for (const [g, peer] of [[opener, acceptor], [acceptor, opener]] as const) {
      if (g.errno === ETIMEDOUT && g.held) {
        const why = dataTimedOut(frames, g, peer);
        if (why) return why;
      }
      // The application closed with data still queued; its orphan gave up on it and reset the peer.
      if (peer.errno === ECONNRESET && g.errno === 0 && g.held) {
        const rst = sentBy(frames, g.ip).find((r) => r.flags & TCP_RST && r.at >= g.endedAt);
        const why = rst ? dataTimedOut(frames, { ...g, endedAt: rst.at }, peer) : null;
        if (why) return `orphan ${why}`;
      }
    }
    return null;
  }
}

function connKey(ipA: number, portA: number, ipB: number, portB: number): string {
  const a = `${ipA >>> 0}:${portA}`;
  const b = `${ipB >>> 0}:${portB}`;
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

const sentBy = (frames: FrameRecord[], ip: number): FrameRecord[] => frames.filter((r) => r.sent && r.src === ip);
const reachedFrom = (frames: FrameRecord[], ip: number): FrameRecord[] => frames.filter((r) => !r.sent && r.src === ip);

/** Every frame of `deliveries` that reached its host intact was answered: that host then sent a frame matching `answer`. */
function allAnswered(frames: FrameRecord[], deliveries: FrameRecord[], answerer: number, answer: (r: FrameRecord) => boolean): boolean {
  const sent = sentBy(frames, answerer).filter(answer);
  return deliveries.every((d) => sent.some((r) => r.at >= d.at));
}

const isSyn = (r: FrameRecord): boolean => (r.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
const isSynAck = (r: FrameRecord): boolean => (r.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === (TCP_SYN | TCP_ACK);
const isAck = (r: FrameRecord): boolean => (r.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_ACK;

/** Time from the first SYN to giving up: the RTO doubles from its initial value up to its maximum. RFC 6298 (2.1), (2.5), (5.5) */
const SYN_SCHEDULE_MS = Array.from({ length: SYN_RETRIES + 1 }, (_, i) => Math.min(RTO_INITIAL_MS * 2 ** i, RTO_MAX_MS)).reduce((a, b) => a + b);

/**
 * The opener tried for the whole SYN schedule, every SYN that reached the listener was answered,
 * and no SYN|ACK reached the opener. (Its SYNs may not even have left: a neighbour that never
 * answers ARP keeps them waiting until they are dropped.)
 */
function connectTimedOut(frames: FrameRecord[], o: Party, a: Party): string | null {
  if (o.endedAt - o.openedAt < SYN_SCHEDULE_MS) return null;
  if (!allAnswered(frames, reachedFrom(frames, o.ip).filter(isSyn), a.ip, isSynAck)) return null;
  if (reachedFrom(frames, a.ip).some((r) => r.at <= o.endedAt && isSynAck(r))) return null;
  const syns = sentBy(frames, o.ip).filter(isSyn).length;
  return `connect timed out: ${syns} SYNs on the wire over ${SYN_SCHEDULE_MS / 1000} s, no SYN|ACK reached the opener intact`;
}

/**
 * The listener sent SYNACK_RETRIES + 1 SYN|ACKs, the opener answered every one that reached it,
 * and no answer reached the listener before it gave up (its RST).
 */
function halfOpenExpired(frames: FrameRecord[], o: Party, a: Party): string | null {
  const fromA = sentBy(frames, a.ip);
  const synAcks = fromA.filter(isSynAck);
  if (synAcks.length < SYNACK_RETRIES + 1) return null;
  const done = ((synAcks[0].seq + 1) >>> 0);
  const acksIt = (r: FrameRecord): boolean => isAck(r) && r.ack === done;
  if (!allAnswered(frames, reachedFrom(frames, a.ip).filter(isSynAck), o.ip, acksIt)) return null;
  const rst = fromA.find((r) => r.flags & TCP_RST);
  const gaveUpAt = rst ? rst.at : o.endedAt;
  if (reachedFrom(frames, o.ip).some((r) => r.at < gaveUpAt && acksIt(r))) return null;
  return `half-open expired: ${synAcks.length} SYN|ACKs sent, no ACK of them reached the listener intact`;
}

/**
 * DATA_RETRIES + 1 copies of one segment sent, the peer answered every copy that reached it, and
 * no ACK beyond the segment reached the sender while it tried. A keepalive probe (SEQ = RCV.NXT - 1)
 * does not count: the sender rightly drops it as out of window, its ACK unread.
 */
function dataTimedOut(frames: FrameRecord[], g: Party, peer: Party): string | null {
  const fromG = sentBy(frames, g.ip).filter((r) => r.at <= g.endedAt);
  const carrying = fromG.filter((r) => r.len > 0 || r.flags & TCP_FIN);
  if (carrying.length === 0) return null;
  const seq = carrying[carrying.length - 1].seq;
  const copies = carrying.filter((r) => r.seq === seq);
  if (copies.length < DATA_RETRIES + 1) return null;
  const from = copies[0].at;
  const arrived = reachedFrom(frames, g.ip).filter((r) => r.at >= from && r.seq === seq && (r.len > 0 || r.flags & TCP_FIN));
  if (!allAnswered(frames, arrived, peer.ip, (r) => (r.flags & TCP_ACK) !== 0)) return null;
  const rcvNxtAt = (at: number): number => {
    let ack = -1;
    for (const r of fromG) if (r.at <= at && r.flags & TCP_ACK) ack = r.ack;
    return ack;
  };
  const answered = reachedFrom(frames, peer.ip).some((r) => r.at >= from && r.at <= g.endedAt &&
    (r.flags & (TCP_ACK | TCP_RST)) === TCP_ACK && seqGt(r.ack, seq) &&
    !(r.len === 0 && !(r.flags & TCP_FIN) && r.seq === ((rcvNxtAt(r.at) - 1) >>> 0)));
  return answered ? null : `data timed out: ${copies.length} copies of one segment sent, no ACK of it reached the sender intact`;
}
