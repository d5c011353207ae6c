/**
 * The sending half of every connection (gVisor's snd.go): what the peer's
 * ACKs say (RFC 9293 §3.10.7.4 fifth, RFC 5681, RFC 6298), what goes out at
 * each output pass within the peer's window and the congestion window
 * (RFC 9293 §3.8, Nagle, silly window avoidance), and the timeouts of the
 * send side: retransmission, persist (RFC 9293 §3.8.6.1) and keepalive
 * (RFC 1122 §4.2.3.6). Loss recovery (recovery.ts) chooses what to resend.
 */
import { ETIMEDOUT } from '../errno.ts';
import { READY_OUT } from '../readiness.ts';
import type { Stats } from '../stats.ts';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, type TcpFields } from '../wire/tcp.ts';
import { asTsVal, seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, type Seq } from '../wire/seqnum.ts';
import type { Lifecycle, OutputQueue, SocketEvents, TcpClock } from './contracts.ts';
import { OUT_OF_SLOTS, type LossRecovery } from './recovery.ts';
import type { RttEstimators } from './rtt.ts';
import type { SendBuffers } from './send-buffer.ts';
import { State } from './state.ts';
import { effectiveMss, type TcbTable } from './tcb.ts';
import type { ConnTimers } from './timers.ts';
import type { Transmit } from './transmit.ts';

/** SYN retransmissions before connect fails with ETIMEDOUT (Linux tcp_syn_retries). */
export const SYN_RETRIES = 6;
/** SYN|ACK retransmissions before a half-open connection is dropped (Linux tcp_synack_retries). */
export const SYNACK_RETRIES = 5;
/** Data retransmissions before the connection fails with ETIMEDOUT (Linux tcp_retries2). */
export const DATA_RETRIES = 15;

/** TSecr 0: the peer echoes no timestamp of ours (RFC 7323 §3.2). */
const NO_ECHO = asTsVal(0);

export class Sender {
  constructor(
    readonly tcb: TcbTable,
    readonly buffers: SendBuffers,
    readonly recovery: LossRecovery,
    readonly transmit: Transmit,
    readonly rtt: RttEstimators,
    readonly timers: ConnTimers,
    readonly clock: TcpClock,
    readonly life: Lifecycle,
    readonly queue: OutputQueue,
    readonly events: SocketEvents,
    readonly stats: Stats,
  ) {}

  /** Bytes queued but not yet sent (at SND.NXT or later). */
  unsentBytes(t: number): number {
    const unsent = this.buffers.length(t) - seqDiff(this.tcb.sndNxt(t), this.tcb.sndUna(t));
    return unsent > 0 ? unsent : 0;
  }

  /** Sequence number of our FIN: right after the last byte of queued data. */
  finSeq(t: number): Seq {
    return seqAdd(this.tcb.sndUna(t), this.buffers.length(t));
  }

  /** Bytes sent and not yet acknowledged (sequence space, SYN and FIN included). */
  flightSize(t: number): number {
    return seqDiff(this.tcb.sndMax(t), this.tcb.sndUna(t));
  }

  // ---- what the peer's ACKs say -------------------------------------------

  /**
   * An RTT sample from the echoed timestamp (RFC 7323 §4.1) or the timed
   * segment (RFC 6298, Karn). An echo from before the last retransmission
   * timeout is skipped: a peer answering a duplicate echoes a TS.Recent that
   * may lag far behind (RFC 7323 §4.3 updates it only in sequence), and one
   * such sample after lost ACKs would hold the RTO near its maximum.
   */
  sampleRtt(t: number, seg: TcpFields, ack: Seq): void {
    const tcb = this.tcb;
    if (tcb.tsOk(t) !== 0 && seg.hasTimestamp && seg.tsEcr !== NO_ECHO) {
      const rtt = seqDiff(this.clock.tsNow(), seg.tsEcr);
      if (rtt >= 0 && seqGe(seg.tsEcr, tcb.rtoTsFloor(t))) this.rtt.sample(t, rtt);
      tcb.setRttTiming(t, 0);
    } else if (tcb.rttTiming(t) !== 0 && seqGt(ack, tcb.rttSeq(t))) {
      this.rtt.sample(t, this.clock.now - tcb.rttSentAt(t));
      tcb.setRttTiming(t, 0);
    }
  }

  /** Our SYN was acknowledged (ACK `ack`): the handshake's RTT, SND.UNA past the SYN, no retransmission pending. */
  synAcknowledged(t: number, seg: TcpFields, ack: Seq): void {
    const tcb = this.tcb;
    this.sampleRtt(t, seg, ack);
    this.rtt.handshakeDone(t, tcb.retries(t) > 0);
    tcb.setSndUna(t, ack);
    // A timeout may have sent SND.NXT back to the ISS with the SYN still waiting for a TX slot: this ACK covers it.
    if (seqLt(tcb.sndNxt(t), ack)) tcb.setSndNxt(t, ack);
    tcb.setRetries(t, 0);
    this.timers.stopRto(t);
  }

  /**
   * ACK processing in the synchronized states, RFC 9293 §3.10.7.4 fifth,
   * with RFC 5681's duplicate ACKs, RFC 6675's SACK and RFC 6298's timer.
   * `timed`: the segment may give an RTT sample (an old duplicate echoes a
   * stale TS.Recent and may not).
   */
  onAck(t: number, seg: TcpFields, timed: boolean): void {
    const tcb = this.tcb;
    const ack = seg.ack;
    const segWnd = seg.window << tcb.sndWscale(t);
    const mss = effectiveMss(tcb, t);
    const una = tcb.sndUna(t);
    const newlySacked = this.recovery.takeSack(t, seg, seqGt(ack, una) ? ack : una, seqAdd(una, this.buffers.length(t)));
    if (seqGt(ack, una)) {
      const acked = seqDiff(ack, una);
      if (timed) this.sampleRtt(t, seg, ack);
      const queued = this.buffers.length(t);
      const dataAcked = acked < queued ? acked : queued;
      this.buffers.consume(t, dataAcked);
      tcb.setSndUna(t, ack);
      if (seqLt(tcb.sndNxt(t), ack)) tcb.setSndNxt(t, ack);
      tcb.setRetries(t, 0);
      this.recovery.onNewAck(t, ack, acked, mss, this.rtt.srttMs(t));
      // An application that kept the buffer full may queue twice the congestion window (tcp_sndbuf_expand).
      if (dataAcked > 0) this.buffers.expand(t, 2 * this.recovery.window(t));
      // RFC 6298 (5.2), (5.3)
      if (tcb.sndMax(t) === ack) this.timers.stopRto(t);
      else this.timers.armRto(t, this.rtt.rtoMs(t));
      if (dataAcked > 0 && tcb.sockid(t) >= 0) this.events.wake(tcb.sockid(t), READY_OUT);
      if (this.unsentBytes(t) > 0 || tcb.finQueued(t) !== 0) this.queue.schedule(t);
    } else if (ack === una && tcb.sndMax(t) !== una &&
               (newlySacked || (seg.payloadLen === 0 && !(seg.flags & TCP_FIN) && segWnd === tcb.sndWnd(t)))) {
      // A duplicate ACK: no data, no FIN, the same window (RFC 5681 §2), or one that SACKs new data (RFC 6675 §2).
      this.recovery.onDuplicateAck(t, newlySacked, mss, this.unsentBytes(t) > 0);
    }
    // Window update. RFC 9293 §3.10.7.4 fifth
    if (seqLt(tcb.sndWl1(t), seg.seq) || (tcb.sndWl1(t) === seg.seq && seqLe(tcb.sndWl2(t), ack))) {
      if (segWnd > tcb.sndWnd(t) && this.unsentBytes(t) > 0) this.queue.schedule(t);
      this.setWindow(t, segWnd, seg.seq, ack);
    }
  }

  /** The peer's window (already scaled), from the segment `wl1`/`wl2`. */
  setWindow(t: number, wnd: number, wl1: Seq, wl2: Seq): void {
    const tcb = this.tcb;
    tcb.setSndWnd(t, wnd);
    if (wnd > tcb.maxSndWnd(t)) tcb.setMaxSndWnd(t, wnd);
    tcb.setSndWl1(t, wl1);
    tcb.setSndWl2(t, wl2);
  }

  /** Whether everything we sent, our FIN included, is acknowledged. */
  finAcknowledged(t: number): boolean {
    return this.tcb.finSent(t) !== 0 && this.tcb.sndUna(t) === this.tcb.sndMax(t);
  }

  // ---- the output pass -----------------------------------------------------

  /**
   * Send what connection t has to send: the SYN or SYN|ACK, the
   * retransmissions recovery owes, new data within min(send window, cwnd),
   * our FIN, and the ACKs the receiver owes if nothing carried them.
   * Returns false when it ran out of TX slots (the caller keeps t on the
   * output list).
   */
  output(t: number): boolean {
    const tcb = this.tcb;
    const tx = this.transmit;
    switch (tcb.state(t)) {
      case State.Closed:
      case State.Listen:
        return true;
      case State.TimeWait:
        return tcb.ackNow(t) === 0 || tx.ack(t);
      case State.SynSent:
        return tcb.sndNxt(t) !== tcb.iss(t) || tx.segment(t, tcb.iss(t), TCP_SYN, 0);
      case State.SynReceived:
        if (tcb.sndNxt(t) === tcb.iss(t)) return tx.segment(t, tcb.iss(t), TCP_SYN | TCP_ACK, 0);
        return tcb.ackNow(t) === 0 || tx.ack(t);
      default:
        break;
    }
    const st = tcb.state(t);
    // Our FIN is still unacknowledged only in these states.
    const finPending = tcb.finQueued(t) !== 0 && (st === State.FinWait1 || st === State.Closing || st === State.LastAck);
    const mss = effectiveMss(tcb, t);
    const sackRecovery = this.recovery.inRecovery(t) && tcb.sackOk(t) !== 0;
    // What congestion control lets us send beyond SND.NXT, after the retransmissions recovery sends first.
    let cwndRoom = this.recovery.sendRoom(t, mss);
    if (cwndRoom === OUT_OF_SLOTS) return false;
    // Usable window, RFC 5681 §2 (may be negative after the window shrank)
    const wndRoom = seqDiff(seqAdd(tcb.sndUna(t), tcb.sndWnd(t)), tcb.sndNxt(t));
    let usable = wndRoom < cwndRoom ? wndRoom : cwndRoom;
    let unsent = this.unsentBytes(t);
    const fin = this.finSeq(t);
    // With TSO one segment carries many MSS for the port to cut.
    const most = tx.maxSegmentPayload(mss);
    while (unsent > 0 && usable > 0) {
      const nxt = tcb.sndNxt(t);
      let n = unsent < most ? unsent : most;
      if (n > usable) n = usable;
      // A large segment cut short by the window ends on a whole MSS: its tail would be a small frame mid-stream.
      if (n > mss && n < unsent) n -= n % mss;
      // Going back after a timeout: what the peer SACKed need not be sent again. RFC 6675 §5.1
      const skipTo = this.recovery.resendStart(t, nxt);
      if (skipTo !== nxt) {
        const d = seqDiff(skipTo, nxt);
        tcb.setSndNxt(t, skipTo);
        unsent -= d;
        usable -= d;
        continue;
      }
      n = this.recovery.resendRoom(t, nxt, n);
      const last = n === unsent;
      // Silly window avoidance and Nagle decide when new data leaves; data going out again after a
      // timeout was sent once already and is not held back.
      const fresh = !seqLt(nxt, tcb.sndMax(t));
      // Sender-side silly window avoidance: a piece smaller than the MSS, cut short by the window rather
      // than by the end of the data, waits until it is at least half the largest window the peer
      // offered; the persist timer overrides. RFC 9293 §3.8.6.2.1
      if (fresh && n < mss && !last && n < tcb.maxSndWnd(t) >>> 1) break;
      // Nagle: while data is unacknowledged, hold back a segment smaller than the MSS (RFC 896,
      // RFC 1122 §4.2.3.4), unless TCP_NODELAY; the FIN is not held.
      if (fresh && n < mss && tcb.noDelay(t) === 0 && nxt !== tcb.sndUna(t) && !(last && finPending) && !sackRecovery) break;
      let flags = TCP_ACK;
      if (last) flags |= TCP_PSH;
      // Piggyback our FIN on the last data segment.
      if (last && finPending) flags |= TCP_FIN;
      if (!tx.segment(t, nxt, flags, n)) return false;
      if (flags & TCP_FIN) tcb.setFinSent(t, 1);
      unsent -= n;
      usable -= n;
      cwndRoom -= n;
    }
    if (finPending && tcb.sndNxt(t) === fin && unsent === 0) {
      // FIN after all data, window or not (as Linux does).
      if (!tx.segment(t, fin, TCP_ACK | TCP_FIN, 0)) return false;
      tcb.setFinSent(t, 1);
    }
    // RFC 6675 §4 NextSeg (3): no new data to send, so retransmit holes not yet presumed lost.
    if (unsent <= 0 && !this.recovery.afterNewData(t, mss, cwndRoom)) return false;
    if (unsent > 0 && tcb.sndMax(t) === tcb.sndUna(t) && this.timers.rtoAt[t] < 0) {
      // Data held by a zero or silly window with nothing in flight: the persist timer takes over. RFC 9293 §3.8.6.1
      this.timers.armRto(t, this.rtt.rtoMs(t));
    }
    // The ACK the receiver owes, if nothing above carried it, then one more for each further
    // out-of-order segment of the burst (receiver.ts).
    if (tcb.ackNow(t) !== 0 && !tx.ack(t)) return false;
    while (tcb.dupAcksOwed(t) > 0) {
      if (!tx.ack(t)) return false;
      tcb.setDupAcksOwed(t, tcb.dupAcksOwed(t) - 1);
    }
    return true;
  }

  // ---- timeouts of the send side -------------------------------------------

  /**
   * The retransmission timer fired (RFC 6298 (5.4)-(5.7), RFC 5681 §3.1), or
   * the persist timer (RFC 9293 §3.8.6.1) when nothing is in flight. Gives
   * up after SYN_RETRIES, SYNACK_RETRIES or DATA_RETRIES.
   */
  onRetransmitTimeout(t: number): void {
    const tcb = this.tcb;
    const flight = this.flightSize(t);
    const st = tcb.state(t);
    if (flight === 0) {
      // The persist timer: data waits for the peer's window. RFC 9293 §3.8.6.1
      if (this.unsentBytes(t) > 0 && st >= State.Established) {
        if (this.#persistProbe(t)) this.rtt.backoff(t);
        this.timers.armRto(t, this.rtt.rtoMs(t));
      }
      return;
    }
    const retries = tcb.retries(t) + 1;
    tcb.setRetries(t, retries);
    const limit = st === State.SynSent ? SYN_RETRIES : st === State.SynReceived ? SYNACK_RETRIES : DATA_RETRIES;
    if (retries > limit) {
      if (st === State.SynReceived && tcb.listenerSockid(t) >= 0) this.life.terminate(t);
      else this.life.fail(t, ETIMEDOUT, st !== State.SynSent);
      return;
    }
    this.stats.tcpTimeouts++;
    this.recovery.onTimeout(t, flight, effectiveMss(tcb, t), retries);
    tcb.setRttTiming(t, 0);
    tcb.setRtoTsFloor(t, this.clock.tsNow());
    this.rtt.backoff(t); // RFC 6298 (5.5)
    if (st === State.SynSent || st === State.SynReceived) {
      tcb.setSndNxt(t, tcb.iss(t));
    } else {
      // Go back to the oldest unacknowledged byte (RFC 6298 (5.4)); it goes out even if the peer's
      // window has closed since: it probes the window as well (Linux's tcp_retransmit_timer). RFC 9293 §3.8.6.1
      tcb.setSndNxt(t, tcb.sndUna(t));
      this.recovery.oweFirstRetransmission(t);
    }
    this.timers.armRto(t, this.rtt.rtoMs(t));
    this.queue.schedule(t);
  }

  /**
   * The persist timer found data held back by the peer's window. A zero window
   * gets a probe: like Linux (tcp_xmit_probe_skb) an ACK carrying the already
   * acknowledged SND.UNA-1, which takes no sequence space the peer may refuse
   * and which the peer answers with its current window (RFC 9293 §3.8.6.1). A
   * small window gets what fits: the override of silly window avoidance
   * (RFC 9293 §3.8.6.2.1). Returns whether it was a zero-window probe.
   */
  #persistProbe(t: number): boolean {
    const tcb = this.tcb;
    const room = seqDiff(seqAdd(tcb.sndUna(t), tcb.sndWnd(t)), tcb.sndNxt(t));
    if (room <= 0) {
      this.transmit.segment(t, seqAdd(tcb.sndUna(t), -1), TCP_ACK, 0);
      return true;
    }
    const unsent = this.unsentBytes(t);
    const mss = effectiveMss(tcb, t);
    let n = room < unsent ? room : unsent;
    if (n > mss) n = mss;
    this.transmit.segment(t, tcb.sndNxt(t), n === unsent ? TCP_ACK | TCP_PSH : TCP_ACK, n);
    return false;
  }

  /**
   * A keepalive probe is due: with data outstanding the retransmission timer
   * already watches the peer; otherwise send an ACK for SND.UNA-1, which the
   * peer must answer (Linux's probe), and give up after TCP_KEEPCNT
   * unanswered ones. RFC 1122 §4.2.3.6
   */
  onKeepaliveTimeout(t: number): void {
    const tcb = this.tcb;
    const timers = this.timers;
    const st = tcb.state(t);
    // Like Linux, every synchronized state without data in flight: FIN_WAIT_2 waits on the peer too.
    const open = st === State.Established || st === State.CloseWait || st === State.FinWait2;
    if (!open || tcb.sndMax(t) !== tcb.sndUna(t) || this.unsentBytes(t) > 0) {
      timers.keepaliveAt[t] = this.clock.now + timers.keepIdleMs[t];
      return;
    }
    if (timers.keepProbes[t] >= timers.keepCnt[t]) {
      this.life.fail(t, ETIMEDOUT, false);
      return;
    }
    timers.keepProbes[t]++;
    this.transmit.segment(t, seqAdd(tcb.sndUna(t), -1), TCP_ACK, 0);
    timers.keepaliveAt[t] = this.clock.now + timers.keepIntvlMs[t];
  }
}
