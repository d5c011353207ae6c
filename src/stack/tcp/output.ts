/**
 * The sending half of a connection: which segments go out, built in place in
 * a TX frame. RFC 9293 §3.8, RFC 5681 (congestion window), RFC 6298 (timer).
 */
import { TCP_ACK, TCP_FIN, TCP_MAX_SACK_BLOCKS, TCP_PSH, TCP_RST, TCP_SYN, emitTcp, tcpHeaderLen, type TcpFields } from '../wire/tcp.ts';
import { seqAdd, seqDiff, seqGt, seqLt } from '../wire/seqnum.ts';
import { State } from './state.ts';
import type { Tcb } from './tcb.ts';
import type { TcpEngine } from './engine.ts';

/** Largest unscaled window field. RFC 9293 §3.1 */
const MAX_WINDOW_FIELD = 0xffff;

/** Sequence number of our FIN: right after the last byte of queued data. */
export function finSeq(t: Tcb): number {
  return seqAdd(t.sndUna, t.sndBuf.length);
}

/** Bytes queued but not yet sent (at sndNxt or later). */
export function unsentBytes(t: Tcb): number {
  const sentData = seqDiff(t.sndNxt, t.sndUna);
  const unsent = t.sndBuf.length - sentData;
  return unsent > 0 ? unsent : 0;
}

/**
 * Receiver-side silly window avoidance, RFC 9293 §3.8.6.2.2: the right edge
 * of the window we advertise moves only by at least min(buffer/2, MSS).
 */
export function windowStep(e: TcpEngine, t: Tcb): number {
  const half = t.rcvBuf.capacity >>> 1;
  const mss = e.effectiveMss(t);
  return half < mss ? half : mss;
}

/** The window to advertise, before scaling; its right edge never moves left (RFC 9293 §3.8.6). */
function receiveWindow(e: TcpEngine, t: Tcb): number {
  const free = t.rcvBuf.free;
  const advertised = seqDiff(t.rcvAdvRight, t.rcvNxt);
  const grow = free - (advertised > 0 ? advertised : 0);
  let wnd = grow >= windowStep(e, t) ? free : advertised;
  if (wnd < 0) wnd = 0;
  const max = MAX_WINDOW_FIELD << t.rcvWscale;
  return wnd > max ? max : wnd;
}

/**
 * SACK blocks for the out-of-order data we hold, the block holding the most
 * recently received segment first. RFC 2018 §4. Returns the count (the
 * option writer keeps those that fit).
 */
function fillSackBlocks(t: Tcb, f: TcpFields): number {
  const rb = t.rcvBuf;
  const n = rb.oooCount;
  if (n === 0) return 0;
  let count = 0;
  const recent = seqDiff(t.lastOooSeq, t.rcvNxt);
  for (let i = 0; i < n && count < TCP_MAX_SACK_BLOCKS; i++) {
    if (recent >= rb.oooStart(i) && recent < rb.oooEnd(i)) {
      f.sackLeft[0] = seqAdd(t.rcvNxt, rb.oooStart(i));
      f.sackRight[0] = seqAdd(t.rcvNxt, rb.oooEnd(i));
      count = 1;
      break;
    }
  }
  for (let i = 0; i < n && count < TCP_MAX_SACK_BLOCKS; i++) {
    const left = seqAdd(t.rcvNxt, rb.oooStart(i));
    if (count > 0 && f.sackLeft[0] === left) continue;
    f.sackLeft[count] = left;
    f.sackRight[count] = seqAdd(t.rcvNxt, rb.oooEnd(i));
    count++;
  }
  return count;
}

/**
 * Build and transmit one segment. `dataLen` payload bytes come from the send
 * buffer at `seq`. Returns false when no TX slot was free (nothing changed).
 */
export function sendSegment(e: TcpEngine, t: Tcb, seq: number, flags: number, dataLen: number): boolean {
  const f = e.out;
  const syn = (flags & TCP_SYN) !== 0;
  f.srcPort = t.localPort;
  f.dstPort = t.remotePort;
  f.seq = seq;
  f.ack = flags & TCP_ACK ? t.rcvNxt : 0;
  f.flags = flags;
  f.urgent = 0;
  // Nothing was advertised before a SYN: it offers the free buffer.
  let wnd = syn ? t.rcvBuf.free : receiveWindow(e, t);
  if (syn) {
    // The window in a SYN is never scaled. RFC 7323 §2.2
    f.window = wnd > MAX_WINDOW_FIELD ? MAX_WINDOW_FIELD : wnd;
    // A SYN offers every option; a SYN|ACK echoes only what the peer offered. RFC 7323 §2.2, RFC 2018 §2
    const offer = t.state === State.SynSent;
    f.mss = e.localMss;
    f.wscale = offer || t.wsOk ? t.rcvWscale : -1;
    f.sackPermitted = offer ? e.config.sack !== false : t.sackOk;
    f.hasTimestamp = offer || t.tsOk;
  } else {
    wnd >>>= t.rcvWscale;
    f.window = wnd;
    wnd <<= t.rcvWscale;
    f.mss = -1;
    f.wscale = -1;
    f.sackPermitted = false;
    f.hasTimestamp = t.tsOk;
  }
  f.tsVal = e.tsNow();
  f.tsEcr = flags & TCP_ACK ? t.tsRecent : 0;
  f.sackCount = flags & TCP_ACK && t.sackOk && !syn ? fillSackBlocks(t, f) : 0;

  const hlen = tcpHeaderLen(f);
  if (!e.ip.beginTcp(t.remoteIp)) return false;
  const buf = e.ip.txBuf;
  const off = e.ip.txOff;
  if (dataLen > 0) t.sndBuf.copyOut(seqDiff(seq, t.sndUna), buf, off + hlen, dataLen);
  emitTcp(buf, off, f, t.localIp, t.remoteIp, dataLen, !e.ip.tcpChecksumOffload);
  e.ip.endTcp(t.localIp, t.remoteIp, hlen + dataLen);
  e.stats.tcpOutSegs++;

  if (flags & TCP_ACK) {
    t.lastAckSent = t.rcvNxt;
    t.ackPending = false;
    t.delayedAckAt = -1;
    t.unackedSegments = 0;
    if (!syn) {
      const right = seqAdd(t.rcvNxt, wnd);
      if (seqGt(right, t.rcvAdvRight)) t.rcvAdvRight = right;
    } else {
      t.rcvAdvRight = seqAdd(t.rcvNxt, f.window);
    }
  }

  const seqLen = dataLen + (syn ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
  if (seqLen > 0) {
    const end = seqAdd(seq, seqLen);
    const retransmission = seqLt(seq, t.sndMax);
    if (retransmission) {
      e.stats.tcpRetransmits++;
      // Karn's algorithm: no RTT sample from a retransmitted range. RFC 6298 §3
      if (t.rttTiming && !seqLt(t.rttSeq, seq)) t.rttTiming = false;
    } else if (!t.tsOk && !t.rttTiming) {
      t.rttTiming = true;
      t.rttSeq = seq;
      t.rttSentAt = e.now;
    }
    if (seqGt(end, t.sndMax)) t.sndMax = end;
    if (seqGt(end, t.sndNxt)) t.sndNxt = end;
    // RFC 6298 (5.1): start the timer when sending data and it is not running.
    if (t.rtoAt < 0) e.armRto(t);
  }
  return true;
}

/**
 * Sequence number for a segment without data or FIN: sndMax, or the right
 * edge of the peer's window when sndMax lies beyond it (Linux's
 * tcp_acceptable_seq). Never the rewound sndNxt: the peer's RCV.NXT may be
 * past it, and two peers retransmitting at once would each find the other's
 * ACKs out of window and answer them forever.
 */
function ackSeq(t: Tcb): number {
  const edge = seqAdd(t.sndUna, t.sndWnd);
  return seqGt(t.sndMax, edge) ? edge : t.sndMax;
}

export function sendAck(e: TcpEngine, t: Tcb): boolean {
  return sendSegment(e, t, ackSeq(t), TCP_ACK, 0);
}

/** Send a RST|ACK for a connection we abort. RFC 9293 §3.10.5 */
export function sendAbortRst(e: TcpEngine, t: Tcb): void {
  if (sendSegment(e, t, ackSeq(t), TCP_RST | TCP_ACK, 0)) e.stats.tcpRstSent++;
}

/**
 * Send what the connection has to send: the SYN or SYN|ACK, new data within
 * min(send window, cwnd), our FIN, or a pure ACK. Returns false when it ran
 * out of TX slots (the caller keeps the block on the output list).
 */
export function output(e: TcpEngine, t: Tcb): boolean {
  switch (t.state) {
    case State.Closed:
    case State.Listen:
    case State.TimeWait:
      if (t.ackPending && t.state === State.TimeWait) return sendAck(e, t);
      return true;
    case State.SynSent:
      if (t.sndNxt === t.iss) return sendSegment(e, t, t.iss, TCP_SYN, 0);
      return true;
    case State.SynReceived:
      if (t.sndNxt === t.iss) return sendSegment(e, t, t.iss, TCP_SYN | TCP_ACK, 0);
      if (t.ackPending) return sendAck(e, t);
      return true;
    default:
      break;
  }

  const segsBefore = e.stats.tcpOutSegs;
  // Our FIN is still unacknowledged only in these states.
  const finPending = t.finQueued && (t.state === State.FinWait1 || t.state === State.Closing || t.state === State.LastAck);
  const mss = e.effectiveMss(t);
  const sackRecovery = t.inRecovery && t.sackOk;
  // What congestion control lets us send beyond sndNxt.
  let cwndRoom: number;
  if (sackRecovery) {
    cwndRoom = retransmitLost(e, t, mss);
    if (cwndRoom === OUT_OF_SLOTS) return false;
  } else {
    // Limited transmit: the first two duplicate ACKs may each release one new segment beyond cwnd. RFC 3042 §2
    const cwnd = t.cc.cwnd + (t.dupAcks > 0 && t.dupAcks < 3 && !t.inRecovery ? t.dupAcks * mss : 0);
    cwndRoom = seqDiff(seqAdd(t.sndUna, cwnd), t.sndNxt);
  }
  // Usable window, RFC 5681 §2 (may be negative after the window shrank)
  const wndRoom = seqDiff(seqAdd(t.sndUna, t.sndWnd), t.sndNxt);
  let usable = wndRoom < cwndRoom ? wndRoom : cwndRoom;
  let unsent = unsentBytes(t);
  const fin = finPending ? finSeq(t) : -1;
  while (unsent > 0 && usable > 0) {
    let n = unsent < mss ? unsent : mss;
    if (n > usable) n = usable;
    if (t.sacked.count > 0 && seqLt(t.sndNxt, t.sndMax)) {
      // Going back after a timeout: what the peer SACKed need not be sent again. RFC 6675 §5.1
      const skipTo = t.sacked.skipSacked(t.sndNxt);
      if (skipTo !== t.sndNxt) {
        const d = seqDiff(skipTo, t.sndNxt);
        t.sndNxt = skipTo;
        unsent -= d;
        usable -= d;
        continue;
      }
      const room = seqDiff(t.sacked.nextSackedAfter(t.sndNxt, t.sndMax), t.sndNxt);
      if (n > room) n = room;
    }
    const last = n === unsent;
    // Silly window avoidance and Nagle decide when new data leaves; data going out again after a
    // timeout was sent once already and is not held back.
    const fresh = !seqLt(t.sndNxt, t.sndMax);
    // Sender-side silly window avoidance: a piece smaller than the MSS, cut short by the window rather
    // than by the end of the data, waits until it is at least half the largest window the peer
    // offered; the persist timer overrides. RFC 9293 §3.8.6.2.1
    if (fresh && n < mss && !last && n < t.maxSndWnd >>> 1) break;
    // Nagle: while data is unacknowledged, hold back a segment smaller than the MSS (RFC 896,
    // RFC 1122 §4.2.3.4), unless TCP_NODELAY; the FIN is not held.
    if (fresh && n < mss && !t.noDelay && t.sndNxt !== t.sndUna && !(last && finPending) && !sackRecovery) break;
    let flags = TCP_ACK;
    if (last) flags |= TCP_PSH;
    // Piggyback our FIN on the last data segment.
    if (last && finPending) flags |= TCP_FIN;
    if (!sendSegment(e, t, t.sndNxt, flags, n)) return false;
    if (flags & TCP_FIN) t.finSent = true;
    unsent -= n;
    usable -= n;
    cwndRoom -= n;
  }
  if (finPending && t.sndNxt === fin && unsent === 0) {
    // FIN after all data, window or not (as Linux does).
    if (!sendSegment(e, t, t.sndNxt, TCP_ACK | TCP_FIN, 0)) return false;
    t.finSent = true;
  }
  // RFC 6675 §4 NextSeg (3): no new data to send, so retransmit holes not yet presumed lost.
  if (sackRecovery && unsent <= 0 && !retransmitUnsacked(e, t, mss, cwndRoom)) return false;
  if (unsent > 0 && t.sndMax === t.sndUna && t.rtoAt < 0) {
    // Data held by a zero or silly window with nothing in flight: the persist timer takes over. RFC 9293 §3.8.6.1
    e.armRto(t);
  }
  if (e.stats.tcpOutSegs === segsBefore && t.ackPending) return sendAck(e, t);
  return true;
}

/**
 * The persist timer found data held back by the peer's window. A zero window
 * gets a probe: like Linux (tcp_xmit_probe_skb) an ACK carrying the already
 * acknowledged SND.UNA-1, which takes no sequence space the peer may refuse
 * and which the peer answers with its current window (RFC 9293 §3.8.6.1). A
 * small window gets what fits: the override of silly window avoidance
 * (RFC 9293 §3.8.6.2.1). Returns whether it was a zero-window probe.
 */
export function persistProbe(e: TcpEngine, t: Tcb): boolean {
  const room = seqDiff(seqAdd(t.sndUna, t.sndWnd), t.sndNxt);
  if (room <= 0) {
    sendSegment(e, t, seqAdd(t.sndUna, -1), TCP_ACK, 0);
    return true;
  }
  const unsent = unsentBytes(t);
  const mss = e.effectiveMss(t);
  let n = room < unsent ? room : unsent;
  if (n > mss) n = mss;
  sendSegment(e, t, t.sndNxt, n === unsent ? TCP_ACK | TCP_PSH : TCP_ACK, n);
  return false;
}

/** retransmitLost's answer when the TX ring is full. */
const OUT_OF_SLOTS = -0x40000000;

/**
 * Retransmit up to one MSS of sequence space from `seq`, stopping before
 * `limit` (the next SACKed range, or SND.MAX); our FIN rides on the segment
 * that reaches it. Returns the sequence space sent (0: nothing to send), or
 * OUT_OF_SLOTS.
 */
function retransmitFrom(e: TcpEngine, t: Tcb, seq: number, limit: number, mss: number): number {
  const fin = finSeq(t);
  let n = seqDiff(seqLt(limit, fin) ? limit : fin, seq);
  if (n > mss) n = mss;
  if (n < 0) n = 0;
  let flags = TCP_ACK;
  if (t.finSent && seqGt(t.sndMax, fin) && seqAdd(seq, n) === fin && seqGt(limit, fin)) flags |= TCP_FIN;
  if (n === 0 && !(flags & TCP_FIN)) return 0;
  if (!sendSegment(e, t, seq, flags, n)) return OUT_OF_SLOTS;
  return flags & TCP_FIN ? n + 1 : n;
}

/**
 * Bytes in the network during SACK recovery (RFC 6675 §4 SetPipe): unSACKed
 * octets not presumed lost, plus those retransmitted in this recovery.
 */
function pipe(t: Tcb, lostBelow: number): number {
  return t.sacked.unsackedBetween(lostBelow, t.sndMax) + t.sacked.unsackedBetween(t.sndUna, t.highRxt);
}

/**
 * RFC 6675 §5 step (C) with NextSeg rule (1): while cwnd - pipe leaves room
 * for a segment, retransmit the first hole presumed lost above HighRxt.
 * Returns the room left, or OUT_OF_SLOTS.
 */
function retransmitLost(e: TcpEngine, t: Tcb, mss: number): number {
  const lostBelow = t.sacked.count > 0 ? t.sacked.lossBoundary(t.sndUna, mss) : t.sndUna;
  let room = t.cc.cwnd - pipe(t, lostBelow);
  while (room >= mss) {
    const from = t.sacked.skipSacked(seqGt(t.highRxt, t.sndUna) ? t.highRxt : t.sndUna);
    if (!seqLt(from, lostBelow)) break;
    const sent = retransmitFrom(e, t, from, t.sacked.nextSackedAfter(from, t.sndMax), mss);
    if (sent === OUT_OF_SLOTS) return OUT_OF_SLOTS;
    if (sent === 0) break;
    t.highRxt = seqAdd(from, sent);
    room -= sent;
  }
  return room;
}

/** NextSeg rule (3): retransmit unSACKed data below the highest SACKed octet. Returns false when out of TX slots. */
function retransmitUnsacked(e: TcpEngine, t: Tcb, mss: number, room: number): boolean {
  if (t.sacked.count === 0) return true;
  const highest = t.sacked.highestSacked;
  while (room >= mss) {
    const from = t.sacked.skipSacked(seqGt(t.highRxt, t.sndUna) ? t.highRxt : t.sndUna);
    if (!seqLt(from, highest)) break;
    const sent = retransmitFrom(e, t, from, t.sacked.nextSackedAfter(from, t.sndMax), mss);
    if (sent === OUT_OF_SLOTS) return false;
    if (sent === 0) break;
    t.highRxt = seqAdd(from, sent);
    room -= sent;
  }
  return true;
}

/**
 * Retransmit the oldest unacknowledged segment: fast retransmit and NewReno's
 * partial ACKs (RFC 5681 §3.2, RFC 6582), the first segment of SACK recovery
 * (RFC 6675 §5 step 4.3).
 */
export function retransmitFirst(e: TcpEngine, t: Tcb): void {
  const sent = retransmitFrom(e, t, t.sndUna, t.sacked.nextSackedAfter(t.sndUna, t.sndMax), e.effectiveMss(t));
  if (sent > 0 && seqGt(seqAdd(t.sndUna, sent), t.highRxt)) t.highRxt = seqAdd(t.sndUna, sent);
  t.firstRxtMark = t.sndMax;
}
