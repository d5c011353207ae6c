/**
 * The transmission control blocks of one context (RFC 9293 §3.3.1), as
 * columns: field f of connection t is `tcb.f[t]`, a typed array indexed by
 * the connection's id. A million connections are a few hundred typed
 * arrays' worth of memory that the garbage collector never walks, the pages
 * of ids never used are never touched, and a segment's processing reads and
 * writes numbers, not objects.
 *
 * The fields are grouped by the role that owns them (writes them); the other
 * roles read them. State that belongs to one role alone lives with it: the
 * buffers (send-buffer.ts, recv-buffer.ts), the RTT estimator (rtt.ts), the
 * congestion window (congestion/), the SACK scoreboard (recovery.ts) and the
 * timers (timers.ts). Booleans are Uint8Array 0/1.
 */
import { SlotAllocator } from '../slot-allocator.ts';
import { asSeq, asTsVal, seqArray, tsValArray, type SeqArray, type TsValArray } from '../wire/seqnum.ts';
import { State } from './state.ts';

/** Default MSS until the peer's MSS option says more. RFC 9293 §3.7.1 */
export const DEFAULT_MSS = 536;

const SEQ_ZERO = asSeq(0);
const TS_ZERO = asTsVal(0);

export class TcbTable {
  /** Ids are 0..capacity-1. */
  readonly capacity: number;
  readonly #ids: SlotAllocator;

  // ---- identity and life (lifecycle.ts, listener.ts, socket-ops.ts) ----
  /** RFC 9293 §3.3.2 state; changed only through Lifecycle.setState. */
  readonly state: Uint8Array;
  /** Whether the id is allocated. */
  readonly inUse: Uint8Array;
  /** Local address (int32) and port. */
  readonly localIp: Int32Array;
  readonly localPort: Int32Array;
  /** Remote address (int32) and port. */
  readonly remoteIp: Int32Array;
  readonly remotePort: Int32Array;
  /** Socket id the application holds, -1 once the application closed it (an orphan) or before accept. */
  readonly sockid: Int32Array;
  /** Socket id of the listener that created this passive connection, -1 for active opens. */
  readonly listenerSockid: Int32Array;
  /** In a listener's accept queue, not yet accepted. */
  readonly inAcceptQueue: Uint8Array;
  /** The connection failed (reset, refused, timed out): no further I/O. */
  readonly failed: Uint8Array;
  /** Error to report (ECONNRESET, ECONNREFUSED, ETIMEDOUT), 0 for none; reading SO_ERROR clears it. */
  readonly error: Int32Array;

  // ---- options agreed in the handshake (handshake in segment-arrival.ts, listener.ts) ----
  /** Timestamps negotiated. RFC 7323 */
  readonly tsOk: Uint8Array;
  /** Window scaling agreed by both sides. RFC 7323 §2.2 */
  readonly wsOk: Uint8Array;
  /** SACK permitted by both sides. RFC 2018 */
  readonly sackOk: Uint8Array;
  /** Shift applied to the peer's advertised window (RFC 7323 §2.3), 0 without scaling. */
  readonly sndWscale: Uint8Array;
  /** Shift we apply to our advertised window, 0 without scaling. */
  readonly rcvWscale: Uint8Array;
  /** Maximum segment size we may send (payload bytes, before options). */
  readonly sndMss: Int32Array;

  // ---- send sequence space, RFC 9293 §3.3.1 (sender.ts) ----
  /** Initial send sequence number. */
  readonly iss: SeqArray;
  /** Oldest unacknowledged sequence number. */
  readonly sndUna: SeqArray;
  /** Next sequence number to send (goes back to SND.UNA after a timeout). */
  readonly sndNxt: SeqArray;
  /** Highest sequence number sent plus one. */
  readonly sndMax: SeqArray;
  /** Send window the peer offered, bytes, already scaled. */
  readonly sndWnd: Int32Array;
  /** Largest window the peer ever offered, bytes (RFC 5961 §5.2's ACK check, sender-side SWS). */
  readonly maxSndWnd: Int32Array;
  /** Segment sequence number used for the last window update. */
  readonly sndWl1: SeqArray;
  /** Segment acknowledgment number used for the last window update. */
  readonly sndWl2: SeqArray;
  /** The application closed the sending side: a FIN is queued after the data. */
  readonly finQueued: Uint8Array;
  /** Our FIN has been sent at least once. */
  readonly finSent: Uint8Array;
  /** TCP_NODELAY: the application turned Nagle off. */
  readonly noDelay: Uint8Array;
  /** Retransmissions of the current oldest segment (reset when it is acknowledged). */
  readonly retries: Int32Array;
  /** Sequence number timed for an RTT sample without timestamps (Karn), valid while rttTiming. */
  readonly rttSeq: SeqArray;
  /** When rttSeq was sent, ms. */
  readonly rttSentAt: Float64Array;
  readonly rttTiming: Uint8Array;
  /** Our timestamp clock at the last retransmission timeout: older echoes give no RTT sample. */
  readonly rtoTsFloor: TsValArray;

  // ---- receive sequence space (receiver.ts) ----
  /** Initial receive sequence number. */
  readonly irs: SeqArray;
  /** Next sequence number expected. */
  readonly rcvNxt: SeqArray;
  /** Right edge of the window we last advertised (rcvNxt + window), never moved left. RFC 9293 §3.8.6 */
  readonly rcvAdvRight: SeqArray;
  /** The peer's FIN was received in order. */
  readonly finReceived: Uint8Array;
  /** A FIN arrived before data ahead of it: its sequence number, valid while oooFinPending. */
  readonly oooFinSeq: SeqArray;
  readonly oooFinPending: Uint8Array;
  /** Sequence number of the latest out-of-order segment (its SACK block goes first). RFC 2018 §4 */
  readonly lastOooSeq: SeqArray;
  /** Full-sized segments received since the last ACK we sent. RFC 5681 §4.2 */
  readonly unackedSegments: Int32Array;
  /** TS.Recent: the timestamp to echo. RFC 7323 §4.3 */
  readonly tsRecent: TsValArray;
  /** Time (ms) TS.Recent was last updated, for the 24-day PAWS rule. RFC 7323 §5.5 */
  readonly tsRecentAt: Float64Array;
  /** Sequence number in the last ACK we sent (Last.ACK.sent). RFC 7323 §4.3 */
  readonly lastAckSent: SeqArray;
  /** When we last answered an unacceptable segment, ms (rate limit). */
  readonly lastOowAckAt: Float64Array;

  // ---- what the next flush owes the peer (decided during input, sent after the burst; engine.ts) ----
  /** An ACK is owed (it may ride on data). */
  readonly ackNow: Uint8Array;
  /**
   * Duplicate ACKs owed beyond that one: each out-of-order segment of the
   * burst is answered by its own ACK (RFC 5681 §4.2), which the sender's
   * duplicate-ACK count (RFC 5681 §3.2) relies on.
   */
  readonly dupAcksOwed: Int32Array;
  /** A RST is owed for a connection this context aborted; the block is released once it is sent. */
  readonly rstOwed: Uint8Array;
  /** The block is on the output list. */
  readonly inOutputList: Uint8Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#ids = new SlotAllocator(capacity);
    this.state = new Uint8Array(capacity);
    this.inUse = new Uint8Array(capacity);
    this.localIp = new Int32Array(capacity);
    this.localPort = new Int32Array(capacity);
    this.remoteIp = new Int32Array(capacity);
    this.remotePort = new Int32Array(capacity);
    this.sockid = new Int32Array(capacity);
    this.listenerSockid = new Int32Array(capacity);
    this.inAcceptQueue = new Uint8Array(capacity);
    this.failed = new Uint8Array(capacity);
    this.error = new Int32Array(capacity);
    this.tsOk = new Uint8Array(capacity);
    this.wsOk = new Uint8Array(capacity);
    this.sackOk = new Uint8Array(capacity);
    this.sndWscale = new Uint8Array(capacity);
    this.rcvWscale = new Uint8Array(capacity);
    this.sndMss = new Int32Array(capacity);
    this.iss = seqArray(capacity);
    this.sndUna = seqArray(capacity);
    this.sndNxt = seqArray(capacity);
    this.sndMax = seqArray(capacity);
    this.sndWnd = new Int32Array(capacity);
    this.maxSndWnd = new Int32Array(capacity);
    this.sndWl1 = seqArray(capacity);
    this.sndWl2 = seqArray(capacity);
    this.finQueued = new Uint8Array(capacity);
    this.finSent = new Uint8Array(capacity);
    this.noDelay = new Uint8Array(capacity);
    this.retries = new Int32Array(capacity);
    this.rttSeq = seqArray(capacity);
    this.rttSentAt = new Float64Array(capacity);
    this.rttTiming = new Uint8Array(capacity);
    this.rtoTsFloor = tsValArray(capacity);
    this.irs = seqArray(capacity);
    this.rcvNxt = seqArray(capacity);
    this.rcvAdvRight = seqArray(capacity);
    this.finReceived = new Uint8Array(capacity);
    this.oooFinSeq = seqArray(capacity);
    this.oooFinPending = new Uint8Array(capacity);
    this.lastOooSeq = seqArray(capacity);
    this.unackedSegments = new Int32Array(capacity);
    this.tsRecent = tsValArray(capacity);
    this.tsRecentAt = new Float64Array(capacity);
    this.lastAckSent = seqArray(capacity);
    this.lastOowAckAt = new Float64Array(capacity);
    this.ackNow = new Uint8Array(capacity);
    this.dupAcksOwed = new Int32Array(capacity);
    this.rstOwed = new Uint8Array(capacity);
    this.inOutputList = new Uint8Array(capacity);
  }

  /** Ids in use (any state, orphans and blocks waiting to send a last RST included). */
  get inUseCount(): number {
    return this.#ids.inUse;
  }

  /** A clean CLOSED block, or -1 when every id is taken. */
  allocate(): number {
    const t = this.#ids.alloc();
    if (t < 0) return -1;
    this.#clear(t);
    this.inUse[t] = 1;
    return t;
  }

  /** Give the id back; the caller has unlinked it from every table and timer. */
  release(t: number): void {
    this.inUse[t] = 0;
    this.state[t] = State.Closed;
    this.#ids.free(t);
  }

  /** Every field of a fresh CLOSED block. */
  #clear(t: number): void {
    this.state[t] = State.Closed;
    this.localIp[t] = this.localPort[t] = this.remoteIp[t] = this.remotePort[t] = 0;
    this.sockid[t] = -1;
    this.listenerSockid[t] = -1;
    this.inAcceptQueue[t] = 0;
    this.failed[t] = 0;
    this.error[t] = 0;
    this.tsOk[t] = this.wsOk[t] = this.sackOk[t] = 0;
    this.sndWscale[t] = this.rcvWscale[t] = 0;
    this.sndMss[t] = DEFAULT_MSS;
    this.iss[t] = this.sndUna[t] = this.sndNxt[t] = this.sndMax[t] = this.sndWl1[t] = this.sndWl2[t] = this.rttSeq[t] = this.irs[t] =
      this.rcvNxt[t] = this.rcvAdvRight[t] = this.oooFinSeq[t] = this.lastOooSeq[t] = this.lastAckSent[t] = SEQ_ZERO;
    this.sndWnd[t] = this.maxSndWnd[t] = 0;
    this.finQueued[t] = this.finSent[t] = this.noDelay[t] = 0;
    this.retries[t] = 0;
    this.rttSentAt[t] = 0;
    this.rttTiming[t] = 0;
    this.rtoTsFloor[t] = this.tsRecent[t] = TS_ZERO;
    this.finReceived[t] = this.oooFinPending[t] = 0;
    this.unackedSegments[t] = 0;
    this.tsRecentAt[t] = 0;
    this.lastOowAckAt[t] = -0x3fffffff;
    this.ackNow[t] = 0;
    this.dupAcksOwed[t] = 0;
    this.rstOwed[t] = 0;
    this.inOutputList[t] = 0;
  }
}

/** Payload bytes per segment of connection t: the MSS less the timestamp option when in use. */
export function effectiveMss(tcb: TcbTable, t: number): number {
  return tcb.tsOk[t] !== 0 ? tcb.sndMss[t] - 12 : tcb.sndMss[t];
}
