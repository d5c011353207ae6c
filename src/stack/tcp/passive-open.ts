/**
 * The passive open: a segment for a listening port (RFC 9293 §3.10.7.2)
 * starts a connection in SYN-RECEIVED, or, when the listener's backlog is
 * full or no control block is free, is answered statelessly with a SYN cookie, and the ACK returning a
 * valid cookie rebuilds the connection (RFC 4987 §3.6).
 */
import { DropReason } from '../drop-reason.ts';
import type { Stats } from '../stats.ts';
import { seqAdd } from '../wire/seqnum.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpFields } from '../wire/tcp.ts';
import type { Lifecycle, OutputQueue, TcpClock } from './contracts.ts';
import type { Handshake } from './handshake.ts';
import type { IsnGenerator } from './isn.ts';
import type { Listener } from './listeners.ts';
import { MAX_WINDOW_FIELD } from './receiver.ts';
import type { LossRecovery } from './recovery.ts';
import type { SegmentArrival } from './segment-arrival.ts';
import { State } from './state.ts';
import type { StatelessReplies } from './stateless-replies.ts';
import type { SynCookies } from './syn-cookie.ts';
import { DEFAULT_MSS, effectiveMss, type TcbTable } from './tcb.ts';
import type { ConnTimers } from './timers.ts';

/** #acceptCookie's answer for an ACK whose cookie is forged or too old. */
const COOKIE_INVALID = -1;

export class PassiveOpen {
  /** The window a cookie's SYN|ACK offers and its connection starts with. */
  readonly #cookieWindow: number;

  constructor(
    readonly tcb: TcbTable,
    readonly handshake: Handshake,
    readonly recovery: LossRecovery,
    readonly timers: ConnTimers,
    readonly isn: IsnGenerator,
    readonly cookies: SynCookies,
    readonly clock: TcpClock,
    readonly life: Lifecycle,
    readonly output: OutputQueue,
    readonly replies: StatelessReplies,
    /** For data or a FIN riding on the ACK that returns a SYN cookie. */
    readonly arrival: SegmentArrival,
    readonly stats: Stats,
    /** Receive buffer size, bytes. */
    rcvbuf: number,
  ) {
    this.#cookieWindow = rcvbuf < MAX_WINDOW_FIELD ? rcvbuf : MAX_WINDOW_FIELD;
  }

  /** A segment from srcIp to dstIp for listener `l`. RFC 9293 §3.10.7.2 */
  segmentArrives(l: Listener, buf: Uint8Array, seg: TcpFields, srcIp: number, dstIp: number): DropReason {
    const flags = seg.flags;
    if (flags & TCP_RST) return DropReason.TcpListenNotSyn; // "An incoming RST should be ignored"
    if (flags & TCP_ACK) {
      // The ACK completing a handshake answered with a SYN cookie. RFC 4987 §3.6
      if (!(flags & TCP_SYN)) {
        const cookie = this.#acceptCookie(l, buf, seg, srcIp, dstIp);
        if (cookie !== COOKIE_INVALID) return cookie;
      }
      // "Any acknowledgment is bad if it arrives on a connection still in the LISTEN state": <SEQ=SEG.ACK><CTL=RST>
      this.replies.resetFor(seg, srcIp, dstIp);
      return DropReason.TcpListenNotSyn;
    }
    if (!(flags & TCP_SYN)) return DropReason.TcpListenNotSyn;
    if (flags & TCP_FIN) return DropReason.TcpBadFlags; // SYN|FIN: no legitimate stack sends it
    if (l.halfOpen + l.queueCount >= l.backlog) {
      // The half-open queue is full (a SYN flood, or a burst): answer statelessly while
      // accepted connections can still be queued. RFC 4987 §3.6
      if (l.queueCount >= l.backlog) return DropReason.TcpBacklogFull;
      return this.#answerWithCookie(seg, srcIp, dstIp);
    }
    const t = this.life.allocate();
    // Every control block in use (max_concurrency): a SYN cookie needs none. RFC 4987 §3.6
    if (t < 0) return this.#answerWithCookie(seg, srcIp, dstIp);
    const tcb = this.tcb;
    tcb.setListenerSockid(t, l.sockid);
    this.handshake.acceptPeerSyn(t, seg);
    const iss = this.isn.next(dstIp, seg.dstPort, srcIp, seg.srcPort, this.clock.now);
    tcb.setIss(t, iss);
    tcb.setSndUna(t, iss);
    tcb.setSndNxt(t, iss);
    tcb.setSndMax(t, iss);
    tcb.setSndWl2(t, iss);
    this.recovery.start(t, effectiveMss(tcb, t));
    if (!this.life.bind(t, dstIp, seg.dstPort, srcIp, seg.srcPort)) {
      this.life.terminate(t);
      return DropReason.TcpNoMemory;
    }
    this.life.setState(t, State.SynReceived);
    l.halfOpen++;
    this.timers.touchIdle(t);
    this.output.schedule(t);
    return DropReason.None;
  }

  /** Answer the SYN `seg` statelessly: a SYN|ACK whose sequence number is a cookie. RFC 4987 §3.6 */
  #answerWithCookie(seg: TcpFields, srcIp: number, dstIp: number): DropReason {
    const localMss = this.handshake.localMss;
    const peerMss = seg.mss > 0 ? seg.mss : DEFAULT_MSS;
    const mss = peerMss < localMss ? peerMss : localMss;
    const cookie = this.cookies.make(dstIp, seg.dstPort, srcIp, seg.srcPort, seg.seq, mss, this.clock.now);
    return this.replies.cookieSynAck(seg, srcIp, dstIp, cookie, this.#cookieWindow, localMss);
  }

  /**
   * Rebuild a connection from the ACK that returns our SYN cookie. It starts
   * ESTABLISHED with the cookie's MSS and no other options; data or a FIN in
   * the same segment is then processed as usual. Returns COOKIE_INVALID for a
   * cookie that is forged or too old (answered with a reset). A valid cookie
   * with no room for its connection (the accept queue full, every control
   * block in use) is dropped and counted without a reset: the peer, already
   * ESTABLISHED, sends the segment again and finds room later (as Linux does).
   */
  #acceptCookie(l: Listener, buf: Uint8Array, seg: TcpFields, srcIp: number, dstIp: number): DropReason | typeof COOKIE_INVALID {
    const irs = seqAdd(seg.seq, -1);
    const iss = seqAdd(seg.ack, -1);
    const mss = this.cookies.check(dstIp, seg.dstPort, srcIp, seg.srcPort, irs, iss, this.clock.now);
    if (mss < 0) return COOKIE_INVALID;
    if (l.queueCount >= l.backlog) return DropReason.TcpBacklogFull;
    const t = this.life.allocate();
    if (t < 0) return DropReason.TcpNoMemory;
    const tcb = this.tcb;
    const localMss = this.handshake.localMss;
    tcb.setListenerSockid(t, l.sockid);
    tcb.setIrs(t, irs);
    tcb.setRcvNxt(t, seg.seq);
    tcb.setIss(t, iss);
    tcb.setSndUna(t, seg.ack);
    tcb.setSndNxt(t, seg.ack);
    tcb.setSndMax(t, seg.ack);
    tcb.setSndMss(t, mss < localMss ? mss : localMss);
    tcb.setSndWnd(t, seg.window);
    tcb.setMaxSndWnd(t, seg.window);
    tcb.setSndWl1(t, seg.seq);
    tcb.setSndWl2(t, seg.ack);
    tcb.setLastAckSent(t, seg.seq);
    tcb.setRcvAdvRight(t, seqAdd(seg.seq, this.#cookieWindow));
    this.recovery.start(t, effectiveMss(tcb, t));
    if (!this.life.bind(t, dstIp, seg.dstPort, srcIp, seg.srcPort)) {
      this.life.terminate(t);
      return DropReason.TcpNoMemory;
    }
    this.life.setState(t, State.Established);
    this.stats.tcpSynCookiesAccepted++;
    l.halfOpen++; // the accept queue counts it out of the half-open set
    this.timers.touchIdle(t);
    this.life.established(t);
    if (tcb.state(t) !== State.Closed && (seg.payloadLen > 0 || seg.flags & TCP_FIN)) this.arrival.segmentArrives(t, buf, seg);
    return DropReason.None;
  }
}
