/**
 * Gaps found by mutation testing (issue 3): NewReno's partial ACK (RFC 6582
 * §3.2 step 5). Without SACK, an ACK that covers the fast-retransmitted
 * segment but not the recovery point retransmits the next hole at once,
 * without waiting for the retransmission timer.
 */
import t from 'tap';
import { PEER_ISS, TCP_ACK, established } from '../../helpers/tcp-harness.ts';

const MSS = 1460;

t.test('NewReno: a partial ACK retransmits the next hole at once, no timeout (RFC 6582 §3.2 step 5)', async (t) => {
  const { h, tcb, iss } = established({ sndbuf: 65536, rcvbuf: 65536, sack: false }, { mss: MSS, sackPermitted: true });
  t.notOk(tcb.sackOk);
  const at = (i: number): number => (iss + 1 + i * MSS) >>> 0;

  h.tcp.send(tcb, new Uint8Array(10 * MSS), 0, 10 * MSS);
  t.equal(h.recv().length, 10, 'the initial window');
  // Segments 1 and 4 are lost: segment 0 advances the ACK, the rest give duplicates.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(1) });
  const resent: number[] = [];
  for (let k = 0; k < 7; k++) {
    // segments 2, 3, 5, 6, 7, 8 and 9
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(1) });
    for (const s of h.recv()) if (s.payload.length > 0) resent.push(s.seq);
  }
  t.same(resent, [at(1)], 'fast retransmit of segment 1 after the third duplicate');
  t.ok(tcb.inRecovery);

  // The retransmission arrives: the peer acknowledges up to the second hole.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(4) });
  const after = h.recv().filter((s) => s.payload.length > 0);
  t.same(after.map((s) => s.seq), [at(4)], 'the partial ACK sends segment 4 again at once');
  t.ok(tcb.inRecovery, 'still in recovery: the recovery point is not acknowledged');
  t.equal(h.ctx.stats.tcpTimeouts, 0, 'no retransmission timeout');

  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(10) });
  t.notOk(tcb.inRecovery, 'the full ACK ends recovery');
  t.equal(tcb.cc.cwnd, tcb.cc.ssthresh, 'and deflates cwnd to ssthresh (RFC 6582 §3.2 step 3)');
});
