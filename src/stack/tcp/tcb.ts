import { State } from './state.ts';
import { RttEstimator } from './rtt.ts';
import { SendBuffer } from './send-buffer.ts';
import { RecvBuffer } from './recv-buffer.ts';
import type { CongestionController } from './congestion/controller.ts';
import { SackScoreboard } from './sack-scoreboard.ts';

/**
 * Transmission control block: everything about one connection (RFC 9293
 * §3.3.1). Preallocated in a pool and reused; `reset()` returns it to a clean
 * CLOSED block. Variable names follow the RFC.
 */
export class Tcb {
  /** Index in the context's TCB pool (also its timer-wheel id). */
  readonly id: number;
  /** Current state; change only through TcpEngine.setState(). */
  state = State.Closed;
  /** Whether the block is allocated. */
  inUse = false;

  // Connection identity
  localIp = 0;
  localPort = 0;
  remoteIp = 0;
  remotePort = 0;
  /** Socket id the application holds, -1 once closed by the application (an orphan). */
  sockid = -1;
  /** Socket id of the listener that created this passive connection, -1 for active opens. */
  listenerSockid = -1;
  /** Whether the connection is in a listener's accept queue and not yet accepted. */
  inAcceptQueue = false;

  // Send sequence space, RFC 9293 §3.3.1
  /** Initial send sequence number. */
  iss = 0;
  /** Oldest unacknowledged sequence number. */
  sndUna = 0;
  /** Next sequence number to send. */
  sndNxt = 0;
  /** Highest sequence number sent plus one (sndNxt goes back on retransmission; this does not). */
  sndMax = 0;
  /** Send window the peer offered, bytes, already scaled. */
  sndWnd = 0;
  /** Largest window the peer ever offered, bytes (for the RFC 5961 §5.2 ACK check). */
  maxSndWnd = 0;
  /** Segment sequence number used for the last window update. */
  sndWl1 = 0;
  /** Segment acknowledgment number used for the last window update. */
  sndWl2 = 0;
  /** Shift applied to the peer's advertised window (RFC 7323 §2.3), 0 without scaling. */
  sndWscale = 0;
  /** Maximum segment size we may send (payload bytes, before options). */
  sndMss = 536;
  /** Whether the application asked to close the sending side (FIN queued). */
  finQueued = false;
  /** Whether our FIN has been sent at least once. */
  finSent = false;

  // Receive sequence space
  /** Initial receive sequence number. */
  irs = 0;
  /** Next sequence number expected. */
  rcvNxt = 0;
  /** Shift we apply to our advertised window, 0 without scaling. */
  rcvWscale = 0;
  /** Right edge of the window we last advertised (rcvNxt + window), never moved left. RFC 9293 §3.8.6 */
  rcvAdvRight = 0;
  /** Whether the peer's FIN has been received (in order). */
  finReceived = false;
  /** Sequence number of a FIN that arrived out of order, valid when oooFinPending. */
  oooFinSeq = 0;
  oooFinPending = false;
  /** Sequence number of the most recent out-of-order segment (its SACK block goes first). RFC 2018 §4 */
  lastOooSeq = 0;
  /** Full-sized segments received since the last ACK we sent. RFC 5681 §4.2 */
  unackedSegments = 0;

  // Options
  /** Timestamps negotiated. RFC 7323 */
  tsOk = false;
  /** TS.Recent: the timestamp to echo. RFC 7323 §4.3 */
  tsRecent = 0;
  /** Time (ms) TS.Recent was last updated, for the 24-day PAWS rule. RFC 7323 §5.5 */
  tsRecentAt = 0;
  /** Sequence number in the last ACK we sent (Last.ACK.sent). RFC 7323 §4.3 */
  lastAckSent = 0;
  /** Window scaling agreed by both sides. RFC 7323 §2.2 */
  wsOk = false;
  /** SACK permitted by both sides. RFC 2018 */
  sackOk = false;
  /** TCP_NODELAY: application asked to disable Nagle. */
  noDelay = false;

  // Output bookkeeping
  /** An ACK must be sent at the next flush (may ride on data). */
  ackPending = false;
  /** Whether this block is on the engine's output list. */
  inOutputList = false;

  // Loss recovery
  /** Consecutive duplicate ACKs. RFC 5681 §3.2 */
  dupAcks = 0;
  /** In fast recovery until sndUna passes `recover`. RFC 6582 */
  inRecovery = false;
  /** Highest sequence number sent when recovery started (or at the last timeout). RFC 6582 §3.2, RFC 6675 RecoveryPoint */
  recover = 0;
  /** After a timeout, duplicate ACKs start no fast retransmit until sndUna passes `recover`. RFC 6582 §3.2 step 1 */
  recoverAfterRto = false;
  /** What the peer SACKed above sndUna. RFC 6675 §3 */
  readonly sacked = new SackScoreboard();
  /** Highest sequence number retransmitted in this recovery, plus one. RFC 6675 §2 HighRxt */
  highRxt = 0;
  /**
   * SND.MAX when the segment at SND.UNA was last sent again. Once enough data
   * sent after that is SACKed while SND.UNA stays put, the retransmission was
   * lost too (Linux's tcp_mark_lost_retrans; RACK, RFC 8985, generalizes it).
   */
  firstRxtMark = 0;
  /** Retransmissions of the current oldest segment (reset when it is acknowledged). */
  retries = 0;
  /** Sequence number being timed for an RTT sample without timestamps (Karn), valid when rttTiming. */
  rttSeq = 0;
  /** When rttSeq was sent, ms. */
  rttSentAt = 0;
  rttTiming = false;
  /** Our timestamp clock at the last retransmission timeout: older echoes give no RTT sample. */
  rtoTsFloor = 0;
  readonly rtt = new RttEstimator();

  // Timers: deadlines in ms, -1 when not armed. The wheel holds one entry per TCB at the earliest.
  /** Retransmission (or persist) timer. RFC 6298 */
  rtoAt = -1;
  /** TIME_WAIT expiry, or an orphan's FIN_WAIT_2 timeout. */
  timeWaitAt = -1;
  /** A delayed ACK is due. RFC 5681 §4.2, RFC 1122 §4.2.3.2 */
  delayedAckAt = -1;
  /** Idle timeout (tcp_timeout): no segment received for that long fails the connection. */
  idleAt = -1;
  /** Next keepalive probe, -1 when keepalive is off. RFC 1122 §4.2.3.6 */
  keepaliveAt = -1;

  // Keepalive (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT)
  keepAlive = false;
  /** Idle time before the first probe, ms (Linux tcp_keepalive_time: 7200 s). */
  keepIdleMs = 7_200_000;
  /** Time between unanswered probes, ms (Linux tcp_keepalive_intvl: 75 s). */
  keepIntvlMs = 75_000;
  /** Unanswered probes before the connection fails (Linux tcp_keepalive_probes: 9). */
  keepCnt = 9;
  /** Probes sent since the peer was last heard from. */
  keepProbes = 0;

  /** When we last answered an unacceptable segment, ms (rate limit). */
  lastOowAckAt = -0x3fffffff;

  /** Pending error to report (ECONNRESET, ECONNREFUSED, ETIMEDOUT), 0 for none. */
  error = 0;
  /** Whether the connection was reset or failed (no further I/O). */
  failed = false;
  /** Time the block was allocated, ms. */
  openedAt = 0;

  readonly sndBuf = new SendBuffer();
  readonly rcvBuf = new RecvBuffer();

  constructor(id: number, readonly cc: CongestionController) {
    this.id = id;
  }

  /** Bytes sent and not yet acknowledged (sequence space, SYN/FIN included). */
  get flightSize(): number {
    return (this.sndMax - this.sndUna) | 0;
  }

  /** Return to a clean CLOSED block. Buffers must already be detached. */
  reset(): void {
    this.state = State.Closed;
    this.inUse = false;
    this.localIp = this.localPort = this.remoteIp = this.remotePort = 0;
    this.sockid = -1;
    this.listenerSockid = -1;
    this.inAcceptQueue = false;
    this.iss = this.sndUna = this.sndNxt = this.sndMax = 0;
    this.sndWnd = this.maxSndWnd = this.sndWl1 = this.sndWl2 = this.sndWscale = 0;
    this.sndMss = 536;
    this.finQueued = this.finSent = false;
    this.irs = this.rcvNxt = this.rcvWscale = this.rcvAdvRight = 0;
    this.finReceived = false;
    this.oooFinSeq = 0;
    this.oooFinPending = false;
    this.lastOooSeq = 0;
    this.unackedSegments = 0;
    this.tsOk = false;
    this.tsRecent = this.tsRecentAt = this.lastAckSent = 0;
    this.wsOk = false;
    this.sackOk = false;
    this.noDelay = false;
    this.ackPending = false;
    this.inOutputList = false;
    this.dupAcks = 0;
    this.inRecovery = false;
    this.recover = 0;
    this.recoverAfterRto = false;
    this.sacked.reset();
    this.highRxt = 0;
    this.firstRxtMark = 0;
    this.retries = 0;
    this.rttSeq = this.rttSentAt = 0;
    this.rttTiming = false;
    this.rtoTsFloor = 0;
    this.rtt.reset();
    this.rtoAt = this.timeWaitAt = this.idleAt = this.keepaliveAt = this.delayedAckAt = -1;
    this.keepAlive = false;
    this.keepIdleMs = 7_200_000;
    this.keepIntvlMs = 75_000;
    this.keepCnt = 9;
    this.keepProbes = 0;
    this.lastOowAckAt = -0x3fffffff;
    this.error = 0;
    this.failed = false;
    this.openedAt = 0;
  }
}
