/**
 * Gaps found by mutation testing (issue 3): Karn's rule (RFC 6298 §3), no RTT
 * sample from a segment that was sent more than once.
 */
import t from 'tap';
import { PEER_ISS, TCP_ACK, established } from '../../helpers/tcp-harness.ts';

t.test('Karn: a segment sent again by fast retransmit gives no RTT sample (RFC 6298 §3)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.send(tcb, new Uint8Array(4 * 1460), 0, 4 * 1460);
  t.equal(h.recv().length, 4);
  t.ok(tcb.rttTiming, 'the first data segment is timed');
  const samples = tcb.rtt.samples;
  const rto = tcb.rtt.rtoMs;
  for (let i = 0; i < 3; i++) h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 });
  t.ok(h.recv().some((s) => s.seq === iss + 1 && s.payload.length > 0), 'fast retransmit of the timed segment');
  h.poll(150);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 4 * 1460 });
  t.equal(tcb.rtt.samples, samples, 'the ACK of the retransmitted segment is not sampled');
  t.equal(tcb.rtt.rtoMs, rto, 'the RTO is unchanged');
});

t.test('Karn: a segment sent again after a timeout gives no RTT sample (RFC 6298 §3, (5.5))', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.send(tcb, new Uint8Array(100), 0, 100);
  t.equal(h.recv().length, 1);
  const samples = tcb.rtt.samples;
  h.poll(tcb.rtt.rtoMs);
  t.equal(h.recvOne().seq, iss + 1, 'retransmitted after the RTO');
  const backedOff = tcb.rtt.rtoMs;
  h.poll(10);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 101 });
  t.equal(tcb.rtt.samples, samples, 'no sample from the ambiguous ACK');
  t.equal(tcb.rtt.rtoMs, backedOff, 'the backed-off RTO is kept until a valid sample');
});
