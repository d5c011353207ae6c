/**
 * The ACK range check of RFC 5961 §5.2. An ACK of data not yet sent, or one older than SND.UNA minus
 * the largest window the peer ever offered, is answered with an ACK and the segment is dropped, its
 * data included.
 */
import t from 'tap';
import { PEER_ISS, TCP_ACK, established } from '../../helpers/tcp-harness.ts';
import { State } from '../../../src/stack/tcp/state.ts';

t.test('an ACK of data not yet sent (SEG.ACK > SND.MAX) drops the segment and is answered (RFC 5961 §5.2)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
  t.equal(h.recv().length, 1);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 500, payload: new Uint8Array(10) });
  t.equal(tcb.sndUna, iss + 1, 'SND.UNA does not move');
  t.equal(tcb.rcvBuf.readable, 0, 'the data is dropped with the segment');
  const a = h.recvOne();
  t.equal(a.flags, TCP_ACK, 'an ACK answers it');
  t.equal(a.ack, PEER_ISS + 1);
  t.equal(tcb.state, State.Established);
});

t.test('an ACK older than SND.UNA - MAX.SND.WND drops the segment and is answered (RFC 5961 §5.2)', async (t) => {
  const { h, tcb, iss } = established();
  t.equal(tcb.maxSndWnd, 65535);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 - 70_000, payload: new Uint8Array(10) });
  t.equal(tcb.rcvBuf.readable, 0, 'the data is dropped with the segment');
  const a = h.recvOne();
  t.equal(a.ack, PEER_ISS + 1, 'an ACK of RCV.NXT answers it');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 - 60_000, payload: new Uint8Array(10) });
  t.equal(tcb.rcvBuf.readable, 10, 'an old ACK within MAX.SND.WND is acceptable, its data taken');
});
