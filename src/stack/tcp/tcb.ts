/**
 * The transmission control blocks of one context (RFC 9293 §3.3.1), as rows
 * of one ArrayBuffer: connection t's fields sit together in row t
 * (TCB_ROW_BYTES), read with `tcb.f(t)` and written with `tcb.setF(t, v)`.
 * A million connections are one buffer the garbage collector never walks,
 * the pages of ids never used are never touched, and a segment's processing
 * reads and writes numbers, not objects, from three cache lines: a column
 * per field (the earlier layout) cost a cache line per field read, twice
 * the L1 misses of an object per connection (docs/performance.md).
 *
 * The fields are grouped by the role that owns them (writes them); the other
 * roles read them. State that belongs to one role alone lives with it: the
 * buffers (send-buffer.ts, recv-buffer.ts), the RTT estimator (rtt.ts), the
 * congestion window (congestion/), the SACK scoreboard (recovery.ts) and the
 * timers (timers.ts). Booleans are Uint8Array 0/1.
 */
import { SlotAllocator } from '../slot-allocator.ts';
import type { Seq, TsVal } from '../wire/seqnum.ts';
import { State } from './state.ts';

/** Default MSS until the peer's MSS option says more. RFC 9293 §3.7.1 */
export const DEFAULT_MSS = 536;

/** Bytes of one connection's row: its fields at fixed offsets, bytes first, then int32s, then float64s. */
const TCB_ROW_BYTES = 160;

export class TcbTable {
  /** Ids are 0..capacity-1. */
  readonly capacity: number;
  readonly #ids: SlotAllocator;
  /**
   * The rows, TCB_ROW_BYTES each, as bytes, int32s and float64s: read and
   * write them only through the accessors below. (Public fields, not
   * private: a setter then stays within the 27 bytes of bytecode that V8
   * always inlines.)
   */
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#ids = new SlotAllocator(capacity);
    const rows = new ArrayBuffer(capacity * TCB_ROW_BYTES);
    this.u8 = new Uint8Array(rows);
    this.i32 = new Int32Array(rows);
    this.f64 = new Float64Array(rows);
  }

  // ---- identity and life (lifecycle.ts, listener.ts, socket-ops.ts) ----
  /** RFC 9293 §3.3.2 state; changed only through Lifecycle.setState. */
  state(t: number): number {
    return this.u8[t * 160 + 0];
  }

  setState(t: number, v: number): void {
    this.u8[t * 160 + 0] = v;
  }

  /** Whether the id is allocated. */
  inUse(t: number): number {
    return this.u8[t * 160 + 1];
  }

  setInUse(t: number, v: number): void {
    this.u8[t * 160 + 1] = v;
  }

  /** Local address (int32) and port. */
  localIp(t: number): number {
    return this.i32[t * 40 + 5];
  }

  setLocalIp(t: number, v: number): void {
    this.i32[t * 40 + 5] = v;
  }

  localPort(t: number): number {
    return this.i32[t * 40 + 6];
  }

  setLocalPort(t: number, v: number): void {
    this.i32[t * 40 + 6] = v;
  }

  /** Remote address (int32) and port. */
  remoteIp(t: number): number {
    return this.i32[t * 40 + 7];
  }

  setRemoteIp(t: number, v: number): void {
    this.i32[t * 40 + 7] = v;
  }

  remotePort(t: number): number {
    return this.i32[t * 40 + 8];
  }

  setRemotePort(t: number, v: number): void {
    this.i32[t * 40 + 8] = v;
  }

  /** Socket id the application holds, -1 once the application closed it (an orphan) or before accept. */
  sockid(t: number): number {
    return this.i32[t * 40 + 9];
  }

  setSockid(t: number, v: number): void {
    this.i32[t * 40 + 9] = v;
  }

  /** Socket id of the listener that created this passive connection, -1 for active opens. */
  listenerSockid(t: number): number {
    return this.i32[t * 40 + 10];
  }

  setListenerSockid(t: number, v: number): void {
    this.i32[t * 40 + 10] = v;
  }

  /** In a listener's accept queue, not yet accepted. */
  inAcceptQueue(t: number): number {
    return this.u8[t * 160 + 2];
  }

  setInAcceptQueue(t: number, v: number): void {
    this.u8[t * 160 + 2] = v;
  }

  /** The connection failed (reset, refused, timed out): no further I/O. */
  failed(t: number): number {
    return this.u8[t * 160 + 3];
  }

  setFailed(t: number, v: number): void {
    this.u8[t * 160 + 3] = v;
  }

  /** Error to report (ECONNRESET, ECONNREFUSED, ETIMEDOUT), 0 for none; reading SO_ERROR clears it. */
  error(t: number): number {
    return this.i32[t * 40 + 11];
  }

  setError(t: number, v: number): void {
    this.i32[t * 40 + 11] = v;
  }


  // ---- options agreed in the handshake (handshake in segment-arrival.ts, listener.ts) ----
  /** Timestamps negotiated. RFC 7323 */
  tsOk(t: number): number {
    return this.u8[t * 160 + 4];
  }

  setTsOk(t: number, v: number): void {
    this.u8[t * 160 + 4] = v;
  }

  /** Window scaling agreed by both sides. RFC 7323 §2.2 */
  wsOk(t: number): number {
    return this.u8[t * 160 + 5];
  }

  setWsOk(t: number, v: number): void {
    this.u8[t * 160 + 5] = v;
  }

  /** SACK permitted by both sides. RFC 2018 */
  sackOk(t: number): number {
    return this.u8[t * 160 + 6];
  }

  setSackOk(t: number, v: number): void {
    this.u8[t * 160 + 6] = v;
  }

  /** Shift applied to the peer's advertised window (RFC 7323 §2.3), 0 without scaling. */
  sndWscale(t: number): number {
    return this.u8[t * 160 + 7];
  }

  setSndWscale(t: number, v: number): void {
    this.u8[t * 160 + 7] = v;
  }

  /** Shift we apply to our advertised window, 0 without scaling. */
  rcvWscale(t: number): number {
    return this.u8[t * 160 + 8];
  }

  setRcvWscale(t: number, v: number): void {
    this.u8[t * 160 + 8] = v;
  }

  /** Maximum segment size we may send (payload bytes, before options). */
  sndMss(t: number): number {
    return this.i32[t * 40 + 12];
  }

  setSndMss(t: number, v: number): void {
    this.i32[t * 40 + 12] = v;
  }


  // ---- send sequence space, RFC 9293 §3.3.1 (sender.ts) ----
  /** Initial send sequence number. */
  iss(t: number): Seq {
    return this.i32[t * 40 + 13] as unknown as Seq;
  }

  setIss(t: number, v: Seq): void {
    this.i32[t * 40 + 13] = v as unknown as number;
  }

  /** Oldest unacknowledged sequence number. */
  sndUna(t: number): Seq {
    return this.i32[t * 40 + 14] as unknown as Seq;
  }

  setSndUna(t: number, v: Seq): void {
    this.i32[t * 40 + 14] = v as unknown as number;
  }

  /** Next sequence number to send (goes back to SND.UNA after a timeout). */
  sndNxt(t: number): Seq {
    return this.i32[t * 40 + 15] as unknown as Seq;
  }

  setSndNxt(t: number, v: Seq): void {
    this.i32[t * 40 + 15] = v as unknown as number;
  }

  /** Highest sequence number sent plus one. */
  sndMax(t: number): Seq {
    return this.i32[t * 40 + 16] as unknown as Seq;
  }

  setSndMax(t: number, v: Seq): void {
    this.i32[t * 40 + 16] = v as unknown as number;
  }

  /** Send window the peer offered, bytes, already scaled. */
  sndWnd(t: number): number {
    return this.i32[t * 40 + 17];
  }

  setSndWnd(t: number, v: number): void {
    this.i32[t * 40 + 17] = v;
  }

  /** Largest window the peer ever offered, bytes (RFC 5961 §5.2's ACK check, sender-side SWS). */
  maxSndWnd(t: number): number {
    return this.i32[t * 40 + 18];
  }

  setMaxSndWnd(t: number, v: number): void {
    this.i32[t * 40 + 18] = v;
  }

  /** Segment sequence number used for the last window update. */
  sndWl1(t: number): Seq {
    return this.i32[t * 40 + 19] as unknown as Seq;
  }

  setSndWl1(t: number, v: Seq): void {
    this.i32[t * 40 + 19] = v as unknown as number;
  }

  /** Segment acknowledgment number used for the last window update. */
  sndWl2(t: number): Seq {
    return this.i32[t * 40 + 20] as unknown as Seq;
  }

  setSndWl2(t: number, v: Seq): void {
    this.i32[t * 40 + 20] = v as unknown as number;
  }

  /** The application closed the sending side: a FIN is queued after the data. */
  finQueued(t: number): number {
    return this.u8[t * 160 + 9];
  }

  setFinQueued(t: number, v: number): void {
    this.u8[t * 160 + 9] = v;
  }

  /** Our FIN has been sent at least once. */
  finSent(t: number): number {
    return this.u8[t * 160 + 10];
  }

  setFinSent(t: number, v: number): void {
    this.u8[t * 160 + 10] = v;
  }

  /** TCP_NODELAY: the application turned Nagle off. */
  noDelay(t: number): number {
    return this.u8[t * 160 + 11];
  }

  setNoDelay(t: number, v: number): void {
    this.u8[t * 160 + 11] = v;
  }

  /** Retransmissions of the current oldest segment (reset when it is acknowledged). */
  retries(t: number): number {
    return this.i32[t * 40 + 21];
  }

  setRetries(t: number, v: number): void {
    this.i32[t * 40 + 21] = v;
  }

  /** Sequence number timed for an RTT sample without timestamps (Karn), valid while rttTiming. */
  rttSeq(t: number): Seq {
    return this.i32[t * 40 + 22] as unknown as Seq;
  }

  setRttSeq(t: number, v: Seq): void {
    this.i32[t * 40 + 22] = v as unknown as number;
  }

  /** When rttSeq was sent, ms. */
  rttSentAt(t: number): number {
    return this.f64[t * 20 + 17];
  }

  setRttSentAt(t: number, v: number): void {
    this.f64[t * 20 + 17] = v;
  }

  rttTiming(t: number): number {
    return this.u8[t * 160 + 12];
  }

  setRttTiming(t: number, v: number): void {
    this.u8[t * 160 + 12] = v;
  }

  /** Our timestamp clock at the last retransmission timeout: older echoes give no RTT sample. */
  rtoTsFloor(t: number): TsVal {
    return this.i32[t * 40 + 23] as unknown as TsVal;
  }

  setRtoTsFloor(t: number, v: TsVal): void {
    this.i32[t * 40 + 23] = v as unknown as number;
  }


  // ---- receive sequence space (receiver.ts) ----
  /** Initial receive sequence number. */
  irs(t: number): Seq {
    return this.i32[t * 40 + 24] as unknown as Seq;
  }

  setIrs(t: number, v: Seq): void {
    this.i32[t * 40 + 24] = v as unknown as number;
  }

  /** Next sequence number expected. */
  rcvNxt(t: number): Seq {
    return this.i32[t * 40 + 25] as unknown as Seq;
  }

  setRcvNxt(t: number, v: Seq): void {
    this.i32[t * 40 + 25] = v as unknown as number;
  }

  /** Right edge of the window we last advertised (rcvNxt + window), never moved left. RFC 9293 §3.8.6 */
  rcvAdvRight(t: number): Seq {
    return this.i32[t * 40 + 26] as unknown as Seq;
  }

  setRcvAdvRight(t: number, v: Seq): void {
    this.i32[t * 40 + 26] = v as unknown as number;
  }

  /** The peer's FIN was received in order. */
  finReceived(t: number): number {
    return this.u8[t * 160 + 13];
  }

  setFinReceived(t: number, v: number): void {
    this.u8[t * 160 + 13] = v;
  }

  /** A FIN arrived before data ahead of it: its sequence number, valid while oooFinPending. */
  oooFinSeq(t: number): Seq {
    return this.i32[t * 40 + 27] as unknown as Seq;
  }

  setOooFinSeq(t: number, v: Seq): void {
    this.i32[t * 40 + 27] = v as unknown as number;
  }

  oooFinPending(t: number): number {
    return this.u8[t * 160 + 14];
  }

  setOooFinPending(t: number, v: number): void {
    this.u8[t * 160 + 14] = v;
  }

  /** Sequence number of the latest out-of-order segment (its SACK block goes first). RFC 2018 §4 */
  lastOooSeq(t: number): Seq {
    return this.i32[t * 40 + 28] as unknown as Seq;
  }

  setLastOooSeq(t: number, v: Seq): void {
    this.i32[t * 40 + 28] = v as unknown as number;
  }

  /** Full-sized segments received since the last ACK we sent. RFC 5681 §4.2 */
  unackedSegments(t: number): number {
    return this.i32[t * 40 + 29];
  }

  setUnackedSegments(t: number, v: number): void {
    this.i32[t * 40 + 29] = v;
  }

  /** TS.Recent: the timestamp to echo. RFC 7323 §4.3 */
  tsRecent(t: number): TsVal {
    return this.i32[t * 40 + 30] as unknown as TsVal;
  }

  setTsRecent(t: number, v: TsVal): void {
    this.i32[t * 40 + 30] = v as unknown as number;
  }

  /** Time (ms) TS.Recent was last updated, for the 24-day PAWS rule. RFC 7323 §5.5 */
  tsRecentAt(t: number): number {
    return this.f64[t * 20 + 18];
  }

  setTsRecentAt(t: number, v: number): void {
    this.f64[t * 20 + 18] = v;
  }

  /** Sequence number in the last ACK we sent (Last.ACK.sent). RFC 7323 §4.3 */
  lastAckSent(t: number): Seq {
    return this.i32[t * 40 + 31] as unknown as Seq;
  }

  setLastAckSent(t: number, v: Seq): void {
    this.i32[t * 40 + 31] = v as unknown as number;
  }

  /** When we last answered an unacceptable segment, ms (rate limit). */
  lastOowAckAt(t: number): number {
    return this.f64[t * 20 + 19];
  }

  setLastOowAckAt(t: number, v: number): void {
    this.f64[t * 20 + 19] = v;
  }


  // ---- what the next flush owes the peer (decided during input, sent after the burst; engine.ts) ----
  /** An ACK is owed (it may ride on data). */
  ackNow(t: number): number {
    return this.u8[t * 160 + 15];
  }

  setAckNow(t: number, v: number): void {
    this.u8[t * 160 + 15] = v;
  }

  /**
   * Duplicate ACKs owed beyond that one: each out-of-order segment of the
   * burst is answered by its own ACK (RFC 5681 §4.2), which the sender's
   * duplicate-ACK count (RFC 5681 §3.2) relies on.
   */
  dupAcksOwed(t: number): number {
    return this.i32[t * 40 + 32];
  }

  setDupAcksOwed(t: number, v: number): void {
    this.i32[t * 40 + 32] = v;
  }

  /** A RST is owed for a connection this context aborted; the block is released once it is sent. */
  rstOwed(t: number): number {
    return this.u8[t * 160 + 16];
  }

  setRstOwed(t: number, v: number): void {
    this.u8[t * 160 + 16] = v;
  }

  /** The block is on the output list. */
  inOutputList(t: number): number {
    return this.u8[t * 160 + 17];
  }

  setInOutputList(t: number, v: number): void {
    this.u8[t * 160 + 17] = v;
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
    this.setInUse(t, 1);
    return t;
  }

  /** Give the id back; the caller has unlinked it from every table and timer. */
  release(t: number): void {
    this.setInUse(t, 0);
    this.setState(t, State.Closed);
    this.#ids.free(t);
  }

  /** Every field of a fresh CLOSED block: zero (State.Closed, sequence numbers, flags, times), but for these. */
  #clear(t: number): void {
    this.u8.fill(0, t * TCB_ROW_BYTES, (t + 1) * TCB_ROW_BYTES);
    this.setSockid(t, -1);
    this.setListenerSockid(t, -1);
    this.setSndMss(t, DEFAULT_MSS);
    this.setLastOowAckAt(t, -0x3fffffff);
  }
}

/** Payload bytes per segment of connection t: the MSS less the timestamp option when in use. */
export function effectiveMss(tcb: TcbTable, t: number): number {
  return tcb.tsOk(t) !== 0 ? tcb.sndMss(t) - 12 : tcb.sndMss(t);
}
