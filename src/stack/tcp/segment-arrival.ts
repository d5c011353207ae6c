/**
 * A segment for an existing connection, in RFC 9293's order: SYN-SENT
 * (§3.10.7.3), then the synchronized states (§3.10.7.4): sequence number
 * (with RFC 7323's PAWS), RST (RFC 5961 §3), SYN (RFC 5961 §4), ACK (the
 * sender's, with RFC 5961 §5's check), text and FIN (the receiver's), each
 * step marked. Nothing is sent from here: the roles record what is owed and
 * the output pass sends it after the burst.
 */
import { DropReason } from '../drop-reason.ts';
import { ECONNREFUSED, ECONNRESET } from '../errno.ts';
import type { Stats } from '../stats.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqInWindow, seqLe, seqLt } from '../wire/seqnum.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpFields } from '../wire/tcp.ts';
import type { Lifecycle, OutputQueue, TcpClock } from './contracts.ts';
import type { Handshake } from './handshake.ts';
import type { Receiver } from './receiver.ts';
import type { LossRecovery } from './recovery.ts';
import type { Sender } from './sender.ts';
import { State } from './state.ts';
import type { StatelessReplies } from './stateless-replies.ts';
import { effectiveMss, type TcbTable } from './tcb.ts';
import type { ConnTimers } from './timers.ts';

/** TS.Recent is no longer trusted after 24 days idle. RFC 7323 §5.5 */
const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;

export class SegmentArrival {
  constructor(
    readonly tcb: TcbTable,
    readonly receiver: Receiver,
    readonly sender: Sender,
    readonly recovery: LossRecovery,
    readonly handshake: Handshake,
    readonly timers: ConnTimers,
    readonly replies: StatelessReplies,
    readonly clock: TcpClock,
    readonly life: Lifecycle,
    readonly output: OutputQueue,
    readonly stats: Stats,
  ) {}

  /** Segment `seg` (payload in `buf`) for connection t. */
  segmentArrives(t: number, buf: Uint8Array, seg: TcpFields): DropReason {
    const tcb = this.tcb;
    const state = tcb.state(t);
    if (state === State.SynSent) return this.#synSent(t, seg);
    if (state === State.Closed) return DropReason.TcpAfterClose;
    const receiver = this.receiver;
    let flags = seg.flags;
    let seq = seg.seq;

    if (state === State.SynReceived && seg.seq === tcb.irs(t)) {
      if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN) {
        // The peer retransmitted its SYN: our SYN|ACK was lost. Its SEG.SEQ is below Last.ACK.sent:
        // echo its timestamp, so the peer's RTT sample measures this SYN, not the first one. RFC 7323 §4.3
        if (tcb.tsOk(t) !== 0 && seg.hasTimestamp && seqGe(seg.tsVal, tcb.tsRecent(t))) {
          tcb.setTsRecent(t, seg.tsVal);
          tcb.setTsRecentAt(t, this.clock.now);
        }
        tcb.setSndNxt(t, tcb.iss(t));
        this.output.schedule(t);
        return DropReason.None;
      }
      if ((flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
        // Simultaneous open: the peer's SYN|ACK repeats its SYN (already counted in RCV.NXT) and
        // acknowledges ours. Its SYN is old news; the ACK completes the handshake. RFC 9293 §3.5 figure 8
        flags &= ~TCP_SYN;
        seq = seqAdd(seq, 1);
      }
    }

    // PAWS: a timestamp older than TS.Recent marks an old duplicate. RFC 7323 §5.3
    if (tcb.tsOk(t) !== 0 && seg.hasTimestamp && !(flags & TCP_RST) && seqLt(seg.tsVal, tcb.tsRecent(t)) &&
        this.clock.now - tcb.tsRecentAt(t) < PAWS_IDLE_MS) {
      receiver.answerUnacceptable(t, seg.payloadLen > 0);
      return DropReason.TcpPawsReject;
    }

    // First: is the segment acceptable? RFC 9293 §3.10.7.4, the four cases
    const rcvNxt = tcb.rcvNxt(t);
    let off = seg.payloadOff;
    let len = seg.payloadLen;
    let fin = (flags & TCP_FIN) !== 0;
    const segLen = len + (flags & TCP_SYN ? 1 : 0) + (fin ? 1 : 0);
    const wnd = receiver.acceptanceWindow(t);
    let acceptable: boolean;
    if (segLen === 0) {
      // RCV.NXT =< SEG.SEQ =< RCV.NXT+RCV.WND: like Linux (tcp_sequence) we also accept the right
      // edge itself, where a peer whose data filled our window puts its ACKs.
      const d = seqDiff(seq, rcvNxt);
      acceptable = d >= 0 && d <= wnd;
    } else {
      acceptable = wnd > 0 && (seqInWindow(seq, rcvNxt, wnd) || seqInWindow(seqAdd(seq, segLen - 1), rcvNxt, wnd));
    }
    // An old duplicate: it lies wholly before RCV.NXT, within one receive buffer of it.
    let oldDuplicate = false;
    if (!acceptable) {
      if (wnd === 0 && seq === rcvNxt) {
        // Zero window: keep the ACK, RST and URG information, drop the text.
        len = 0;
        fin = false;
      } else {
        if (flags & TCP_RST) return DropReason.TcpOutOfWindow;
        if (state === State.TimeWait && fin) this.timers.startTimeWait(t); // the peer retransmitted its FIN
        receiver.answerUnacceptable(t, segLen > 0);
        // Its text is old, but its ACK is the peer's latest (a retransmission whose ACK was lost, a keepalive
        // probe): take it, as BSD does ("keep on processing for RST or ACK"). Otherwise two peers whose
        // ACKs each fall below the other's RCV.NXT retransmit at each other until they time out. Only
        // within one buffer below RCV.NXT, so a blind guess gains no more than an in-window one (RFC 5961 §5).
        const behind = seqDiff(rcvNxt, seqAdd(seq, segLen));
        oldDuplicate = (flags & (TCP_ACK | TCP_SYN)) === TCP_ACK && state >= State.Established &&
          behind >= 0 && seqDiff(rcvNxt, seq) <= receiver.buffers.capacity(t);
        if (!oldDuplicate) return DropReason.TcpOutOfWindow;
        len = 0;
        fin = false;
        seq = rcvNxt;
      }
    }
    // Trim what lies before RCV.NXT or beyond the window.
    let before = seqDiff(rcvNxt, seq);
    if (before > 0) {
      if (flags & TCP_SYN) before--;
      if (before > len) {
        fin = false;
        len = 0;
      } else {
        off += before;
        len -= before;
      }
      seq = rcvNxt;
    }
    const room = wnd - seqDiff(seq, rcvNxt);
    if (len > room) {
      len = room > 0 ? room : 0;
      fin = false;
    }
    if (state !== State.TimeWait) this.timers.touchIdle(t);

    // Second: RST. Only an exact match resets; an in-window one gets a challenge ACK. RFC 5961 §3.2
    if (flags & TCP_RST) {
      // SEG.SEQ as sent, before trimming: only an exact match resets.
      if (seg.seq !== rcvNxt) {
        receiver.challengeAck(t);
        return DropReason.TcpBadRst;
      }
      this.stats.tcpRstReceived++;
      switch (state) {
        case State.SynReceived:
          if (tcb.listenerSockid(t) >= 0) this.life.terminate(t); // passive open: back to LISTEN, silently
          else this.life.fail(t, ECONNREFUSED, false);
          break;
        case State.Established:
        case State.FinWait1:
        case State.FinWait2:
        case State.CloseWait:
          this.life.fail(t, ECONNRESET, false);
          break;
        default:
          this.life.terminate(t);
      }
      return DropReason.None;
    }

    // Fourth: a SYN in a synchronized state gets a challenge ACK. RFC 5961 §4.2
    if (flags & TCP_SYN) {
      receiver.challengeAck(t);
      return DropReason.TcpSynInWindow;
    }

    // Fifth: ACK
    if (!(flags & TCP_ACK)) return DropReason.TcpBadAck;
    const ack = seg.ack;
    if (state === State.SynReceived) {
      if (!(seqLt(tcb.sndUna(t), ack) && seqLe(ack, tcb.sndMax(t)))) {
        this.replies.resetFor(seg, tcb.remoteIp(t), tcb.localIp(t)); // <SEQ=SEG.ACK><CTL=RST>
        return DropReason.TcpBadAck;
      }
      this.sender.synAcknowledged(t, seg, seqAdd(tcb.iss(t), 1));
      this.sender.setWindow(t, seg.window << tcb.sndWscale(t), seg.seq, ack);
      tcb.setMaxSndWnd(t, tcb.sndWnd(t)); // the SYN's window was never scaled: start the maximum over
      this.life.setState(t, State.Established);
      this.life.established(t);
      if (tcb.state(t) === State.Closed) return DropReason.None; // its listener was gone
    }
    // Acknowledgment of something not yet sent, or far too old. RFC 5961 §5.2
    if (seqGt(ack, tcb.sndMax(t)) || seqLt(ack, seqAdd(tcb.sndUna(t), -tcb.maxSndWnd(t)))) {
      receiver.answerUnacceptable(t, len > 0);
      return DropReason.TcpBadAck;
    }
    // TS.Recent only from an acceptable segment that passed the ACK check. RFC 7323 §4.3
    if (!oldDuplicate) receiver.takeTimestamp(t, seg);
    this.sender.onAck(t, seg, !oldDuplicate);
    // Our FIN is acknowledged when everything up to SND.MAX is.
    if (this.sender.finAcknowledged(t)) {
      switch (tcb.state(t)) {
        case State.FinWait1:
          this.life.setState(t, State.FinWait2);
          break;
        case State.Closing:
          receiver.requestAck(t);
          this.life.enterTimeWait(t);
          break;
        case State.LastAck:
          this.life.terminate(t);
          break;
        default:
          break;
      }
    }
    if (oldDuplicate) return DropReason.TcpOutOfWindow; // the text was old
    if (tcb.state(t) === State.Closed) return DropReason.None;

    // Seventh: segment text
    if (len > 0 && !receiver.text(t, seq, buf, off, len)) return DropReason.None;

    // Eighth: FIN
    if (fin) receiver.fin(t, seqAdd(seq, len));
    return DropReason.None;
  }

  /** SYN-SENT. RFC 9293 §3.10.7.3 */
  #synSent(t: number, seg: TcpFields): DropReason {
    const tcb = this.tcb;
    const flags = seg.flags;
    let ackOk = false;
    if (flags & TCP_ACK) {
      if (seqLe(seg.ack, tcb.iss(t)) || seqGt(seg.ack, tcb.sndMax(t))) {
        if (!(flags & TCP_RST)) this.replies.resetFor(seg, tcb.remoteIp(t), tcb.localIp(t));
        return DropReason.TcpBadAck;
      }
      ackOk = true;
    }
    if (flags & TCP_RST) {
      if (!ackOk) return DropReason.TcpBadRst; // RFC 5961 §3.2: only a RST acknowledging our SYN counts
      this.stats.tcpRstReceived++;
      this.life.fail(t, ECONNREFUSED, false);
      return DropReason.None;
    }
    if (!(flags & TCP_SYN)) return DropReason.TcpBadFlags;
    this.handshake.acceptPeerSyn(t, seg);
    tcb.setSndWl2(t, seg.ack);
    this.timers.touchIdle(t);
    if (ackOk) {
      this.sender.synAcknowledged(t, seg, seg.ack);
      this.life.setState(t, State.Established);
      this.recovery.start(t, effectiveMss(tcb, t));
      // The ACK of the SYN|ACK goes at the output pass, riding on the application's first data if it writes at once.
      this.receiver.requestAck(t);
      this.life.established(t);
    } else {
      // Simultaneous open: answer with SYN|ACK. RFC 9293 §3.10.7.3, §3.5 figure 8
      this.life.setState(t, State.SynReceived);
      tcb.setSndNxt(t, tcb.iss(t));
      this.output.schedule(t);
    }
    return DropReason.None;
  }
}
