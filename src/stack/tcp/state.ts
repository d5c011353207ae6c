/** TCP connection states, RFC 9293 §3.3.2. */
export const enum State {
  Closed = 0,
  Listen,
  SynSent,
  SynReceived,
  Established,
  FinWait1,
  FinWait2,
  CloseWait,
  Closing,
  LastAck,
  TimeWait,
}

/** Names as RFC 9293 writes them, indexed by State. */
export const STATE_NAMES: readonly string[] = [
  'CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING',
  'LAST-ACK', 'TIME-WAIT',
];
