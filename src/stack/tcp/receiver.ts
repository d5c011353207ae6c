/**
 * The receiving half of every connection (gVisor's rcv.go): the window we
 * offer, the text and FIN of acceptable segments (RFC 9293 §3.10.7.4, seventh
 * and eighth), TS.Recent, the SACK blocks we report, and when to acknowledge.
 *
 * The receiver decides that an ACK is owed and the engine sends it after the
 * burst, once: an ACK may then cover every segment of the burst and ride on
 * the application's answer (one place decides, one place sends).
 */
import { DropReason } from '../drop-reason.ts';
import { ECONNRESET } from '../errno.ts';
import { READY_IN, READY_RDHUP } from '../readiness.ts';
import type { Stats } from '../stats.ts';
import { TCP_MAX_SACK_BLOCKS, type TcpFields } from '../wire/tcp.ts';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, type Seq } from '../wire/seqnum.ts';
import type { Lifecycle, OutputQueue, SocketEvents, TcpClock } from './contracts.ts';
import { RateBudget } from './rate-budget.ts';
import type { RecvBuffers } from './recv-buffer.ts';
import type { RttEstimators } from './rtt.ts';
import { State } from './state.ts';
import { effectiveMss, type TcbTable } from './tcb.ts';
import type { ConnTimers } from './timers.ts';

/** Largest unscaled window field. RFC 9293 §3.1 */
export const MAX_WINDOW_FIELD = 0xffff;
/**
 * At most one ACK per this interval answers unacceptable segments without
 * data (Linux's tcp_invalid_ratelimit, RFC 5961 §7): two confused peers
 * must not ACK each other forever.
 */
export const OOW_ACK_INTERVAL_MS = 500;

export class Receiver {
  readonly #challengeAcks: RateBudget;

  constructor(
    readonly tcb: TcbTable,
    readonly buffers: RecvBuffers,
    readonly timers: ConnTimers,
    readonly rtt: RttEstimators,
    readonly clock: TcpClock,
    readonly life: Lifecycle,
    readonly output: OutputQueue,
    readonly events: SocketEvents,
    readonly stats: Stats,
    /** Challenge ACKs per second for the whole context. RFC 5961 §7 */
    challengeAckLimit: number,
  ) {
    this.#challengeAcks = new RateBudget(challengeAckLimit);
  }

  // ---- acknowledgments ---------------------------------------------------

  /** An ACK is owed at the next flush (it may ride on data). */
  requestAck(t: number): void {
    this.tcb.setAckNow(t, 1);
    this.output.schedule(t);
  }

  /**
   * An ACK at once for this segment (out of order, or filling a gap; RFC 5681
   * §4.2): when the burst already owes one, this segment's is a further
   * duplicate the sender counts.
   */
  #ackThisSegment(t: number): void {
    if (this.tcb.ackNow(t) !== 0) this.tcb.setDupAcksOwed(t, this.tcb.dupAcksOwed(t) + 1);
    this.requestAck(t);
  }

  /** Answer an unacceptable segment with an ACK, rate-limited unless it carried data. */
  answerUnacceptable(t: number, carriesData: boolean): void {
    const tcb = this.tcb;
    if (!carriesData) {
      if (this.clock.now - tcb.lastOowAckAt(t) < OOW_ACK_INTERVAL_MS) return;
      tcb.setLastOowAckAt(t, this.clock.now);
    }
    this.requestAck(t);
  }

  /** A challenge ACK (RFC 5961 §3.2, §4.2), within the context's budget of them per second. */
  challengeAck(t: number): void {
    if (!this.#challengeAcks.take(this.clock.now)) {
      this.stats.tcpChallengeAcksSuppressed++;
      return;
    }
    this.answerUnacceptable(t, false);
  }

  /**
   * A segment carrying our ACK went out with window `wnd` (bytes, as
   * advertised): no ACK is owed any more. A SYN|ACK's window sets the right
   * edge; later ones only move it right. RFC 9293 §3.8.6
   */
  ackSent(t: number, wnd: number, syn: boolean): void {
    const tcb = this.tcb;
    const rcvNxt = tcb.rcvNxt(t);
    tcb.setLastAckSent(t, rcvNxt);
    tcb.setAckNow(t, 0);
    tcb.setUnackedSegments(t, 0);
    this.timers.ackSent(t);
    const right = seqAdd(rcvNxt, wnd);
    if (syn || seqGt(right, tcb.rcvAdvRight(t))) tcb.setRcvAdvRight(t, right);
  }

  // ---- the window ----------------------------------------------------------

  /**
   * Receiver-side silly window avoidance, RFC 9293 §3.8.6.2.2: the right edge
   * of the window we advertise moves only by at least min(buffer/2, MSS).
   */
  windowStep(t: number): number {
    const half = this.buffers.capacity(t) >>> 1;
    const mss = effectiveMss(this.tcb, t);
    return half < mss ? half : mss;
  }

  /** The window to advertise, before scaling; its right edge never moves left (RFC 9293 §3.8.6). */
  window(t: number): number {
    const free = this.buffers.free(t);
    const advertised = seqDiff(this.tcb.rcvAdvRight(t), this.tcb.rcvNxt(t));
    const grow = free - (advertised > 0 ? advertised : 0);
    let wnd = grow >= this.windowStep(t) ? free : advertised;
    if (wnd < 0) wnd = 0;
    const max = MAX_WINDOW_FIELD << this.tcb.rcvWscale(t);
    return wnd > max ? max : wnd;
  }

  /** The window a segment is judged against: what we advertised, or what is free if that is more. RFC 9293 §3.10.7.4 */
  acceptanceWindow(t: number): number {
    const advertised = seqDiff(this.tcb.rcvAdvRight(t), this.tcb.rcvNxt(t));
    const free = this.buffers.free(t);
    return advertised > free ? advertised : free > 0 ? free : 0;
  }

  /**
   * The application read n bytes: the buffer's size follows what it reads per
   * round trip (recv-buffer.ts), and a window that opened by at least
   * min(buffer/2, MSS) is announced. RFC 9293 §3.8.6.2.2
   */
  afterRead(t: number, n: number): void {
    const tcb = this.tcb;
    if (tcb.state(t) < State.Established || tcb.finReceived(t) !== 0) return;
    const advertised = seqDiff(tcb.rcvAdvRight(t), tcb.rcvNxt(t));
    this.buffers.measureRead(t, n, this.clock.now, this.rtt.srttMs(t), advertised > 0 ? advertised : 0);
    const right = seqAdd(tcb.rcvNxt(t), this.buffers.free(t));
    if (seqDiff(right, tcb.rcvAdvRight(t)) >= this.windowStep(t)) this.requestAck(t);
  }

  /**
   * SACK blocks for the out-of-order data we hold, the block holding the most
   * recently received segment first. RFC 2018 §4. Returns the count (the
   * option writer keeps those that fit).
   */
  sackBlocks(t: number, f: TcpFields): number {
    const rb = this.buffers;
    const n = rb.oooCount(t);
    if (n === 0) return 0;
    const ranges = rb.ooo;
    const recent = this.tcb.lastOooSeq(t);
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (rb.oooHolds(t, i, recent)) {
        f.sackLeft[0] = ranges.start(t, i);
        f.sackRight[0] = ranges.end(t, i);
        count = 1;
        break;
      }
    }
    for (let i = 0; i < n && count < TCP_MAX_SACK_BLOCKS; i++) {
      const left = ranges.start(t, i);
      if (count > 0 && f.sackLeft[0] === left) continue;
      f.sackLeft[count] = left;
      f.sackRight[count] = ranges.end(t, i);
      count++;
    }
    return count;
  }

  // ---- timestamps ----------------------------------------------------------

  /**
   * Remember the timestamp to echo (RFC 7323 §4.3): from a segment at or
   * before Last.ACK.sent whose TSval is not older. The caller has checked the
   * segment's acceptability and its ACK (a forged timestamp must not make PAWS
   * refuse the real peer, as Linux's tcp_ack()).
   */
  takeTimestamp(t: number, seg: TcpFields): void {
    const tcb = this.tcb;
    if (tcb.tsOk(t) !== 0 && seg.hasTimestamp && seqGe(seg.tsVal, tcb.tsRecent(t)) && seqLe(seg.seq, tcb.lastAckSent(t))) {
      tcb.setTsRecent(t, seg.tsVal);
      tcb.setTsRecentAt(t, this.clock.now);
    }
  }

  // ---- text and FIN, RFC 9293 §3.10.7.4 seventh and eighth -------------------

  /**
   * Seventh: the segment's text, `len` bytes of `buf` at `off` from sequence
   * number `seq` (already trimmed to the window). Returns false when the
   * segment's processing ends here: the connection ended on it, or it
   * completed the data before a FIN that came early, which it then took.
   */
  text(t: number, seq: Seq, buf: Uint8Array, off: number, len: number): boolean {
    const tcb = this.tcb;
    const st = tcb.state(t);
    // In other states the peer's FIN was already received: the text is ignored.
    if (st !== State.Established && st !== State.FinWait1 && st !== State.FinWait2) return true;
    if (tcb.sockid(t) < 0 && tcb.inAcceptQueue(t) === 0) {
      // The application closed: nobody will read this. Linux resets (tcp_rcv_state_process).
      this.life.fail(t, ECONNRESET, true);
      return false;
    }
    const next = tcb.rcvNxt(t);
    const outOfOrder = seqGt(seq, next);
    if (outOfOrder) tcb.setLastOooSeq(t, seq);
    const hadGap = this.buffers.oooCount(t) > 0;
    const grew = this.buffers.insert(t, next, seq, buf, off, len);
    if (grew < 0) this.stats.drops[DropReason.TcpOooFull]++;
    if (grew > 0) {
      tcb.setRcvNxt(t, seqAdd(next, grew));
      // The duplicate ACKs owed for the old RCV.NXT are moot: the next ACK acknowledges more.
      tcb.setDupAcksOwed(t, 0);
      if (tcb.sockid(t) >= 0) this.events.wake(tcb.sockid(t), READY_IN);
      if (tcb.oooFinPending(t) !== 0 && tcb.rcvNxt(t) === tcb.oooFinSeq(t)) {
        tcb.setOooFinPending(t, 0);
        this.finArrives(t);
        return false;
      }
    }
    if (outOfOrder || hadGap) {
      // Out of order, or filling a gap: ACK at once. RFC 5681 §4.2
      this.#ackThisSegment(t);
      return true;
    }
    // An ACK for at least every second full-sized segment (RFC 5681 §4.2); one longer than the MSS
    // (coalesced by the port, GRO) stands for several.
    const unacked = tcb.unackedSegments(t) + (len > effectiveMss(tcb, t) ? 2 : 1);
    tcb.setUnackedSegments(t, unacked);
    if (unacked >= 2) this.requestAck(t);
    else this.timers.delayAck(t);
    return true;
  }

  /** Eighth: a FIN at `finAt` (the sequence number after the segment's text). */
  fin(t: number, finAt: Seq): void {
    const tcb = this.tcb;
    if (finAt !== tcb.rcvNxt(t)) {
      // Data before the FIN is missing: keep the FIN for when it arrives.
      tcb.setOooFinPending(t, 1);
      tcb.setOooFinSeq(t, finAt);
      return;
    }
    this.finArrives(t);
  }

  /** The peer's FIN, in order. RFC 9293 §3.10.7.4 eighth */
  finArrives(t: number): void {
    const tcb = this.tcb;
    if (tcb.finReceived(t) !== 0) {
      this.requestAck(t);
      return;
    }
    tcb.setRcvNxt(t, seqAdd(tcb.rcvNxt(t), 1));
    tcb.setFinReceived(t, 1);
    if (tcb.sockid(t) >= 0) this.events.wake(tcb.sockid(t), READY_IN | READY_RDHUP);
    switch (tcb.state(t)) {
      case State.SynReceived:
      case State.Established:
        this.life.setState(t, State.CloseWait);
        // The ACK may ride on the application's reply or FIN.
        this.requestAck(t);
        break;
      case State.FinWait1:
        if (tcb.finSent(t) !== 0 && tcb.sndUna(t) === tcb.sndMax(t)) {
          this.requestAck(t);
          this.life.enterTimeWait(t);
        } else {
          this.life.setState(t, State.Closing);
          this.requestAck(t);
        }
        break;
      case State.FinWait2:
        this.requestAck(t);
        this.life.enterTimeWait(t);
        break;
      default:
        this.requestAck(t);
    }
  }
}
