/**
 * Segments outside the receive window: they are answered with an ACK (RFC 9293 §3.10.7.4 first), at
 * most one per OOW_ACK_INTERVAL_MS when they carry no data (Linux's tcp_invalid_ratelimit, RFC 5961
 * §7); an old duplicate still delivers its ACK (as BSD) but is no duplicate ACK, and a segment more
 * than a receive buffer below RCV.NXT is dropped whole.
 */
import t from 'tap';
import { PEER_ISS, TCP_ACK, established } from '../../helpers/tcp-harness.ts';
import { OOW_ACK_INTERVAL_MS } from '../../../src/stack/tcp/receiver.ts';
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

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('an old duplicate still delivers its ACK (BSD): two peers whose ACKs fall below each other\'s RCV.NXT do not deadlock', async (t) => {
  const { h, tcb, iss } = established();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1, payload: new Uint8Array(500) });
  h.tcp.sockets.send(tcb.id, new Uint8Array(1000), 0, 1000);
  h.recv();
  t.equal(tcb.flightSize, 1000);
  // The peer's ACK of our data was lost; it retransmits its own old 500 bytes, carrying that ACK.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1001, payload: new Uint8Array(500) });
  t.equal(tcb.flightSize, 0, 'the ACK in the old segment is taken');
  const answer = h.recv();
  t.same(answer.map((s) => [s.ack, s.payload.length]), [[PEER_ISS + 501, 0]], 'and the old text is answered with an ACK, not delivered');
  t.equal(tcb.rcvBuf.readable, 500, 'the text is not taken twice');
  // A keepalive probe (SEQ = RCV.NXT - 1) carries the peer's ACK too.
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
  h.recv();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 500, ack: iss + 1101 });
  t.equal(tcb.flightSize, 0, 'the probe\'s ACK is taken');
});

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('a segment more than a receive buffer before RCV.NXT is dropped whole (RFC 5961 §5: no wider blind window)', async (t) => {
  const { h, tcb, iss } = established({ rcvbuf: 8192 });
  h.tcp.sockets.send(tcb.id, new Uint8Array(1000), 0, 1000);
  h.recv();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1 - 9000, ack: iss + 1001 });
  t.equal(tcb.flightSize, 1000, 'its ACK is not taken');
});

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('old duplicates carrying data are not duplicate ACKs (RFC 5681 §2: a duplicate ACK carries no data)', async (t) => {
  const { h, tcb, iss } = established();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1, payload: new Uint8Array(500) });
  h.tcp.sockets.send(tcb.id, new Uint8Array(4 * 1460), 0, 4 * 1460);
  t.equal(h.recv().length, 4);
  for (let i = 0; i < 3; i++) h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1, payload: new Uint8Array(500) });
  t.notOk(h.recv().some((s) => s.payload.length > 0), 'no fast retransmit');
  t.equal(tcb.dupAcks, 0);
});
