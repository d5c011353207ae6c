/**
 * Gaps found by mutation testing (issue 3): during SACK recovery, holes
 * presumed lost are retransmitted before new data (RFC 6675 §4 NextSeg rule
 * (1) ahead of rule (2)), so several holes are repaired in one round trip
 * even when the application has more data queued.
 */
import t from 'tap';
import { PEER_ISS, TCP_ACK, established } from '../../helpers/tcp-harness.ts';

const MSS = 1460;

t.test('SACK recovery with more data queued: lost holes go before new data (RFC 6675 §4 NextSeg (1))', async (t) => {
  const { h, tcb, iss } = established({ sndbuf: 65536, rcvbuf: 65536 }, { mss: MSS, sackPermitted: true });
  t.ok(tcb.sackOk);
  const at = (i: number): number => (iss + 1 + i * MSS) >>> 0;
  const idx = (seq: number): number => ((seq - iss - 1) >>> 0) / MSS;

  h.tcp.send(tcb, new Uint8Array(30 * MSS), 0, 30 * MSS);
  t.equal(h.recv().length, 10, 'the initial window; 20 more segments queued');
  // Segments 1 and 3 are lost; the peer ACKs every segment it gets, with SACK blocks (newest first).
  const have = new Set<number>([0]);
  const sent: number[] = [];
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(1) });
  for (const s of h.recv()) if (s.payload.length > 0) sent.push(idx(s.seq));
  for (const i of [2, 4, 5, 6, 7, 8, 9]) {
    have.add(i);
    const blocks: [number, number][] = [];
    for (let j = 2; j < 10; j++) {
      if (have.has(j) && !have.has(j - 1)) {
        let k = j;
        while (have.has(k + 1)) k++;
        blocks.push([at(j), at(k + 1)]);
      }
    }
    blocks.reverse();
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(1), sack: blocks.slice(0, 3) });
    for (const s of h.recv()) if (s.payload.length > 0) sent.push(idx(s.seq));
  }
  t.ok(tcb.inRecovery, 'in SACK recovery');
  const resent = sent.filter((i) => i < 10);
  t.same(resent, [1, 3], `both holes sent again within the first round trip, once each (sent: ${sent.join(',')})`);
  const rtx1 = sent.indexOf(1);
  const firstNewAfter = sent.findIndex((i, k) => k > rtx1 && i >= 10);
  t.ok(sent.includes(3) && (firstNewAfter < 0 || sent.indexOf(3) < firstNewAfter), 'in recovery, the hole goes before new data');
  t.equal(h.ctx.stats.tcpTimeouts, 0, 'no retransmission timeout');
});

t.test('a SACK block reaching below SND.UNA counts only from SND.UNA: no spurious recovery', async (t) => {
  const { h, tcb, iss } = established({ sndbuf: 65536, rcvbuf: 65536 }, { mss: MSS, sackPermitted: true });
  const una = (iss + 1) >>> 0;
  h.tcp.send(tcb, new Uint8Array(4 * MSS), 0, 4 * MSS);
  t.equal(h.recv().length, 4);
  const cwnd = tcb.cc.cwnd;
  // One block from 3 MSS below SND.UNA to 2 MSS above it: only [SND.UNA, SND.UNA + 2 MSS) counts.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: una, sack: [[(una - 3 * MSS) >>> 0, (una + 2 * MSS) >>> 0]] });
  t.notOk(tcb.inRecovery, 'two segments SACKed from SND.UNA are not a loss (RFC 6675 §4 IsLost)');
  t.same(h.recv().filter((s) => s.payload.length > 0 && s.seq === una), [], 'no retransmission');
  t.equal(tcb.cc.cwnd, cwnd, 'no window reduction');
});
