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

export const STATE_NAMES: readonly string[] = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2',
  'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT',
];

/** States in which the connection is synchronized (RFC 9293 §3.5). */
export function isSynchronized(s: State): boolean {
  return s >= State.Established;
}

/** States in which received data can still be delivered to the application. */
export function canReceiveData(s: State): boolean {
  return s === State.Established || s === State.FinWait1 || s === State.FinWait2;
}

/** States in which the application may still queue data to send. */
export function canSendData(s: State): boolean {
  return s === State.Established || s === State.CloseWait || s === State.SynSent || s === State.SynReceived;
}
