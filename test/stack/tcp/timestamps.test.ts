/**
 * Timestamps (RFC 7323): TS.Recent follows the peer's timestamps (§4.3), a retransmitted SYN's
 * included, so that our ACKs echo the latest one and PAWS (§5.3) compares against it, not against the
 * timestamp of the SYN.
 */
import t from 'tap';
import { Harness, LISTEN_SOCK, TCP_ACK, TCP_SYN } from '../../helpers/tcp-harness.ts';
import { DropReason } from '../../../src/stack/drop-reason.ts';

const PEER_ISS = 5000;

t.test('TS.Recent is updated by in-order segments: echoed in TSecr and used by PAWS (RFC 7323 §4.3, §5.3)', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(100, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: [1000, 0] });
  const s = h.recvOne();
  t.equal(s.ts![1], 1000, 'the SYN|ACK echoes the SYN timestamp');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, ts: [1001, s.ts![0]] });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  t.equal(tcb.tsRecent, 1001);
  const d = new Uint8Array(100);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, ts: [2000, s.ts![0]], payload: d });
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 101, ack: s.seq + 1, ts: [2001, s.ts![0]], payload: d });
  const a = h.recvOne();
  t.equal(a.ack, PEER_ISS + 201);
  t.equal(a.ts![1], 2000, 'the ACK echoes TS.Recent, the timestamp of the first segment it acknowledges (RFC 7323 §4.3 (2))');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 201, ack: s.seq + 1, ts: [1500, s.ts![0]], payload: d });
  t.equal(tcb.rcvBuf.readable, 200, 'a timestamp older than the latest (though newer than the SYN\'s) is rejected by PAWS');
  t.equal(h.ctx.stats.drops[DropReason.TcpPawsReject], 1, 'counted as a PAWS drop');
});

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('a retransmitted SYN updates TS.Recent, so the SYN|ACK echoes it (RFC 7323 §4.3)', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: [100, 0] });
  t.same(h.recvOne().ts![1], 100, 'the first SYN|ACK echoes the first SYN');
  h.poll(20_000); // the SYN|ACKs were lost, and so were the peer's SYNs, until this one
  h.recv();
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: [20_100, 0] });
  const again = h.recv();
  t.ok(again.length >= 1);
  t.equal(again[again.length - 1].ts![1], 20_100, 'the SYN|ACK answering it echoes the retransmitted SYN: the peer measures 0 s, not 20');
});
