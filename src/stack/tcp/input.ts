/**
 * Segment arrival, RFC 9293 §3.10.7: LISTEN, SYN-SENT, and the synchronized
 * states in the RFC's order (sequence number, RST, SYN, ACK, text, FIN), with
 * RFC 5961's challenge ACKs and RFC 7323's PAWS.
 */
import { DropReason } from '../drop-reason.ts';
import { ECONNREFUSED, ECONNRESET } from '../errno.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from '../wire/seqnum.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpFields } from '../wire/tcp.ts';
import { READY_IN, READY_OUT, READY_RDHUP } from '../readiness.ts';
import type { Listener, TcpEngine } from './engine.ts';
import { retransmitFirst, sendAck, unsentBytes } from './output.ts';
import { DUP_THRESH } from './sack-scoreboard.ts';
import { State } from './state.ts';
import type { Tcb } from './tcb.ts';

/** Default MSS when the peer sends none. RFC 9293 §3.7.1 */
const DEFAULT_MSS = 536;
/** TS.Recent is no longer trusted after 24 days idle. RFC 7323 §5.5 */
const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;
/**
 * At most one ACK per this interval answers unacceptable segments without
 * data (Linux's tcp_invalid_ratelimit, RFC 5961 §7): two confused peers
 * must not ACK each other forever.
 */
export const OOW_ACK_INTERVAL_MS = 500;

/** Answer an unacceptable segment with an ACK, rate-limited unless it carried data. */
function ackUnacceptable(e: TcpEngine, t: Tcb, carriesData: boolean): void {
  if (!carriesData) {
    if (e.now - t.lastOowAckAt < OOW_ACK_INTERVAL_MS) return;
    t.lastOowAckAt = e.now;
  }
  sendAck(e, t);
}

/** Take what the peer's SYN says: its initial sequence number, options and window. */
function acceptPeerSyn(e: TcpEngine, t: Tcb, seg: TcpFields): void {
  t.irs = seg.seq;
  t.rcvNxt = seqAdd(seg.seq, 1);
  negotiateOptions(e, t, seg);
  t.sndWnd = seg.window; // never scaled in a SYN. RFC 7323 §2.2
  t.maxSndWnd = t.sndWnd;
  t.sndWl1 = seg.seq;
}

/** Take the peer's SYN options. RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2 */
function negotiateOptions(e: TcpEngine, t: Tcb, seg: TcpFields): void {
  const peerMss = seg.mss > 0 ? seg.mss : DEFAULT_MSS;
  t.sndMss = peerMss < e.localMss ? peerMss : e.localMss;
  if (seg.wscale >= 0) {
    t.wsOk = true;
    t.sndWscale = seg.wscale;
    t.rcvWscale = e.localWscale;
  } else {
    t.wsOk = false;
    t.sndWscale = 0;
    t.rcvWscale = 0;
  }
  t.tsOk = seg.hasTimestamp;
  if (t.tsOk) {
    t.tsRecent = seg.tsVal;
    t.tsRecentAt = e.now;
  }
  t.sackOk = seg.sackPermitted && e.config.sack !== false;
}

/**
 * An RTT sample from the echoed timestamp (RFC 7323 §4.1) or the timed segment (RFC 6298, Karn).
 * An echo from before the last retransmission timeout is skipped: a peer answering a duplicate
 * echoes a TS.Recent that may lag far behind (RFC 7323 §4.3 updates it only in sequence), and one
 * such sample after lost ACKs would hold the RTO near its maximum.
 */
function sampleRtt(e: TcpEngine, t: Tcb, seg: TcpFields, ack: number): void {
  if (t.tsOk && seg.hasTimestamp && seg.tsEcr !== 0) {
    const rtt = seqDiff(e.tsNow(), seg.tsEcr);
    if (rtt >= 0 && seqGe(seg.tsEcr, t.rtoTsFloor)) t.rtt.sample(rtt);
    t.rttTiming = false;
  } else if (t.rttTiming && seqGt(ack, t.rttSeq)) {
    t.rtt.sample(e.now - t.rttSentAt);
    t.rttTiming = false;
  }
}

/** A segment for a listening port. RFC 9293 §3.10.7.2 */
export function listenSegmentArrives(e: TcpEngine, l: Listener, buf: Uint8Array, seg: TcpFields, srcIp: number, dstIp: number): DropReason {
  const flags = seg.flags;
  if (flags & TCP_RST) return DropReason.TcpListenNotSyn; // "An incoming RST should be ignored"
  if (flags & TCP_ACK) {
    // The ACK completing a handshake answered with a SYN cookie. RFC 4987 §3.6
    if (!(flags & TCP_SYN) && acceptCookie(e, l, buf, seg, srcIp, dstIp)) return DropReason.None;
    // "Any acknowledgment is bad if it arrives on a connection still in the LISTEN state": <SEQ=SEG.ACK><CTL=RST>
    e.sendResetFor(seg, srcIp, dstIp);
    return DropReason.TcpListenNotSyn;
  }
  if (!(flags & TCP_SYN)) return DropReason.TcpListenNotSyn;
  if (flags & TCP_FIN) return DropReason.TcpBadFlags; // SYN|FIN: no legitimate stack sends it
  if (l.halfOpen + l.queueCount >= l.backlog) {
    // The half-open queue is full (a SYN flood, or a burst): answer statelessly while
    // accepted connections can still be queued. RFC 4987 §3.6
    if (l.queueCount >= l.backlog) return DropReason.TcpBacklogFull;
    e.sendCookieSynAck(seg, srcIp, dstIp);
    return DropReason.None;
  }
  const t = e.allocate();
  if (!t) return DropReason.TcpNoMemory;
  t.localIp = dstIp;
  t.localPort = seg.dstPort;
  t.remoteIp = srcIp;
  t.remotePort = seg.srcPort;
  t.listenerSockid = l.sockid;
  acceptPeerSyn(e, t, seg);
  t.iss = e.isn.next(dstIp, seg.dstPort, srcIp, seg.srcPort, e.now);
  t.sndUna = t.sndNxt = t.sndMax = t.iss;
  t.sndWl2 = t.iss;
  t.cc.init(e.effectiveMss(t), e.now);
  if (!e.flows.insert(dstIp, seg.dstPort, srcIp, seg.srcPort, t.id)) {
    e.terminate(t);
    return DropReason.TcpNoMemory;
  }
  e.setState(t, State.SynReceived);
  l.halfOpen++;
  e.touchIdle(t);
  e.scheduleOutput(t);
  return DropReason.None;
}

/**
 * Rebuild a connection from the ACK that returns our SYN cookie. It starts
 * ESTABLISHED with the cookie's MSS and no other options; data or a FIN in
 * the same segment is then processed as usual. Returns false for a cookie
 * that is forged or too old.
 */
function acceptCookie(e: TcpEngine, l: Listener, buf: Uint8Array, seg: TcpFields, srcIp: number, dstIp: number): boolean {
  if (l.queueCount >= l.backlog) return false;
  const irs = seqAdd(seg.seq, -1);
  const iss = seqAdd(seg.ack, -1);
  const mss = e.cookies.check(dstIp, seg.dstPort, srcIp, seg.srcPort, irs, iss, e.now);
  if (mss < 0) return false;
  const t = e.allocate();
  if (!t) return false;
  t.localIp = dstIp;
  t.localPort = seg.dstPort;
  t.remoteIp = srcIp;
  t.remotePort = seg.srcPort;
  t.listenerSockid = l.sockid;
  t.irs = irs;
  t.rcvNxt = seg.seq;
  t.iss = iss;
  t.sndUna = t.sndNxt = t.sndMax = seg.ack;
  t.sndMss = mss < e.localMss ? mss : e.localMss;
  t.sndWnd = seg.window;
  t.maxSndWnd = seg.window;
  t.sndWl1 = seg.seq;
  t.sndWl2 = seg.ack;
  t.lastAckSent = seg.seq;
  t.rcvAdvRight = seqAdd(seg.seq, e.config.rcvbuf < 0xffff ? e.config.rcvbuf : 0xffff);
  t.cc.init(e.effectiveMss(t), e.now);
  if (!e.flows.insert(dstIp, seg.dstPort, srcIp, seg.srcPort, t.id)) {
    e.terminate(t);
    return false;
  }
  e.setState(t, State.Established);
  e.stats.tcpSynCookiesAccepted++;
  l.halfOpen++; // enqueueAccepted counts it out of the half-open set
  e.touchIdle(t);
  e.enqueueAccepted(t);
  if (t.inUse && (seg.payloadLen > 0 || seg.flags & TCP_FIN)) segmentArrives(e, t, buf, seg);
  return true;
}

/** SYN-SENT. RFC 9293 §3.10.7.3 */
function synSentArrives(e: TcpEngine, t: Tcb, seg: TcpFields): DropReason {
  const flags = seg.flags;
  let ackOk = false;
  if (flags & TCP_ACK) {
    if (seqLe(seg.ack, t.iss) || seqGt(seg.ack, t.sndMax)) {
      if (!(flags & TCP_RST)) e.sendResetFor(seg, t.remoteIp, t.localIp);
      return DropReason.TcpBadAck;
    }
    ackOk = true;
  }
  if (flags & TCP_RST) {
    if (!ackOk) return DropReason.TcpBadRst; // RFC 5961 §3.2: only a RST acknowledging our SYN counts
    e.stats.tcpRstReceived++;
    e.fail(t, ECONNREFUSED, false);
    return DropReason.None;
  }
  if (!(flags & TCP_SYN)) return DropReason.TcpBadFlags;
  acceptPeerSyn(e, t, seg);
  t.sndWl2 = seg.ack;
  e.touchIdle(t);
  if (ackOk) {
    sampleRtt(e, t, seg, seg.ack);
    t.rtt.handshakeDone(t.retries > 0);
    t.sndUna = seg.ack;
    t.retries = 0;
    e.stopRto(t);
    e.setState(t, State.Established);
    t.cc.init(e.effectiveMss(t), e.now);
    // The ACK of the SYN|ACK goes at the next flush, riding on the application's first data if it writes at once.
    t.ackPending = true;
    e.scheduleOutput(t);
    if (t.sockid >= 0) e.events.wake(t.sockid, READY_OUT);
  } else {
    // Simultaneous open: answer with SYN|ACK. RFC 9293 §3.10.7.3, §3.5 figure 8
    e.setState(t, State.SynReceived);
    t.sndNxt = t.iss;
    e.scheduleOutput(t);
  }
  return DropReason.None;
}

/** Any segment for an existing connection. RFC 9293 §3.10.7.4 */
export function segmentArrives(e: TcpEngine, t: Tcb, buf: Uint8Array, seg: TcpFields): DropReason {
  if (t.state === State.SynSent) return synSentArrives(e, t, seg);
  if (t.state === State.Closed) return DropReason.TcpAfterClose;
  let flags = seg.flags;
  let seq = seg.seq;

  // The peer retransmitted its SYN: our SYN|ACK was lost.
  if (t.state === State.SynReceived && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && seg.seq === t.irs) {
    // Its SEG.SEQ is below Last.ACK.sent: echo its timestamp, so the peer's RTT sample measures this
    // SYN, not the first one. RFC 7323 §4.3
    if (t.tsOk && seg.hasTimestamp && seqGe(seg.tsVal, t.tsRecent)) {
      t.tsRecent = seg.tsVal;
      t.tsRecentAt = e.now;
    }
    t.sndNxt = t.iss;
    e.scheduleOutput(t);
    return DropReason.None;
  }

  // Simultaneous open: the peer's SYN|ACK repeats its SYN (already counted in RCV.NXT) and
  // acknowledges ours. Its SYN is old news; the ACK completes the handshake. RFC 9293 §3.5 figure 8
  if (t.state === State.SynReceived && (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK) && seg.seq === t.irs) {
    flags &= ~TCP_SYN;
    seq = seqAdd(seq, 1);
  }

  // PAWS: a timestamp older than TS.Recent marks an old duplicate. RFC 7323 §5.3
  if (t.tsOk && seg.hasTimestamp && !(flags & TCP_RST) && seqLt(seg.tsVal, t.tsRecent) &&
      e.now - t.tsRecentAt < PAWS_IDLE_MS) {
    ackUnacceptable(e, t, seg.payloadLen > 0);
    return DropReason.TcpPawsReject;
  }

  // First: is the segment acceptable? RFC 9293 §3.10.7.4, the four cases
  let off = seg.payloadOff;
  let len = seg.payloadLen;
  let fin = (flags & TCP_FIN) !== 0;
  const segLen = len + (flags & TCP_SYN ? 1 : 0) + (fin ? 1 : 0);
  const advertised = seqDiff(t.rcvAdvRight, t.rcvNxt);
  const free = t.rcvBuf.free;
  const wnd = advertised > free ? advertised : free > 0 ? free : 0;
  let acceptable: boolean;
  if (segLen === 0) {
    // RCV.NXT =< SEG.SEQ =< RCV.NXT+RCV.WND: like Linux (tcp_sequence) we also accept the right
    // edge itself, where a peer whose data filled our window puts its ACKs.
    const d = seqDiff(seq, t.rcvNxt);
    acceptable = d >= 0 && d <= wnd;
  } else {
    acceptable = wnd > 0 && (inWindow(seq, t.rcvNxt, wnd) || inWindow(seqAdd(seq, segLen - 1), t.rcvNxt, wnd));
  }
  // An old duplicate: it lies wholly before RCV.NXT, within one receive buffer of it.
  let oldDuplicate = false;
  if (!acceptable) {
    if (wnd === 0 && seq === t.rcvNxt) {
      // Zero window: keep the ACK, RST and URG information, drop the text.
      len = 0;
      fin = false;
    } else {
      if (flags & TCP_RST) return DropReason.TcpOutOfWindow;
      if (t.state === State.TimeWait && fin) e.restartTimeWait(t); // the peer retransmitted its FIN
      ackUnacceptable(e, t, segLen > 0);
      // Its text is old, but its ACK is the peer's latest (a retransmission whose ACK was lost, a keepalive
      // probe): take it, as BSD does ("keep on processing for RST or ACK"). Otherwise two peers whose
      // ACKs each fall below the other's RCV.NXT retransmit at each other until they time out. Only
      // within one buffer below RCV.NXT, so a blind guess gains no more than an in-window one (RFC 5961 §5).
      const behind = seqDiff(t.rcvNxt, seqAdd(seq, segLen));
      oldDuplicate = (flags & (TCP_ACK | TCP_SYN)) === TCP_ACK && t.state >= State.Established &&
        behind >= 0 && seqDiff(t.rcvNxt, seq) <= t.rcvBuf.capacity;
      if (!oldDuplicate) return DropReason.TcpOutOfWindow;
      len = 0;
      fin = false;
      seq = t.rcvNxt;
    }
  }
  // Trim what lies before RCV.NXT or beyond the window.
  let before = seqDiff(t.rcvNxt, seq);
  if (before > 0) {
    if (flags & TCP_SYN) before--;
    if (before > len) {
      fin = false;
      len = 0;
    } else {
      off += before;
      len -= before;
    }
    seq = t.rcvNxt;
  }
  const room = wnd - seqDiff(seq, t.rcvNxt);
  if (len > room) {
    len = room > 0 ? room : 0;
    fin = false;
  }
  e.touchIdle(t);

  // Second: RST. Only an exact match resets; an in-window one gets a challenge ACK. RFC 5961 §3.2
  if (flags & TCP_RST) {
    // SEG.SEQ as sent, before trimming: only an exact match resets.
    if (seg.seq !== t.rcvNxt) {
      if (e.allowChallengeAck()) ackUnacceptable(e, t, false); // challenge ACK
      return DropReason.TcpBadRst;
    }
    e.stats.tcpRstReceived++;
    switch (t.state) {
      case State.SynReceived:
        if (t.listenerSockid >= 0) e.terminate(t); // passive open: back to LISTEN, silently
        else e.fail(t, ECONNREFUSED, false);
        break;
      case State.Established:
      case State.FinWait1:
      case State.FinWait2:
      case State.CloseWait:
        e.fail(t, ECONNRESET, false);
        break;
      default:
        e.terminate(t);
    }
    return DropReason.None;
  }

  // Fourth: a SYN in a synchronized state gets a challenge ACK. RFC 5961 §4.2
  if (flags & TCP_SYN) {
    if (e.allowChallengeAck()) ackUnacceptable(e, t, false); // challenge ACK
    return DropReason.TcpSynInWindow;
  }

  // Fifth: ACK
  if (!(flags & TCP_ACK)) return DropReason.TcpBadAck;
  const ack = seg.ack;
  if (t.state === State.SynReceived) {
    if (!(seqLt(t.sndUna, ack) && seqLe(ack, t.sndMax))) {
      e.sendResetFor(seg, t.remoteIp, t.localIp); // <SEQ=SEG.ACK><CTL=RST>
      return DropReason.TcpBadAck;
    }
    sampleRtt(e, t, seg, ack);
    t.rtt.handshakeDone(t.retries > 0);
    t.sndUna = seqAdd(t.iss, 1);
    t.retries = 0;
    e.stopRto(t);
    t.sndWnd = seg.window << t.sndWscale;
    t.maxSndWnd = t.sndWnd;
    t.sndWl1 = seg.seq;
    t.sndWl2 = ack;
    e.setState(t, State.Established);
    if (t.listenerSockid >= 0) e.enqueueAccepted(t);
    else if (t.sockid >= 0) e.events.wake(t.sockid, READY_OUT);
    if (!t.inUse) return DropReason.None;
  }
  // Acknowledgment of something not yet sent, or far too old. RFC 5961 §5.2
  if (seqGt(ack, t.sndMax) || seqLt(ack, seqAdd(t.sndUna, -t.maxSndWnd))) {
    ackUnacceptable(e, t, len > 0);
    return DropReason.TcpBadAck;
  }
  // Remember the timestamp to echo (RFC 7323 §4.3), only from an acceptable segment that passed the
  // ACK check, as Linux's tcp_ack(): a forged timestamp must not make PAWS refuse the real peer.
  if (!oldDuplicate && t.tsOk && seg.hasTimestamp && seqGe(seg.tsVal, t.tsRecent) && seqLe(seg.seq, t.lastAckSent)) {
    t.tsRecent = seg.tsVal;
    t.tsRecentAt = e.now;
  }
  processAck(e, t, seg, !oldDuplicate);
  if (oldDuplicate) return DropReason.TcpOutOfWindow; // the text was old
  if (!t.inUse || (t.state as State) === State.Closed) return DropReason.None;

  // Seventh: segment text
  if (len > 0) {
    if (t.state === State.Established || t.state === State.FinWait1 || t.state === State.FinWait2) {
      if (t.sockid < 0 && !t.inAcceptQueue) {
        // The application closed: nobody will read this. Linux resets (tcp_rcv_state_process).
        e.fail(t, ECONNRESET, true);
        return DropReason.None;
      }
      const rel = seqDiff(seq, t.rcvNxt);
      if (rel > 0) t.lastOooSeq = seq;
      const hadGap = t.rcvBuf.oooCount > 0;
      const grew = t.rcvBuf.insert(rel, buf, off, len);
      if (grew < 0) e.stats.drops[DropReason.TcpOooFull]++;
      if (grew > 0) {
        t.rcvNxt = seqAdd(t.rcvNxt, grew);
        if (t.sockid >= 0) e.events.wake(t.sockid, READY_IN);
        if (t.oooFinPending && t.rcvNxt === t.oooFinSeq) {
          t.oooFinPending = false;
          finArrives(e, t);
          return DropReason.None;
        }
      }
      if (rel > 0 || hadGap) {
        // Out of order, or filling a gap: ACK at once. RFC 5681 §4.2
        sendAck(e, t);
      } else if (++t.unackedSegments >= 2) {
        // An ACK for at least every second full-sized segment. RFC 5681 §4.2
        sendAck(e, t);
      } else {
        e.delayAck(t);
      }
    }
    // Other states: the peer's FIN was already received; the text is ignored.
  }

  // Eighth: FIN
  if (fin) {
    const finAt = seqAdd(seq, len);
    if (finAt !== t.rcvNxt) {
      // Data before the FIN is missing: keep the FIN for when it arrives.
      t.oooFinPending = true;
      t.oooFinSeq = finAt;
      return DropReason.None;
    }
    finArrives(e, t);
  }
  return DropReason.None;
}

/** seq in [lo, lo + len). */
function inWindow(seq: number, lo: number, len: number): boolean {
  const d = seqDiff(seq, lo);
  return d >= 0 && d < len;
}

/**
 * Take the SACK blocks of an ACK into the scoreboard (RFC 6675 §5: on every
 * ACK). Blocks outside (una, end of our data] are ignored: D-SACKs and
 * nonsense. Returns whether the ACK SACKed octets not SACKed before.
 */
function takeSackBlocks(t: Tcb, seg: TcpFields, una: number): boolean {
  if (t.sacked.count > 0) t.sacked.advance(una);
  const dataEnd = seqAdd(t.sndUna, t.sndBuf.length);
  let fresh = false;
  for (let i = 0; i < seg.sackCount; i++) {
    let left = seg.sackLeft[i];
    let right = seg.sackRight[i];
    if (seqLt(left, una)) left = una;
    if (seqGt(right, dataEnd)) right = dataEnd;
    if (seqLt(left, right) && seqGt(right, una) && t.sacked.add(left, right)) fresh = true;
  }
  return fresh;
}

/**
 * Loss detected: enter fast recovery. Without SACK, NewReno (RFC 6582 §3.2,
 * cwnd inflated by the three duplicates, RFC 5681 §3.2 step 3); with SACK,
 * RFC 6675 §5 step 4: cwnd = ssthresh and the pipe governs what is sent.
 */
function enterRecovery(e: TcpEngine, t: Tcb, mss: number): void {
  t.inRecovery = true;
  t.recover = t.sndMax;
  t.highRxt = t.sndUna;
  t.cc.onEnterRecovery(t.flightSize, mss, e.now);
  if (!t.sackOk) t.cc.cwnd += DUP_THRESH * mss;
  retransmitFirst(e, t);
  e.scheduleOutput(t);
}

/** More than (DupThresh - 1) * SMSS bytes sent after the last retransmission of SND.UNA were SACKed: it was lost. */
function firstRetransmissionLost(t: Tcb, mss: number): boolean {
  const mark = t.firstRxtMark;
  const highest = t.sacked.highestSacked;
  if (!seqGt(highest, mark)) return false;
  return seqDiff(highest, mark) - t.sacked.unsackedBetween(mark, highest) > (DUP_THRESH - 1) * mss;
}

/**
 * ACK processing for the synchronized states. RFC 9293 §3.10.7.4 fifth, RFC 5681, RFC 6582, RFC 6675.
 * `timed`: the segment may give an RTT sample; an old duplicate echoes a stale TS.Recent and may not.
 */
function processAck(e: TcpEngine, t: Tcb, seg: TcpFields, timed: boolean): void {
  const ack = seg.ack;
  const segWnd = seg.window << t.sndWscale;
  const mss = e.effectiveMss(t);
  const newlySacked = t.sackOk && (seg.sackCount > 0 || t.sacked.count > 0) &&
    takeSackBlocks(t, seg, seqGt(ack, t.sndUna) ? ack : t.sndUna);
  if (seqGt(ack, t.sndUna)) {
    const acked = seqDiff(ack, t.sndUna);
    if (timed) sampleRtt(e, t, seg, ack);
    const dataAcked = acked < t.sndBuf.length ? acked : t.sndBuf.length;
    t.sndBuf.consume(dataAcked);
    t.sndUna = ack;
    if (seqLt(t.sndNxt, ack)) t.sndNxt = ack;
    t.retries = 0;
    if (t.recoverAfterRto && seqGe(ack, t.recover)) t.recoverAfterRto = false;
    if (t.inRecovery) {
      if (seqGe(ack, t.recover)) {
        t.inRecovery = false;
        t.dupAcks = 0;
        t.cc.onExitRecovery(mss, e.now);
      } else if (t.sackOk) {
        // The pipe shrank: send more (RFC 6675 §5 step (C)). The new first hole's retransmission
        // is judged only against data sent from now on.
        t.firstRxtMark = t.sndMax;
        e.scheduleOutput(t);
      } else {
        // Partial ACK: retransmit the next hole and deflate. RFC 6582 §3.2 step 5
        retransmitFirst(e, t);
        t.cc.cwnd = Math.max(t.cc.cwnd - acked + (acked >= mss ? mss : 0), mss);
      }
    } else {
      t.dupAcks = 0;
      t.cc.onAck(acked, mss, e.now, t.rtt.srttMs);
    }
    // RFC 6298 (5.2), (5.3)
    if (t.sndMax === t.sndUna) e.stopRto(t);
    else e.armRto(t);
    if (dataAcked > 0 && t.sockid >= 0) e.events.wake(t.sockid, READY_OUT);
    if (unsentBytes(t) > 0 || t.finQueued) e.scheduleOutput(t);
  } else if (ack === t.sndUna && t.sndMax !== t.sndUna &&
             (newlySacked || (seg.payloadLen === 0 && !(seg.flags & TCP_FIN) && segWnd === t.sndWnd))) {
    // Duplicate ACK: no data, no FIN, the same window (RFC 5681 §2), or one that SACKs new data (RFC 6675 §2).
    t.dupAcks++;
    if (!t.inRecovery) {
      // Three duplicates, or enough SACKed above SND.UNA that it counts as lost. RFC 6675 §5 step 4
      const lost = t.dupAcks >= DUP_THRESH || (t.sacked.count > 0 && t.sacked.lossBoundary(t.sndUna, mss) !== t.sndUna);
      if (lost && !t.recoverAfterRto) enterRecovery(e, t, mss);
      else if (t.dupAcks < DUP_THRESH && unsentBytes(t) > 0) e.scheduleOutput(t); // limited transmit. RFC 3042
    } else if (t.sackOk) {
      if (newlySacked && firstRetransmissionLost(t, mss)) retransmitFirst(e, t);
      e.scheduleOutput(t);
    } else if (t.dupAcks > DUP_THRESH) {
      t.cc.cwnd += mss; // inflate for each segment that left the network. RFC 5681 §3.2 step 4
      e.scheduleOutput(t);
    }
  }
  // Window update. RFC 9293 §3.10.7.4 fifth
  if (seqLt(t.sndWl1, seg.seq) || (t.sndWl1 === seg.seq && seqLe(t.sndWl2, ack))) {
    if (segWnd > t.sndWnd && unsentBytes(t) > 0) e.scheduleOutput(t);
    t.sndWnd = segWnd;
    if (segWnd > t.maxSndWnd) t.maxSndWnd = segWnd;
    t.sndWl1 = seg.seq;
    t.sndWl2 = ack;
  }
  // Our FIN is acknowledged when everything up to sndMax is.
  const finAcked = t.finSent && t.sndUna === t.sndMax;
  switch (t.state) {
    case State.FinWait1:
      if (finAcked) e.setState(t, State.FinWait2);
      break;
    case State.Closing:
      if (finAcked) e.enterTimeWait(t);
      break;
    case State.LastAck:
      if (finAcked) e.terminate(t);
      break;
    default:
      break;
  }
}

/** The peer's FIN, in order. RFC 9293 §3.10.7.4 eighth */
function finArrives(e: TcpEngine, t: Tcb): void {
  if (t.finReceived) {
    sendAck(e, t);
    return;
  }
  t.rcvNxt = seqAdd(t.rcvNxt, 1);
  t.finReceived = true;
  if (t.sockid >= 0) e.events.wake(t.sockid, READY_IN | READY_RDHUP);
  switch (t.state) {
    case State.SynReceived:
    case State.Established:
      e.setState(t, State.CloseWait);
      // The ACK may ride on the application's reply or FIN at the next flush.
      t.ackPending = true;
      e.scheduleOutput(t);
      break;
    case State.FinWait1:
      if (t.finSent && t.sndUna === t.sndMax) {
        e.enterTimeWait(t);
      } else {
        e.setState(t, State.Closing);
        sendAck(e, t);
      }
      break;
    case State.FinWait2:
      e.enterTimeWait(t);
      break;
    default:
      sendAck(e, t);
  }
}
