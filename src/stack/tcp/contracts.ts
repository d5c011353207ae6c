/**
 * The narrow interfaces through which the TCP roles reach what sits beside
 * or above them, so that each role depends on a few calls instead of the
 * whole engine, and imports run one way (engine.ts wires the implementations).
 */
import type { State } from './state.ts';
import type { TsVal } from '../wire/seqnum.ts';

/** The time of the context, set by the engine before each batch of work. */
export interface TcpClock {
  /** Now, whole milliseconds. */
  readonly now: number;
  /** Our timestamp clock: milliseconds, modulo 2^32. RFC 7323 §5.4 */
  tsNow(): TsVal;
}

/** How a connection is made, changes state and ends (lifecycle.ts). */
export interface Lifecycle {
  /** A clean CLOSED block with every role's state reset, or -1 when every id is taken. */
  allocate(): number;
  /** Give t its addresses and enter it in the flow table; false when that 4-tuple is taken or the table is full. */
  bind(t: number, localIp: number, localPort: number, remoteIp: number, remotePort: number): boolean;
  /** The only way a state changes. */
  setState(t: number, s: State): void;
  /** The handshake completed: a passive connection joins its listener's accept queue, an active one's socket learns it. */
  established(t: number): void;
  /** Fail the connection with `errno`; `sendRst`: tell the peer with a RST. */
  fail(t: number, errno: number, sendRst: boolean): void;
  /** The connection is over: the block stays CLOSED while the application holds it, an orphan is released. */
  terminate(t: number): void;
  /** Enter TIME_WAIT (the caller asked for the ACK of the peer's FIN). RFC 9293 §3.10.7.4 */
  enterTimeWait(t: number): void;
}

/** The engine's list of connections with something to send at the next flush. */
export interface OutputQueue {
  schedule(t: number): void;
}

/** How the TCP layer tells the socket layer that something happened on a socket. */
export interface SocketEvents {
  /** `bits`: READY_IN/OUT/ERR/HUP/RDHUP (readiness.ts), the kind of event. */
  wake(sockid: number, bits: number): void;
}

/** Where the TCP layer puts its segments: the context reserves a frame and finishes the IP and Ethernet headers. */
export interface TcpTransmitter {
  /** Reserve a TX frame towards `dstIp`; on success txBuf/txOff say where the TCP header goes. */
  beginTcp(dstIp: number): boolean;
  readonly txBuf: Uint8Array;
  readonly txOff: number;
  /** Segments are emitted without a TCP checksum: the port fills it (offload) or the link is trusted (nobody checks it). */
  readonly tcpChecksumOffload: boolean;
  /** Most payload bytes one segment may carry for the port to cut into MSS-sized frames (TSO); 0 when it does not. */
  readonly tsoMaxPayload: number;
  /**
   * The TCP segment (`tcpLen` bytes at txOff) is complete: add IPv4 and Ethernet and queue the frame.
   * `segmentBytes` > 0: the port cuts it into frames of that many payload bytes (TSO).
   */
  endTcp(srcIp: number, dstIp: number, tcpLen: number, segmentBytes: number): void;
}
