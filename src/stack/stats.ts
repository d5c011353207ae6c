import { DropReason, DROP_REASON_NAMES } from './drop-reason.ts';

/** Per-context counters. Plain number fields: incremented on the hot path, read by stat printers and tests. */
export class Stats {
  /** Frames and bytes received from the driver. */
  rxFrames = 0;
  rxBytes = 0;
  /** Frames and bytes handed to the driver. */
  txFrames = 0;
  txBytes = 0;
  /** Dropped frames by reason, indexed by DropReason. */
  readonly drops = new Float64Array(DropReason.Count);
  /** Connections we initiated (SYN sent). */
  tcpActiveOpens = 0;
  /** Connections accepted on a listener (reached ESTABLISHED from LISTEN). */
  tcpPassiveOpens = 0;
  /** Connections whose control block was released. */
  tcpClosed = 0;
  /** Connections that failed with an error (reset, refused, timed out). */
  tcpFailed = 0;
  /** Segments retransmitted (timeouts and fast retransmits). */
  tcpRetransmits = 0;
  /** Retransmission timeouts fired. */
  tcpTimeouts = 0;
  /** RST segments sent and received. */
  tcpRstSent = 0;
  tcpRstReceived = 0;
  /** SYN|ACKs answered with a SYN cookie, and connections rebuilt from one. RFC 4987 §3.6 */
  tcpSynCookiesSent = 0;
  tcpSynCookiesAccepted = 0;
  /** Challenge ACKs not sent because the context's per-second budget was spent. RFC 5961 §7 */
  tcpChallengeAcksSuppressed = 0;
  /** Buffers that could not grow (or start) at the size autotuning chose: the tcp_buffer_memory budget or a size class ran out. */
  tcpBufferGrowthCapped = 0;
  /** RSTs not sent in answer to segments without a connection: the per-second budget was spent. */
  tcpRstsSuppressed = 0;
  /** TCP segments received and sent. */
  tcpInSegs = 0;
  tcpOutSegs = 0;
  /** ICMP echo requests answered. */
  icmpEchoReplies = 0;
  /** ARP requests sent and replies sent. */
  arpRequestsSent = 0;
  arpRepliesSent = 0;

  /** Total dropped frames. */
  totalDrops(): number {
    let n = 0;
    for (let i = 1; i < this.drops.length; i++) n += this.drops[i];
    return n;
  }

  /** The non-zero drop counters by name. */
  dropsByName(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 1; i < this.drops.length; i++) {
      if (this.drops[i] > 0) out[DROP_REASON_NAMES[i]] = this.drops[i];
    }
    return out;
  }
}
