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
