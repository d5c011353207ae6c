/**
 * Flow control against a scripted peer: the persist timer and zero-window
 * probes, silly window avoidance on both sides, window updates when the
 * application reads (RFC 9293 §3.8.6), the window a SYN|ACK offers, a timeout's retransmission into
 * a small window, and a peer that stops sending timestamps (RFC 7323).
 */
import t from 'tap';
import { Harness, LISTEN_SOCK, PEER_ISS, TCP_ACK, TCP_SYN, established, type Seg } from '../../helpers/tcp-harness.ts';
import { State } from '../../../src/stack/tcp/state.ts';

t.test('zero window: the persist timer probes with backoff until the window opens (RFC 9293 §3.8.6.1)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(2920), 0, 2920);
  t.equal(h.recv().length, 2);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 2920, win: 0 });
  h.tcp.sockets.send(tcb.id, new Uint8Array(1000), 0, 1000);
  t.same(h.recv(), [], 'nothing sent into a zero window');
  const rto = tcb.rtt.rtoMs;
  h.poll(rto);
  const probe = h.recvOne();
  t.equal(probe.payload.length, 0, 'the probe carries no data');
  t.equal(probe.seq, iss + 2920, 'an ACK for SND.UNA - 1, which the peer must answer');
  h.poll(rto);
  t.same(h.recv(), [], 'the next probe waits twice as long');
  h.poll(rto);
  t.equal(h.recvOne().seq, iss + 2920, 'second probe after backoff');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 2920, win: 65535 });
  const data = h.recvOne();
  t.equal(data.payload.length, 1000, 'the window opened: the data goes');
  t.equal(data.seq, iss + 1 + 2920);
});

t.test('sender silly window avoidance: no small piece cut by the window, until the persist timer overrides (RFC 9293 §3.8.6.2.1)', async (t) => {
  const { h, tcb, iss } = established({}, { win: 2000 });
  t.equal(tcb.maxSndWnd, 2000);
  h.tcp.sockets.send(tcb.id, new Uint8Array(5000), 0, 5000);
  t.same(h.recv().map((s) => s.payload.length), [1460], 'one full segment; the 540 bytes left in the window wait');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 1460, win: 2000 });
  t.same(h.recv().map((s) => s.payload.length), [1460], 'again a full segment only');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 2920, win: 600 });
  t.same(h.recv(), [], '600 bytes: less than half the largest window');
  h.poll(tcb.rtt.rtoMs);
  t.same(h.recv().map((s) => s.payload.length), [600], 'the persist timer sends what fits');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 3520, win: 2000 });
  t.same(h.recv().map((s) => s.payload.length), [1460], 'a full segment; the last 20 bytes wait for Nagle, not for the window');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 4980, win: 2000 });
  t.same(h.recv().map((s) => s.payload.length), [20], 'the end of the data goes, however small');
});

t.test('receiver silly window avoidance and the window update when the application reads (RFC 9293 §3.8.6.2.2)', async (t) => {
  const { h, tcb } = established({ rcvbuf: 8192 });
  let seq = PEER_ISS + 1;
  const acks: Seg[] = [];
  for (let left = 8192; left > 0;) {
    const n = Math.min(1460, left);
    h.send({ flags: TCP_ACK, seq, ack: tcb.iss + 1, payload: new Uint8Array(n) });
    seq += n;
    left -= n;
    acks.push(...h.recv());
  }
  h.poll(40);
  acks.push(...h.recv());
  const last = acks[acks.length - 1];
  t.equal(last.ack, seq, 'everything acknowledged');
  t.equal(last.win, 0, 'the buffer is full: window 0');
  const into = new Uint8Array(8192);
  h.tcp.sockets.receive(tcb.id, into, 0, 100, false);
  h.poll(40);
  t.same(h.recv(), [], 'reading 100 bytes announces nothing: a 100-byte window would be silly');
  h.send({ flags: TCP_ACK, seq: seq - 1, ack: tcb.iss + 1 }); // a zero-window probe
  t.equal(h.recvOne().win, 0, 'and a probe is still answered with window 0');
  h.tcp.sockets.receive(tcb.id, into, 0, 1400, false);
  const update = h.recvOne();
  t.equal(update.win, 1500, 'at least one MSS free: the window update goes at once');
  t.equal(update.ack, seq);
});

t.test('a peer that stops sending timestamps mid-connection is still served (RFC 7323 §3.2; mTCP drops it)', async (t) => {
  const { h, tcb, iss } = established({}, { ts: [100, 0] });
  t.ok(tcb.tsOk, 'timestamps negotiated');
  const d = new Uint8Array(500);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1, payload: d, ts: [102, 0] });
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 501, ack: iss + 1, payload: d, ts: null });
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1001, ack: iss + 1, payload: d, ts: null });
  t.equal(tcb.rcvBuf.readable, 1500, 'segments without timestamps are accepted');
  h.poll(40);
  t.equal(h.recv().pop()?.ack, PEER_ISS + 1501, 'and acknowledged');
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
  h.recv();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1501, ack: iss + 101, ts: null });
  t.equal(tcb.flightSize, 0, 'their ACKs are taken');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1501, ack: iss + 101, payload: d, ts: [50, 0] });
  t.equal(tcb.rcvBuf.readable, 1500, 'PAWS still rejects an old timestamp when they come back');
  t.equal(tcb.state, State.Established);
});

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('a timeout retransmits data the persist timer sent into a small window (RFC 6298 (5.4); SWS is for new data)', async (t) => {
  // The peer's window closes to 600 bytes, less than half its largest: silly window avoidance holds
  // the data until the persist timer sends what fits. That segment is lost; its retransmission must
  // not be held by the same rule (the connection used to stall until ETIMEDOUT).
  const { h, tcb, iss } = established({}, { win: 2000 });
  h.tcp.sockets.send(tcb.id, new Uint8Array(5000), 0, 5000);
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

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('going back after a timeout, a piece cut short by the window is not held by silly window avoidance', async (t) => {
  const { h, tcb, iss } = established({}, { win: 3000 });
  h.tcp.sockets.send(tcb.id, new Uint8Array(5000), 0, 5000);
  t.same(h.recv().map((s) => s.payload.length), [1460, 1460], 'the 80 bytes left in the window wait (SWS)');
  h.poll(tcb.rtt.rtoMs);
  t.same(h.recv().map((s) => [s.seq, s.payload.length]), [[iss + 1, 1460]], 'the timeout resends the first segment');
  // Its ACK shrinks the window to 1,200 bytes: less than half the largest, but this is data already sent.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 1460, win: 1200 });
  t.same(h.recv().map((s) => [s.seq, s.payload.length]), [[iss + 1 + 1460, 1200]], 'what fits of the second goes at once');
});

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('a SYN|ACK offers the receive buffer, not a window computed from a right edge never advertised', async (t) => {
  // RCV.NXT is the peer's ISS + 1: anywhere in sequence space, far from the zeroed right edge.
  for (const iss of [5000, 0x7fff0000, 0xfffff000]) {
    const h = new Harness({ rcvbuf: 2048 });
    h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
    h.send({ flags: TCP_SYN, seq: iss, mss: 1460, wscale: 0 });
    t.equal(h.recvOne().win, 2048, `peer ISS ${iss}: the SYN|ACK offers the 2,048-byte buffer`);
  }
});
