/**
 * Gaps found by mutation testing (issue 3): unacceptable segments are
 * answered with an ACK (RFC 9293 §3.10.7.4 first), at most one per
 * OOW_ACK_INTERVAL_MS when they carry no data (Linux's tcp_invalid_ratelimit,
 * RFC 5961 §7).
 */
import t from 'tap';
import { PEER_ISS, TCP_ACK, established } from '../../helpers/tcp-harness.ts';
import { OOW_ACK_INTERVAL_MS } from '../../../src/stack/tcp/input.ts';
import { State } from '../../../src/stack/tcp/state.ts';

t.test('an out-of-window segment is answered with an ACK of RCV.NXT (RFC 9293 §3.10.7.4)', async (t) => {
  const { h, tcb, iss } = established();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1 + 100_000, ack: iss + 1 });
  const a = h.recvOne();
  t.equal(a.flags, TCP_ACK);
  t.equal(a.ack, PEER_ISS + 1, 'the ACK says what we expect');
  t.equal(tcb.state, State.Established);
});

t.test('out-of-window segments without data get at most one ACK per OOW_ACK_INTERVAL_MS', async (t) => {
  const { h, iss } = established();
  const oow = { flags: TCP_ACK, seq: PEER_ISS + 1 + 100_000, ack: iss + 1 };
  h.send(oow);
  t.equal(h.recv().length, 1, 'the first is answered');
  h.send(oow);
  h.send(oow);
  t.same(h.recv(), [], 'the next ones in the interval are not');
  h.poll(OOW_ACK_INTERVAL_MS - 1);
  h.send(oow);
  t.same(h.recv(), [], 'nor just before the interval ends');
  h.poll(1);
  h.send(oow);
  t.equal(h.recv().length, 1, 'once the interval is over, one more');
  h.send({ ...oow, payload: new Uint8Array(10) });
  t.equal(h.recv().length, 1, 'a segment carrying data is answered regardless');
});
