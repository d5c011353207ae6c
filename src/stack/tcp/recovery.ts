/**
 * Loss recovery: the one place that owns the congestion window (through the
 * connection's congestion control, and NewReno's inflation on top of it) and
 * chooses what to send again. It detects losses from duplicate ACKs and
 * SACKs (RFC 5681 §3.2, RFC 6675 §5) and runs NewReno (RFC 6582) or SACK
 * recovery (RFC 6675) by what the connection negotiated, both behind the
 * RecoveryStrategy interface; a timeout goes back to SND.UNA (RFC 6298 (5.4)).
 */
import { seqAdd, seqDiff, seqGe, seqLt, type Seq } from '../wire/seqnum.ts';
import type { TcpFields } from '../wire/tcp.ts';
import type { TcpClock } from './contracts.ts';
import type { CongestionControl } from './congestion/controller.ts';
import { NewRenoRecovery } from './newreno-recovery.ts';
import { OUT_OF_SLOTS, type RecoveryState, type RecoveryStrategy, type Retransmissions } from './recovery-state.ts';
import { SackRecovery } from './sack-recovery.ts';
import { DUP_THRESH, type SackScoreboard } from './sack-scoreboard.ts';
import type { TcbTable } from './tcb.ts';

export { OUT_OF_SLOTS };

export class LossRecovery {
  readonly #newReno: RecoveryStrategy;
  readonly #sack: RecoveryStrategy;
  readonly tcb: TcbTable;
  readonly cc: CongestionControl;
  readonly scoreboard: SackScoreboard;
  readonly state: RecoveryState;

  constructor(readonly rxt: Retransmissions, readonly clock: TcpClock) {
    this.tcb = rxt.tcb;
    this.cc = rxt.cc;
    this.scoreboard = rxt.scoreboard;
    this.state = rxt.state;
    this.#newReno = new NewRenoRecovery(rxt);
    this.#sack = new SackRecovery(rxt);
  }

  #strategy(t: number): RecoveryStrategy {
    return this.tcb.sackOk(t) !== 0 ? this.#sack : this.#newReno;
  }

  /** Connection t starts sending with MSS `mss`: congestion control sets its initial window. */
  start(t: number, mss: number): void {
    this.cc.init(t, mss, this.clock.now);
  }

  inRecovery(t: number): boolean {
    return this.state.inRecovery[t] !== 0;
  }

  /** The window congestion control and recovery allow in flight, bytes (NewReno's inflation included). */
  window(t: number): number {
    return this.cc.cwnd(t) + this.state.inflation[t];
  }

  /**
   * Take the SACK blocks of an ACK (RFC 6675 §5: every ACK), with SND.UNA
   * moving to `una`; `dataEnd` is where the data queued ends. Returns whether
   * they SACKed octets not SACKed before.
   */
  takeSack(t: number, seg: TcpFields, una: Seq, dataEnd: Seq): boolean {
    if (this.tcb.sackOk(t) === 0 || (seg.sackCount === 0 && this.scoreboard.count(t) === 0)) return false;
    return this.scoreboard.take(t, seg, una, dataEnd);
  }

  /**
   * SND.UNA advanced by `acked` bytes to `ack`: leave recovery when the
   * recovery point is acknowledged (RFC 6582 §3.2 step 3), handle a partial
   * ACK, or let congestion control grow the window.
   */
  onNewAck(t: number, ack: Seq, acked: number, mss: number, srttMs: number): void {
    const s = this.state;
    if (s.recoverAfterRto[t] !== 0 && seqGe(ack, s.recover[t])) s.recoverAfterRto[t] = 0;
    if (s.inRecovery[t] === 0) {
      s.dupAcks[t] = 0;
      this.cc.onAck(t, acked, mss, this.clock.now, srttMs);
    } else if (seqGe(ack, s.recover[t])) {
      s.inRecovery[t] = 0;
      s.dupAcks[t] = 0;
      s.inflation[t] = 0;
      this.cc.onExitRecovery(t, mss, this.clock.now);
    } else {
      this.#strategy(t).partialAck(t, acked, mss);
    }
  }

  /**
   * A duplicate ACK (RFC 5681 §2; with SACK, one that SACKs new data, RFC
   * 6675 §2). Three of them, or enough SACKed above SND.UNA, mean the segment
   * at SND.UNA was lost (RFC 6675 §5 step 4) and recovery starts, unless a
   * timeout's recovery is still running (RFC 6582 §3.2 step 1). The first two
   * may each release one new segment (limited transmit, RFC 3042): `unsent`
   * says whether there is any.
   */
  onDuplicateAck(t: number, newlySacked: boolean, mss: number, unsent: boolean): void {
    const s = this.state;
    const tcb = this.tcb;
    const dup = ++s.dupAcks[t];
    if (s.inRecovery[t] !== 0) {
      this.#strategy(t).duplicateAck(t, newlySacked, mss);
      return;
    }
    const una = tcb.sndUna(t);
    const sb = this.scoreboard;
    const lost = dup >= DUP_THRESH || (sb.count(t) > 0 && sb.lossBoundary(t, una, mss) !== una);
    if (lost && s.recoverAfterRto[t] === 0) {
      s.inRecovery[t] = 1;
      s.recover[t] = tcb.sndMax(t);
      s.highRxt[t] = una;
      this.cc.onEnterRecovery(t, seqDiff(tcb.sndMax(t), una), mss, this.clock.now);
      this.#strategy(t).enter(t, mss);
      this.rxt.oweFirstRetransmission(t);
    } else if (dup < DUP_THRESH && unsent) {
      this.rxt.output.schedule(t); // limited transmit
    }
  }

  /**
   * The retransmission timer fired with `flight` octets outstanding: the
   * window collapses (RFC 5681 §3.1), recovery restarts from SND.UNA and
   * remembers SND.MAX so that duplicate ACKs of the old flight start no fast
   * retransmit (RFC 6582 §3.2 step 1). SACK information survives one timeout;
   * a second in a row suggests the peer reneged (RFC 6675 §5.1, RFC 2018 §8).
   */
  onTimeout(t: number, flight: number, mss: number, retries: number): void {
    const s = this.state;
    this.cc.onRto(t, flight, mss, this.clock.now);
    s.inRecovery[t] = 0;
    s.dupAcks[t] = 0;
    s.inflation[t] = 0;
    s.recover[t] = this.tcb.sndMax(t);
    s.recoverAfterRto[t] = 1;
    if (retries > 1) this.scoreboard.reset(t);
  }

  /** After a timeout in a synchronized state: the oldest segment goes out even if the peer's window has closed. */
  oweFirstRetransmission(t: number): void {
    this.rxt.oweFirstRetransmission(t);
  }

  /**
   * The output pass: send the retransmissions owed and those recovery picks,
   * then return how many bytes of new data may go beyond SND.NXT (it may be
   * negative), or OUT_OF_SLOTS when the TX ring filled.
   */
  sendRoom(t: number, mss: number): number {
    const s = this.state;
    if (s.firstRxtOwed[t] !== 0 && !this.rxt.retransmitFirst(t, mss)) return OUT_OF_SLOTS;
    if (s.inRecovery[t] !== 0) return this.#strategy(t).room(t, mss);
    // Limited transmit: the first two duplicate ACKs may each release one new segment beyond cwnd. RFC 3042 §2
    const dup = s.dupAcks[t];
    const cwnd = this.cc.cwnd(t) + (dup > 0 && dup < DUP_THRESH ? dup * mss : 0);
    return seqDiff(seqAdd(this.tcb.sndUna(t), cwnd), this.tcb.sndNxt(t));
  }

  /** No new data was left with `room` bytes to spare: recovery may retransmit more. False when out of TX slots. */
  afterNewData(t: number, mss: number, room: number): boolean {
    return this.state.inRecovery[t] === 0 ? true : this.#strategy(t).idle(t, mss, room);
  }

  /**
   * Going back over sent data after a timeout: where the next segment from
   * SND.NXT should start (past what the peer SACKed, which need not be sent
   * again, RFC 6675 §5.1), and how much of it may go before the next SACKed
   * range (`limit` otherwise).
   */
  resendStart(t: number, nxt: Seq): Seq {
    return this.scoreboard.count(t) > 0 && seqLt(nxt, this.tcb.sndMax(t)) ? this.scoreboard.skipSacked(t, nxt) : nxt;
  }

  resendRoom(t: number, nxt: Seq, limit: number): number {
    if (this.scoreboard.count(t) === 0 || !seqLt(nxt, this.tcb.sndMax(t))) return limit;
    const room = seqDiff(this.scoreboard.nextSackedAfter(t, nxt, this.tcb.sndMax(t)), nxt);
    return room < limit ? room : limit;
  }

}
