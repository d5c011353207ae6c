/**
 * Keepalive timing (RFC 1122 §4.2.3.6). Any segment from the peer restarts the full idle time (not the
 * probe interval), and each unanswered probe is followed by the next after the interval.
 */
import t from 'tap';
import { Harness, TCP_ACK, TCP_SYN } from '../../helpers/tcp-harness.ts';
import { State } from '../../../src/stack/tcp/state.ts';
import { ETIMEDOUT } from '../../../src/stack/errno.ts';

const PEER_ISS = 5000;

t.test('keepalive: an answered probe or any segment restarts the idle time, not the interval', async (t) => {
  const h = new Harness({ idleTimeoutMs: -1 });
  h.tcp.sockets.listen(100, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: null });
  const synAck = h.recvOne();
  const iss = synAck.seq;
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  h.tcp.sockets.setKeepAlive(tcb.id, true, 1000, 300, 2);

  h.poll(999);
  t.same(h.recv(), [], 'nothing before the idle time');
  h.poll(1);
  t.equal(h.recvOne().seq, iss, 'first probe after the idle time');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 });
  h.poll(999);
  t.same(h.recv(), [], 'after an answer, nothing for the whole idle time');
  h.poll(1);
  t.equal(h.recvOne().seq, iss, 'then a probe');
  h.poll(300);
  t.equal(h.recvOne().seq, iss, 'unanswered: the next after the interval');
  h.send({ flags: TCP_ACK | 0x08, seq: PEER_ISS + 1, ack: iss + 1, payload: new Uint8Array(5) });
  t.equal(tcb.keepProbes, 0, 'data from the peer counts as an answer');
  h.tcp.sockets.receive(tcb.id, new Uint8Array(5), 0, 5, false);
  h.recv(); // the delayed ACK, if any
  h.poll(900);
  t.same(h.recv().filter((s) => s.payload.length === 0 && s.seq === iss), [], 'no probe before the idle time');
  h.poll(100);
  t.equal(h.recv().filter((s) => s.seq === iss).length, 1, 'a probe at the idle time');
  h.poll(300);
  t.equal(h.recvOne().seq, iss, 'second unanswered probe');
  t.equal(tcb.state, State.Established);
  h.poll(300);
  t.equal(tcb.error, ETIMEDOUT, 'keepCnt = 2 unanswered probes: ETIMEDOUT');
});
