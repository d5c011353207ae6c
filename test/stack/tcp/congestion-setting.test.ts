/**
 * The `cc` setting chooses the congestion controller of every connection the engine makes, and that
 * controller is the one that governs the connection.
 */
import t from 'tap';
import { Harness, PEER_IP, STACK_IP, TCP_ACK, TCP_SYN } from '../../helpers/tcp-harness.ts';

const PEER_ISS = 5000;

for (const cc of ['reno', 'cubic'] as const) {
  t.test(`cc = ${cc}: passive and active connections use ${cc}`, async (t) => {
    const h = new Harness({ cc });
    h.tcp.sockets.listen(100, 0, 80, 16);
    h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: null });
    const synAck = h.recvOne();
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: synAck.seq + 1 });
    const passive = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
    t.equal(passive.cc.name, cc, 'passive open');
    const active = h.view(h.tcp.sockets.connect(2, STACK_IP, 5555, PEER_IP, 81));
    t.equal(active.cc.name, cc, 'active open');
    t.equal(passive.cc.cwnd, 10 * 1460, 'initial window of 10 segments (RFC 6928)');
  });
}

t.test('after a loss, cubic keeps 0.7 of the window where reno keeps half (RFC 9438 §4.6, RFC 5681 (4))', async (t) => {
  const ssthresh: Record<string, number> = {};
  for (const cc of ['reno', 'cubic'] as const) {
    const h = new Harness({ cc, sndbuf: 65536 });
    h.tcp.sockets.listen(100, 0, 80, 16);
    h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: null });
    const synAck = h.recvOne();
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: synAck.seq + 1 });
    const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
    h.tcp.sockets.send(tcb.id, new Uint8Array(10 * 1460), 0, 10 * 1460);
    t.equal(h.recv().length, 10);
    for (let i = 0; i < 3; i++) h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: synAck.seq + 1 });
    t.ok(tcb.inRecovery, `${cc}: fast retransmit`);
    ssthresh[cc] = tcb.cc.ssthresh;
  }
  t.equal(ssthresh.reno, 5 * 1460, 'reno: flight / 2');
  t.equal(ssthresh.cubic, 7 * 1460, 'cubic: 0.7 W');
});
