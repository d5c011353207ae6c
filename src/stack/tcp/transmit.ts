/**
 * The one place TCP segments are built: header and options in place in a
 * TX frame the context reserved, the payload copied once from the send
 * buffer, and the bookkeeping every sent segment implies (what it
 * acknowledged, how far it advanced SND.NXT and SND.MAX, Karn's rule, the
 * retransmission timer).
 */
import type { Stats } from '../stats.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, emitTcp, tcpHeaderLen, TcpFields } from '../wire/tcp.ts';
import { asSeq, asTsVal, seqAdd, seqDiff, seqGt, seqLt, type Seq } from '../wire/seqnum.ts';
import type { TcpClock, TcpTransmitter } from './contracts.ts';
import { MAX_WINDOW_FIELD, type Receiver } from './receiver.ts';
import type { RttEstimators } from './rtt.ts';
import type { SendBuffers } from './send-buffer.ts';
import { State } from './state.ts';
import { effectiveMss, type TcbTable } from './tcb.ts';
import type { ConnTimers } from './timers.ts';

/** The ACK field of a segment without the ACK flag. */
const NO_ACK = asSeq(0);
/** TSecr of a segment without the ACK flag. RFC 7323 §3.2 */
const NO_TS = asTsVal(0);

export class Transmit {
  /** Reused emit source for every segment. */
  readonly out = new TcpFields();

  constructor(
    readonly tcb: TcbTable,
    readonly sendBuffers: SendBuffers,
    readonly receiver: Receiver,
    readonly rtt: RttEstimators,
    readonly timers: ConnTimers,
    readonly clock: TcpClock,
    readonly ip: TcpTransmitter,
    readonly stats: Stats,
    /** MSS we announce: MTU - 40. RFC 9293 §3.7.1 */
    readonly localMss: number,
    /** Whether our SYN offers SACK. RFC 2018 */
    readonly offerSack: boolean,
  ) {}

  /**
   * Build and transmit one segment of connection t. `dataLen` payload bytes
   * come from the send buffer at `seq`; more than the MSS only up to
   * maxSegmentPayload, for the port to cut (TSO). Returns false when no TX
   * slot was free (nothing changed).
   */
  segment(t: number, seq: Seq, flags: number, dataLen: number): boolean {
    const tcb = this.tcb;
    const f = this.out;
    const syn = (flags & TCP_SYN) !== 0;
    const ackFlag = (flags & TCP_ACK) !== 0;
    f.srcPort = tcb.localPort(t);
    f.dstPort = tcb.remotePort(t);
    f.seq = seq;
    f.ack = ackFlag ? tcb.rcvNxt(t) : NO_ACK;
    f.flags = flags;
    f.urgent = 0;
    // Nothing was advertised before a SYN: it offers the free buffer.
    let wnd = syn ? this.receiver.buffers.free(t) : this.receiver.window(t);
    if (syn) {
      // The window in a SYN is never scaled. RFC 7323 §2.2
      f.window = wnd > MAX_WINDOW_FIELD ? MAX_WINDOW_FIELD : wnd;
      wnd = f.window;
      // A SYN offers every option; a SYN|ACK echoes only what the peer offered. RFC 7323 §2.2, RFC 2018 §2
      const offer = tcb.state(t) === State.SynSent;
      f.mss = this.localMss;
      f.wscale = offer || tcb.wsOk(t) !== 0 ? tcb.rcvWscale(t) : -1;
      f.sackPermitted = offer ? this.offerSack : tcb.sackOk(t) !== 0;
      f.hasTimestamp = offer || tcb.tsOk(t) !== 0;
    } else {
      const shift = tcb.rcvWscale(t);
      let scaled = wnd >>> shift;
      // Rounding down to the scale must not pull the right edge we advertised back: round up then, as Linux's
      // tcp_select_window, when the buffer has that room. Otherwise the edge may read up to 2^shift - 1 bytes
      // left; the acceptance window still honours the largest edge offered. RFC 7323 §2.4
      if (scaled < MAX_WINDOW_FIELD && seqLt(seqAdd(tcb.rcvNxt(t), scaled << shift), tcb.rcvAdvRight(t)) &&
          (scaled + 1) << shift <= this.receiver.buffers.free(t)) scaled++;
      f.window = scaled;
      wnd = scaled << shift;
      f.mss = -1;
      f.wscale = -1;
      f.sackPermitted = false;
      f.hasTimestamp = tcb.tsOk(t) !== 0;
    }
    f.tsVal = this.clock.tsNow();
    f.tsEcr = ackFlag ? tcb.tsRecent(t) : NO_TS;
    f.sackCount = ackFlag && !syn && tcb.sackOk(t) !== 0 ? this.receiver.sackBlocks(t, f) : 0;

    const hlen = tcpHeaderLen(f);
    const ip = this.ip;
    if (!ip.beginTcp(tcb.remoteIp(t))) return false;
    const buf = ip.txBuf;
    const off = ip.txOff;
    if (dataLen > 0) this.sendBuffers.copyOut(t, seqDiff(seq, tcb.sndUna(t)), buf, off + hlen, dataLen);
    emitTcp(buf, off, f, tcb.localIp(t), tcb.remoteIp(t), dataLen, !ip.tcpChecksumOffload);
    const mss = effectiveMss(tcb, t);
    ip.endTcp(tcb.localIp(t), tcb.remoteIp(t), hlen + dataLen, dataLen > mss ? mss : 0);
    this.stats.tcpOutSegs++;

    if (ackFlag) this.receiver.ackSent(t, wnd, syn);
    const seqLen = dataLen + (syn ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
    if (seqLen > 0) {
      const end = seqAdd(seq, seqLen);
      if (seqLt(seq, tcb.sndMax(t))) {
        this.stats.tcpRetransmits++;
        // Karn's algorithm: no RTT sample from a retransmitted range. RFC 6298 §3
        if (tcb.rttTiming(t) !== 0 && !seqLt(tcb.rttSeq(t), seq)) tcb.setRttTiming(t, 0);
      } else if (tcb.tsOk(t) === 0 && tcb.rttTiming(t) === 0) {
        tcb.setRttTiming(t, 1);
        tcb.setRttSeq(t, seq);
        tcb.setRttSentAt(t, this.clock.now);
      }
      if (seqGt(end, tcb.sndMax(t))) tcb.setSndMax(t, end);
      if (seqGt(end, tcb.sndNxt(t))) tcb.setSndNxt(t, end);
      // RFC 6298 (5.1): start the timer when sending data and it is not running.
      if (this.timers.rtoAt[t] < 0) this.timers.armRto(t, this.rtt.rtoMs(t));
    }
    return true;
  }

  /**
   * Sequence number for a segment without data or FIN: SND.MAX, or the right
   * edge of the peer's window when SND.MAX lies beyond it (Linux's
   * tcp_acceptable_seq). Never the rewound SND.NXT: the peer's RCV.NXT may be
   * past it, and two peers retransmitting at once would each find the other's
   * ACKs out of window and answer them forever.
   */
  ackSeq(t: number): Seq {
    const tcb = this.tcb;
    const edge = seqAdd(tcb.sndUna(t), tcb.sndWnd(t));
    return seqGt(tcb.sndMax(t), edge) ? edge : tcb.sndMax(t);
  }

  /**
   * Most payload one segment may carry: the MSS, or as many whole MSS as
   * the port cuts itself (TSO; Linux's tcp_tso_autosize sizes them so too).
   */
  maxSegmentPayload(mss: number): number {
    const tso = this.ip.tsoMaxPayload;
    return tso > mss ? tso - (tso % mss) : mss;
  }

  /** A segment carrying only our ACK. */
  ack(t: number): boolean {
    return this.segment(t, this.ackSeq(t), TCP_ACK, 0);
  }

  /** A RST|ACK for a connection we abort. RFC 9293 §3.10.5 */
  abortRst(t: number): boolean {
    if (!this.segment(t, this.ackSeq(t), TCP_RST | TCP_ACK, 0)) return false;
    this.stats.tcpRstSent++;
    return true;
  }

  /** Transmit `f` from `srcIp` to `dstIp` for no connection (a RST, a SYN cookie). Returns false when no TX slot was free. */
  stateless(f: TcpFields, srcIp: number, dstIp: number): boolean {
    const ip = this.ip;
    if (!ip.beginTcp(dstIp)) return false;
    const hlen = emitTcp(ip.txBuf, ip.txOff, f, srcIp, dstIp, 0, !ip.tcpChecksumOffload);
    ip.endTcp(srcIp, dstIp, hlen, 0);
    this.stats.tcpOutSegs++;
    return true;
  }
}

