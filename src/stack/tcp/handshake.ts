/**
 * What a connection takes from the peer's SYN: its initial sequence number,
 * its window, and the options both sides agree on (RFC 9293 §3.7.1, RFC 7323
 * §2.2 and §3.2, RFC 2018 §2). Shared by the passive open (listener.ts) and
 * the active one (segment-arrival.ts, SYN-SENT).
 */
import { seqAdd } from '../wire/seqnum.ts';
import type { TcpFields } from '../wire/tcp.ts';
import type { TcpClock } from './contracts.ts';
import { DEFAULT_MSS, type TcbTable } from './tcb.ts';

export class Handshake {
  constructor(
    readonly tcb: TcbTable,
    readonly clock: TcpClock,
    /** MSS we announce: MTU - 40. RFC 9293 §3.7.1 */
    readonly localMss: number,
    /** Window scale we offer, chosen so the receive buffer fits the window field. RFC 7323 §2.2 */
    readonly localWscale: number,
    /** Whether SACK may be used at all (false only to measure recovery without it). RFC 2018 */
    readonly sackEnabled: boolean,
  ) {}

  /** Take what the peer's SYN says: its initial sequence number, options and window. */
  acceptPeerSyn(t: number, seg: TcpFields): void {
    const tcb = this.tcb;
    tcb.setIrs(t, seg.seq);
    tcb.setRcvNxt(t, seqAdd(seg.seq, 1));
    this.negotiateOptions(t, seg);
    tcb.setSndWnd(t, seg.window); // never scaled in a SYN. RFC 7323 §2.2
    tcb.setMaxSndWnd(t, seg.window);
    tcb.setSndWl1(t, seg.seq);
  }

  /** Take the peer's SYN options. RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2 */
  negotiateOptions(t: number, seg: TcpFields): void {
    const tcb = this.tcb;
    const peerMss = seg.mss > 0 ? seg.mss : DEFAULT_MSS;
    tcb.setSndMss(t, peerMss < this.localMss ? peerMss : this.localMss);
    if (seg.wscale >= 0) {
      tcb.setWsOk(t, 1);
      tcb.setSndWscale(t, seg.wscale);
      tcb.setRcvWscale(t, this.localWscale);
    } else {
      tcb.setWsOk(t, 0);
      tcb.setSndWscale(t, 0);
      tcb.setRcvWscale(t, 0);
    }
    tcb.setTsOk(t, seg.hasTimestamp ? 1 : 0);
    if (seg.hasTimestamp) {
      tcb.setTsRecent(t, seg.tsVal);
      tcb.setTsRecentAt(t, this.clock.now);
    }
    tcb.setSackOk(t, seg.sackPermitted && this.sackEnabled ? 1 : 0);
  }
}
