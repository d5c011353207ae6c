/**
 * Engine bugs the seeded scenario simulator found (sim/scenario.ts), each
 * reduced to a scripted peer.
 */
import t from 'tap';
import { Harness, LISTEN_SOCK, PEER_IP, PEER_ISS, STACK_IP, TCP_ACK, TCP_SYN, established } from '../../helpers/tcp-harness.ts';
import { RTO_FALLBACK_MS } from '../../../src/stack/tcp/rtt.ts';
import type { Tcb } from '../../../src/stack/tcp/tcb.ts';

t.test('a timeout retransmits data the persist timer sent into a small window (RFC 6298 (5.4); SWS is for new data)', async (t) => {
  // The peer's window closes to 600 bytes, less than half its largest: silly window avoidance holds
  // the data until the persist timer sends what fits. That segment is lost; its retransmission must
  // not be held by the same rule (the connection used to stall until ETIMEDOUT).
  const { h, tcb, iss } = established({}, { win: 2000 });
  h.tcp.send(tcb, new Uint8Array(5000), 0, 5000);
  t.equal(h.recv().length, 1);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 1460, win: 600 });
  t.same(h.recv(), [], 'held by silly window avoidance');
  h.poll(tcb.rtt.rtoMs);
  t.same(h.recv().map((s) => s.payload.length), [600], 'the persist timer sends what fits');
  h.poll(tcb.rtt.rtoMs); // the 600 bytes were lost
  const rxt = h.recv();
  t.same(rxt.map((s) => [s.seq, s.payload.length]), [[iss + 1 + 1460, 600]], 'the timeout sends them again');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 2060, win: 2000 });
  t.ok(h.recv().length > 0, 'and the transfer goes on');
});

t.test('going back after a timeout, a piece cut short by the window is not held by silly window avoidance', async (t) => {
  const { h, tcb, iss } = established({}, { win: 3000 });
  h.tcp.send(tcb, new Uint8Array(5000), 0, 5000);
  t.same(h.recv().map((s) => s.payload.length), [1460, 1460], 'the 80 bytes left in the window wait (SWS)');
  h.poll(tcb.rtt.rtoMs);
  t.same(h.recv().map((s) => [s.seq, s.payload.length]), [[iss + 1, 1460]], 'the timeout resends the first segment');
  // Its ACK shrinks the window to 1,200 bytes: less than half the largest, but this is data already sent.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 1460, win: 1200 });
  t.same(h.recv().map((s) => [s.seq, s.payload.length]), [[iss + 1 + 1460, 1200]], 'what fits of the second goes at once');
});

t.test('a timeout retransmits the oldest segment even when the window has closed since (it probes it)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.send(tcb, new Uint8Array(2920), 0, 2920);
  t.equal(h.recv().length, 2);
  // The first segment is acknowledged with a zero window; the second was lost.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 1460, win: 0 });
  t.same(h.recv(), []);
  h.poll(tcb.rtt.rtoMs);
  const rxt = h.recv();
  t.same(rxt.map((s) => [s.seq, s.payload.length]), [[iss + 1 + 1460, 1460]], 'the lost segment goes out and asks for the window');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 2920, win: 8192 });
  t.equal(tcb.flightSize, 0, 'acknowledged');
});

t.test('an echoed timestamp from before a timeout gives no RTT sample (a lagging TS.Recent, RFC 7323 §4.3)', async (t) => {
  const { h, tcb, iss } = established({}, { ts: [100, 0] });
  h.tcp.send(tcb, new Uint8Array(100), 0, 100);
  const first = h.recvOne();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 101, ts: [101, first.ts![0]] });
  const rto = tcb.rtt.rtoMs;
  const samples = tcb.rtt.samples;
  h.tcp.send(tcb, new Uint8Array(100), 0, 100);
  h.recvOne();
  h.poll(tcb.rtt.rtoMs);
  t.equal(h.recvOne().seq, iss + 101, 'retransmitted after the timeout');
  h.poll(5);
  // The peer had the first copy; its ACK was lost. Answering the duplicate it echoes its TS.Recent,
  // which still holds the timestamp of the first data segment, long before.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 201, ts: [102, first.ts![0]] });
  t.equal(tcb.rtt.samples, samples, 'no sample from the stale echo');
  h.tcp.send(tcb, new Uint8Array(100), 0, 100);
  const next = h.recvOne();
  h.poll(5);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 301, ts: [103, next.ts![0]] });
  t.equal(tcb.rtt.samples, samples + 1, 'a fresh echo is sampled');
  t.ok(tcb.rtt.rtoMs <= rto, `and the RTO comes back from its backoff (${tcb.rtt.rtoMs} ms)`);
});

t.test('a SYN|ACK offers the receive buffer, not a window computed from a right edge never advertised', async (t) => {
  // RCV.NXT is the peer's ISS + 1: anywhere in sequence space, far from the zeroed right edge.
  for (const iss of [5000, 0x7fff0000, 0xfffff000]) {
    const h = new Harness({ rcvbuf: 2048 });
    h.tcp.listen(LISTEN_SOCK, 0, 80, 16);
    h.send({ flags: TCP_SYN, seq: iss, mss: 1460, wscale: 0 });
    t.equal(h.recvOne().win, 2048, `peer ISS ${iss}: the SYN|ACK offers the 2,048-byte buffer`);
  }
});

t.test('a retransmitted SYN updates TS.Recent, so the SYN|ACK echoes it (RFC 7323 §4.3)', async (t) => {
  const h = new Harness();
  h.tcp.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: [100, 0] });
  t.same(h.recvOne().ts![1], 100, 'the first SYN|ACK echoes the first SYN');
  h.poll(20_000); // the SYN|ACKs were lost, and so were the peer's SYNs, until this one
  h.recv();
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, ts: [20_100, 0] });
  const again = h.recv();
  t.ok(again.length >= 1);
  t.equal(again[again.length - 1].ts![1], 20_100, 'the SYN|ACK answering it echoes the retransmitted SYN: the peer measures 0 s, not 20');
});

t.test('a handshake that needed a retransmission and gave no RTT sample starts data at a 3 s RTO (RFC 6298 (5.7))', async (t) => {
  const h = new Harness();
  const tcb = h.tcp.connect(1, STACK_IP, 5555, PEER_IP, 80) as Tcb;
  h.poll();
  const syn = h.recvOne();
  for (const wait of [1000, 2000, 4000, 8000]) {
    h.poll(wait);
    t.equal(h.recvOne().flags, TCP_SYN, `SYN sent again after ${wait} ms`);
  }
  t.equal(tcb.rtt.rtoMs, 16_000, 'backed off');
  // No timestamps: Karn's rule forbids a sample from the retransmitted SYN.
  h.send({ flags: TCP_SYN | TCP_ACK, seq: PEER_ISS, ack: syn.seq + 1, srcPort: 80, dstPort: 5555, mss: 1460 });
  t.equal(tcb.rtt.samples, 0, 'no sample');
  t.equal(tcb.rtt.rtoMs, RTO_FALLBACK_MS, 'the RTO is 3 s, not the 16 s backoff');
});

t.test('an old duplicate still delivers its ACK (BSD): two peers whose ACKs fall below each other\'s RCV.NXT do not deadlock', async (t) => {
  const { h, tcb, iss } = established();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1, payload: new Uint8Array(500) });
  h.tcp.send(tcb, new Uint8Array(1000), 0, 1000);
  h.recv();
  t.equal(tcb.flightSize, 1000);
  // The peer's ACK of our data was lost; it retransmits its own old 500 bytes, carrying that ACK.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1001, payload: new Uint8Array(500) });
  t.equal(tcb.flightSize, 0, 'the ACK in the old segment is taken');
  const answer = h.recv();
  t.same(answer.map((s) => [s.ack, s.payload.length]), [[PEER_ISS + 501, 0]], 'and the old text is answered with an ACK, not delivered');
  t.equal(tcb.rcvBuf.readable, 500, 'the text is not taken twice');
  // A keepalive probe (SEQ = RCV.NXT - 1) carries the peer's ACK too.
  h.tcp.send(tcb, new Uint8Array(100), 0, 100);
  h.recv();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 500, ack: iss + 1101 });
  t.equal(tcb.flightSize, 0, 'the probe\'s ACK is taken');
});

t.test('a segment more than a receive buffer before RCV.NXT is dropped whole (RFC 5961 §5: no wider blind window)', async (t) => {
  const { h, tcb, iss } = established({ rcvbuf: 8192 });
  h.tcp.send(tcb, new Uint8Array(1000), 0, 1000);
  h.recv();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1 - 9000, ack: iss + 1001 });
  t.equal(tcb.flightSize, 1000, 'its ACK is not taken');
});

t.test('old duplicates carrying data are not duplicate ACKs (RFC 5681 §2: a duplicate ACK carries no data)', async (t) => {
  const { h, tcb, iss } = established();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1, payload: new Uint8Array(500) });
  h.tcp.send(tcb, new Uint8Array(4 * 1460), 0, 4 * 1460);
  t.equal(h.recv().length, 4);
  for (let i = 0; i < 3; i++) h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1, payload: new Uint8Array(500) });
  t.notOk(h.recv().some((s) => s.payload.length > 0), 'no fast retransmit');
  t.equal(tcb.dupAcks, 0);
});

t.test('an old duplicate gives no RTT sample: it echoes a TS.Recent from before its ACK was lost', async (t) => {
  const { h, tcb, iss } = established({}, { ts: [100, 0] });
  h.tcp.send(tcb, new Uint8Array(100), 0, 100);
  const data = h.recvOne();
  const samples = tcb.rtt.samples;
  // The peer's ACK of it is lost; before our timer fires, a probe below RCV.NXT carries the same ACK.
  h.poll(tcb.rtt.rtoMs - 1);
  h.recv();
  h.send({ flags: TCP_ACK, seq: PEER_ISS, ack: iss + 101, ts: [200, data.ts![0]] });
  t.equal(tcb.flightSize, 0, 'the ACK is taken');
  t.equal(tcb.rtt.samples, samples, 'but not as a round trip as long as the wait');
});
