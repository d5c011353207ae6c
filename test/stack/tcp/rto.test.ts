/**
 * The retransmission timeout and its RTT samples (RFC 6298): Karn's rule (§3), no RTT sample from a
 * segment that was sent more than once, nor from an echoed timestamp older than the last timeout or an
 * old duplicate; the RTO after a handshake without a sample ((5.7)); what a timeout resends.
 */
import t from 'tap';
import { Harness, PEER_IP, PEER_ISS, STACK_IP, TCP_ACK, TCP_SYN, established } from '../../helpers/tcp-harness.ts';
import { RTO_FALLBACK_MS } from '../../../src/stack/tcp/rtt.ts';
import { State } from '../../../src/stack/tcp/state.ts';

t.test('Karn: a segment sent again by fast retransmit gives no RTT sample (RFC 6298 §3)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(4 * 1460), 0, 4 * 1460);
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
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
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

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('a timeout retransmits the oldest segment even when the window has closed since (it probes it)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(2920), 0, 2920);
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

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('an echoed timestamp from before a timeout gives no RTT sample (a lagging TS.Recent, RFC 7323 §4.3)', async (t) => {
  const { h, tcb, iss } = established({}, { ts: [100, 0] });
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
  const first = h.recvOne();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 101, ts: [101, first.ts![0]] });
  const rto = tcb.rtt.rtoMs;
  const samples = tcb.rtt.samples;
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
  h.recvOne();
  h.poll(tcb.rtt.rtoMs);
  t.equal(h.recvOne().seq, iss + 101, 'retransmitted after the timeout');
  h.poll(5);
  // The peer had the first copy; its ACK was lost. Answering the duplicate it echoes its TS.Recent,
  // which still holds the timestamp of the first data segment, long before.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 201, ts: [102, first.ts![0]] });
  t.equal(tcb.rtt.samples, samples, 'no sample from the stale echo');
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
  const next = h.recvOne();
  h.poll(5);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 301, ts: [103, next.ts![0]] });
  t.equal(tcb.rtt.samples, samples + 1, 'a fresh echo is sampled');
  t.ok(tcb.rtt.rtoMs <= rto, `and the RTO comes back from its backoff (${tcb.rtt.rtoMs} ms)`);
});

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('a handshake that needed a retransmission and gave no RTT sample starts data at a 3 s RTO (RFC 6298 (5.7))', async (t) => {
  const h = new Harness();
  const tcb = h.view(h.tcp.sockets.connect(1, STACK_IP, 5555, PEER_IP, 80));
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

// Found by the scenario simulator (sim/scenario.ts), reduced to a scripted peer.
t.test('an old duplicate gives no RTT sample: it echoes a TS.Recent from before its ACK was lost', async (t) => {
  const { h, tcb, iss } = established({}, { ts: [100, 0] });
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
  const data = h.recvOne();
  const samples = tcb.rtt.samples;
  // The peer's ACK of it is lost; before our timer fires, a probe below RCV.NXT carries the same ACK.
  h.poll(tcb.rtt.rtoMs - 1);
  h.recv();
  h.send({ flags: TCP_ACK, seq: PEER_ISS, ack: iss + 101, ts: [200, data.ts![0]] });
  t.equal(tcb.flightSize, 0, 'the ACK is taken');
  t.equal(tcb.rtt.samples, samples, 'but not as a round trip as long as the wait');
});

// Found by the scale bench (a million connections opened 2,048 at a time over a full TX ring), reduced to a scripted peer.
t.test('a SYN|ACK that arrives while the SYN sent again after a timeout waits for a TX slot: SND.NXT catches up with SND.UNA', async (t) => {
  const h = new Harness();
  const tcb = h.view(h.tcp.sockets.connect(1, STACK_IP, 5555, PEER_IP, 80));
  h.poll();
  const syn = h.recvOne();
  h.poll(1000); // the RTO fires: the SYN goes again at the next output pass, from SND.NXT = ISS
  // The TX ring is full: the output pass before the next burst cannot send it, and the SYN|ACK answering the first SYN arrives.
  const txAlloc = h.stackPort.txAlloc;
  h.stackPort.txAlloc = () => 0;
  h.send({ flags: TCP_SYN | TCP_ACK, seq: PEER_ISS, ack: syn.seq + 1, srcPort: 80, dstPort: 5555, mss: 1460 });
  h.stackPort.txAlloc = txAlloc;
  t.equal(tcb.state, State.Established);
  t.equal(tcb.sndNxt, tcb.sndUna, 'SND.NXT is not left behind SND.UNA (nothing "unsent" that was never written)');
  const out = h.recv();
  t.same(out.map((s) => [s.flags, s.seq, s.payload.length]), [[TCP_ACK, syn.seq + 1, 0]], 'only the ACK of the SYN|ACK, no phantom data');
});
