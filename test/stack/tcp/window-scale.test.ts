/**
 * Our own window scaling (RFC 7323 §2.2, §2.3). A receive buffer larger than 64 KiB is offered with a
 * shift that makes it fit the window field, and later windows are sent scaled by it.
 */
import t from 'tap';
import { Harness, TCP_ACK, TCP_SYN } from '../../helpers/tcp-harness.ts';

const PEER_ISS = 5000;

t.test('a 256 KiB receive buffer: shift 3 offered, windows sent scaled (RFC 7323 §2.2, §2.3)', async (t) => {
  const h = new Harness({ rcvbuf: 262144 });
  h.tcp.sockets.listen(100, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, wscale: 2, ts: null });
  const s = h.recvOne();
  t.equal(s.wscale, 3, 'the smallest shift that fits 262144 in 16 bits');
  t.equal(s.win, 65535, 'the window of a SYN is never scaled');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1 });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  t.equal(tcb.rcvWscale, 3);
  t.equal(tcb.sndWscale, 2);
  const d = new Uint8Array(1460);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, payload: d });
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1461, ack: s.seq + 1, payload: d });
  const a = h.recvOne();
  t.equal(a.ack, PEER_ISS + 2921);
  t.equal(a.win, (262144 - 2920) >>> 3, 'the free space, shifted right by 3');
});

t.test('without the peer\'s option there is no scaling either way (RFC 7323 §2.2)', async (t) => {
  const h = new Harness({ rcvbuf: 262144 });
  h.tcp.sockets.listen(100, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: null });
  const s = h.recvOne();
  t.equal(s.wscale, -1, 'no option in the SYN|ACK');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1 });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, payload: new Uint8Array(1460) });
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1461, ack: s.seq + 1, payload: new Uint8Array(1460) });
  t.equal(h.recvOne().win, 65535, 'the window field is capped, not scaled');
  t.equal(tcb.rcvWscale, 0);
});
