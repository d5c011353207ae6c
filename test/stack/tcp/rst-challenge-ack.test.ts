/**
 * A RST resets only when SEG.SEQ equals RCV.NXT exactly (RFC 5961 §3.2), compared before any trimming:
 * a RST carrying data whose SEG.SEQ is below RCV.NXT (but whose data reaches it) gets a challenge ACK.
 */
import t from 'tap';
import { Harness, TCP_ACK, TCP_RST, TCP_SYN } from '../../helpers/tcp-harness.ts';
import { State } from '../../../src/stack/tcp/state.ts';

const PEER_ISS = 5000;

t.test('a RST with data whose SEG.SEQ is below RCV.NXT gets a challenge ACK, not a reset (RFC 5961 §3.2)', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(100, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: null });
  const s = h.recvOne();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1 });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  h.send({ flags: TCP_RST | TCP_ACK, seq: PEER_ISS + 1 - 10, ack: s.seq + 1, payload: new Uint8Array(100) });
  t.equal(tcb.state, State.Established, 'SEG.SEQ != RCV.NXT: not reset');
  t.equal(tcb.error, 0);
  const a = h.recvOne();
  t.equal(a.flags, TCP_ACK, 'a challenge ACK');
  t.equal(a.ack, PEER_ISS + 1);
});
