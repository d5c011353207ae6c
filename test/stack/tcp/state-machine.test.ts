/**
 * RFC 9293 state machine, segment by segment, against a scripted peer.
 * Each case names the RFC clause it checks.
 */
import t from 'tap';
import { Harness, LISTEN_SOCK, PEER_ISS, established, PEER_IP, STACK_IP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, describe } from '../../helpers/tcp-harness.ts';
import { State } from '../../../src/stack/tcp/state.ts';
import { ECONNREFUSED, ECONNRESET, ETIMEDOUT } from '../../../src/stack/errno.ts';
import { DATA_RETRIES, SYN_RETRIES } from '../../../src/stack/tcp/sender.ts';
import { DELAYED_ACK_MS, FIN_WAIT2_TIMEOUT_MS } from '../../../src/stack/tcp/timers.ts';

t.test('passive open: SYN gets SYN|ACK, the ACK establishes (RFC 9293 §3.5, §3.10.7.2)', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1400, wscale: 7, sackPermitted: true, ts: [100, 0] });
  const s = h.recvOne();
  t.equal(s.flags, TCP_SYN | TCP_ACK, describe(s));
  t.equal(s.ack, PEER_ISS + 1);
  t.equal(s.mss, 1460, 'announces MTU - 40');
  t.ok(s.wscale >= 0, 'echoes window scaling since the peer offered it');
  t.ok(s.sackPermitted);
  t.same(s.ts?.[1], 100, 'echoes TSval');
  const l = h.tcp.sockets.listener(80)!;
  t.equal(l.halfOpen, 1);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, ts: [101, s.ts![0]] });
  t.equal(l.queueCount, 1, 'queued for accept');
  t.same(h.woken.at(-1), [LISTEN_SOCK, 1], 'listener woken with EPOLLIN');
  const tcb = h.view(h.tcp.sockets.accept(l, 1));
  t.equal(tcb.state, State.Established);
  t.equal(tcb.sndMss, 1400, 'MSS is the smaller of the two');
  t.equal(tcb.sndWscale, 7);
  t.ok(tcb.tsOk && tcb.sackOk);
});

t.test('SYN without options: defaults MSS 536, no scaling, no timestamps (RFC 9293 §3.7.1, RFC 7323 §2.2)', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS });
  const s = h.recvOne();
  t.equal(s.wscale, -1, 'no WS option in SYN|ACK when the SYN had none');
  t.equal(s.ts, null);
  t.notOk(s.sackPermitted);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1 });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  t.equal(tcb.sndMss, 536);
  t.equal(tcb.sndWscale, 0);
  t.notOk(tcb.tsOk);
});

t.test('active open: SYN, SYN|ACK, ACK (RFC 9293 §3.10.7.3)', async (t) => {
  const h = new Harness();
  const tcb = h.view(h.tcp.sockets.connect(1, STACK_IP, 0, PEER_IP, 80));
  h.poll();
  const syn = h.recvOne();
  t.equal(syn.flags, TCP_SYN);
  t.equal(syn.mss, 1460);
  t.ok(syn.sackPermitted && syn.ts !== null && syn.wscale >= 0, 'offers SACK, timestamps, window scaling');
  t.equal(tcb.state, State.SynSent);
  h.send({ flags: TCP_SYN | TCP_ACK, seq: PEER_ISS, ack: syn.seq + 1, srcPort: 80, dstPort: syn.srcPort, mss: 1000 });
  t.equal(tcb.state, State.Established);
  t.same(h.woken.at(-1), [1, 4], 'EPOLLOUT on connect');
  h.poll();
  const ack = h.recvOne();
  t.equal(ack.flags, TCP_ACK);
  t.equal(ack.ack, PEER_ISS + 1);
  t.equal(tcb.sndMss, 1000);
});

t.test('simultaneous open: SYN crosses SYN (RFC 9293 §3.5 figure 8)', async (t) => {
  const h = new Harness();
  const tcb = h.view(h.tcp.sockets.connect(1, STACK_IP, 5555, PEER_IP, 80));
  h.poll();
  const syn = h.recvOne();
  h.send({ flags: TCP_SYN, seq: PEER_ISS, srcPort: 80, dstPort: 5555, mss: 1460 });
  t.equal(tcb.state, State.SynReceived);
  h.poll();
  const synAck = h.recvOne();
  t.equal(synAck.flags, TCP_SYN | TCP_ACK);
  t.equal(synAck.seq, syn.seq, 'same ISS');
  t.equal(synAck.ack, PEER_ISS + 1);
  h.send({ flags: TCP_SYN | TCP_ACK, seq: PEER_ISS, ack: syn.seq + 1, srcPort: 80, dstPort: 5555 });
  // The peer's SYN|ACK acknowledges our SYN: the ACK step establishes.
  t.equal(tcb.state, State.Established);
});

t.test('data both ways, then the peer closes first (CLOSE_WAIT, LAST_ACK)', async (t) => {
  const { h, tcb, iss } = established();
  const data = new TextEncoder().encode('hello');
  h.send({ flags: TCP_ACK | TCP_PSH, seq: PEER_ISS + 1, ack: iss + 1, payload: data });
  t.equal(tcb.rcvBuf.readable, 5);
  t.same(h.woken.at(-1), [1, 1], 'EPOLLIN');
  const got = new Uint8Array(16);
  t.equal(h.tcp.sockets.receive(tcb.id, got, 0, 16, false), 5);
  t.equal(new TextDecoder().decode(got.subarray(0, 5)), 'hello');
  t.equal(h.tcp.sockets.send(tcb.id, data, 0, 5), 5);
  h.poll();
  const out = h.recvOne();
  t.equal(out.flags, TCP_ACK | TCP_PSH, 'the ACK of the request rides on the reply');
  t.equal(out.ack, PEER_ISS + 6);
  t.equal(out.seq, iss + 1);
  h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 6, ack: iss + 6 });
  t.equal(tcb.state, State.CloseWait);
  t.equal(h.tcp.sockets.receive(tcb.id, got, 0, 16, false), 0, 'end of stream');
  h.tcp.sockets.close(tcb.id);
  t.equal(tcb.state, State.LastAck);
  h.poll();
  const fin = h.recvOne();
  t.equal(fin.flags, TCP_ACK | TCP_FIN, describe(fin));
  t.equal(fin.ack, PEER_ISS + 7, 'acknowledges the FIN');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 7, ack: fin.seq + 1 });
  t.notOk(tcb.inUse, 'released after LAST_ACK');
  t.equal(h.tcp.activeCount, 0);
});

t.test('we close first: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT (RFC 9293 §3.6 case 1)', async (t) => {
  const { h, tcb, iss } = established({ timeWaitMs: 2000 });
  h.tcp.sockets.shutdownWrite(tcb.id);
  t.equal(tcb.state, State.FinWait1);
  h.poll();
  const fin = h.recvOne();
  t.equal(fin.flags, TCP_ACK | TCP_FIN);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 2 });
  t.equal(tcb.state, State.FinWait2);
  h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 1, ack: iss + 2 });
  t.equal(tcb.state, State.TimeWait);
  const ack = h.recvOne();
  t.equal(ack.flags, TCP_ACK);
  t.equal(ack.ack, PEER_ISS + 2);
  // A retransmitted FIN in TIME_WAIT is acknowledged again. RFC 9293 §3.10.7.4
  h.poll(500);
  h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 1, ack: iss + 2 });
  t.equal(h.recvOne().ack, PEER_ISS + 2);
  h.poll(1900);
  t.equal(tcb.state, State.TimeWait, 'the retransmitted FIN restarted the timer');
  h.poll(200);
  t.equal(tcb.state, State.Closed, 'TIME_WAIT lasts tcp_timewait');
});

t.test('an orphan in FIN_WAIT_2 whose peer never sends its FIN is freed after FIN_WAIT2_TIMEOUT_MS (Linux tcp_fin_timeout)', async (t) => {
  const { h, tcb, iss } = established({ idleTimeoutMs: -1 });
  h.tcp.sockets.close(tcb.id);
  t.equal(h.recvOne().flags, TCP_ACK | TCP_FIN);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 2 });
  t.equal(tcb.state, State.FinWait2);
  h.poll(FIN_WAIT2_TIMEOUT_MS - 1);
  t.equal(h.tcp.activeCount, 1, 'still waiting');
  h.poll(1);
  t.equal(h.tcp.activeCount, 0, 'given up: nothing leaks when the peer vanished');
});

t.test('keepalive also watches FIN_WAIT_2 while the application holds the socket (as Linux)', async (t) => {
  const { h, tcb, iss } = established({ idleTimeoutMs: -1 });
  h.tcp.sockets.shutdownWrite(tcb.id);
  h.recv();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 2 });
  t.equal(tcb.state, State.FinWait2);
  h.tcp.sockets.setKeepAlive(tcb.id, true, 1000, 500, 2);
  h.poll(1000);
  t.equal(h.recvOne().seq, iss + 1, 'a probe for SND.UNA - 1');
  h.poll(500);
  h.poll(500);
  h.poll(500);
  t.equal(tcb.error, ETIMEDOUT, 'the vanished peer is detected');
});

t.test('tcp_timewait = 0 releases the block on entering TIME_WAIT (mTCP default)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.close(tcb.id);
  h.poll();
  h.recvOne();
  h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 1, ack: iss + 2 });
  // The block is given back by the output pass that sends its final ACK.
  t.equal(h.recvOne().flags, TCP_ACK, 'the final ACK still goes out');
  t.notOk(tcb.inUse);
});

t.test('simultaneous close: CLOSING then TIME_WAIT (RFC 9293 §3.6 case 2)', async (t) => {
  const { h, tcb, iss } = established({ timeWaitMs: 1000 });
  h.tcp.sockets.shutdownWrite(tcb.id);
  h.poll();
  h.recvOne();
  h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 1, ack: iss + 1 }); // FIN crosses ours
  t.equal(tcb.state, State.Closing);
  t.equal(h.recvOne().ack, PEER_ISS + 2);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 2, ack: iss + 2 });
  t.equal(tcb.state, State.TimeWait);
});

t.test('RST in each state (RFC 9293 §3.10.7, RFC 5961 §3.2)', async (t) => {
  t.test('SYN_SENT: RST acknowledging our SYN refuses the connection', async (t) => {
    const h = new Harness();
    const tcb = h.view(h.tcp.sockets.connect(1, STACK_IP, 5555, PEER_IP, 80));
    h.poll();
    const syn = h.recvOne();
    h.send({ flags: TCP_RST, seq: 0, srcPort: 80, dstPort: 5555 });
    t.equal(tcb.state, State.SynSent, 'a RST without ACK is ignored');
    h.send({ flags: TCP_RST | TCP_ACK, seq: 0, ack: syn.seq + 1, srcPort: 80, dstPort: 5555 });
    t.equal(tcb.error, ECONNREFUSED);
    t.equal(tcb.state, State.Closed);
  });
  t.test('SYN_RECEIVED (passive): back to LISTEN silently', async (t) => {
    const h = new Harness();
    h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
    h.send({ flags: TCP_SYN, seq: PEER_ISS });
    h.recvOne();
    t.equal(h.tcp.activeCount, 1);
    h.send({ flags: TCP_RST, seq: PEER_ISS + 1 });
    t.equal(h.tcp.activeCount, 0);
    t.equal(h.tcp.sockets.listener(80)!.halfOpen, 0);
  });
  for (const [name, setup] of [
    ['ESTABLISHED', () => established()],
    ['FIN_WAIT_1', () => { const e = established(); e.h.tcp.sockets.shutdownWrite(e.tcb.id); e.h.poll(); e.h.recv(); return e; }],
    ['CLOSE_WAIT', () => { const e = established(); e.h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 1, ack: e.iss + 1 }); e.h.poll(); e.h.recv(); return e; }],
  ] as const) {
    t.test(`${name}: exact RST resets with ECONNRESET, in-window RST gets a challenge ACK`, async (t) => {
      const { h, tcb } = setup();
      const st = tcb.state;
      const rcvNxt = tcb.rcvNxt;
      h.send({ flags: TCP_RST, seq: rcvNxt + 10 });
      t.equal(tcb.state, st, 'not reset by an inexact RST');
      t.equal(h.recvOne().flags, TCP_ACK, 'challenge ACK');
      h.send({ flags: TCP_RST, seq: rcvNxt });
      t.equal(tcb.error, ECONNRESET);
      t.equal(tcb.state, State.Closed);
      t.same(h.woken.at(-1), [1, 0x1 | 0x4 | 0x8 | 0x10], 'EPOLLIN|OUT|ERR|HUP');
    });
  }
  t.test('LAST_ACK: RST closes without error', async (t) => {
    const { h, tcb, iss } = established();
    h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 1, ack: iss + 1 });
    h.tcp.sockets.close(tcb.id);
    h.poll();
    h.recv();
    t.equal(tcb.state, State.LastAck);
    h.send({ flags: TCP_RST, seq: PEER_ISS + 2 });
    t.notOk(tcb.inUse);
  });
});

t.test('segments to a closed port get a RST (RFC 9293 §3.10.7.1)', async (t) => {
  const h = new Harness();
  h.send({ flags: TCP_SYN, seq: 1000, dstPort: 81 });
  const r = h.recvOne();
  t.equal(r.flags, TCP_RST | TCP_ACK);
  t.equal(r.seq, 0);
  t.equal(r.ack, 1001);
  h.send({ flags: TCP_ACK, seq: 1000, ack: 777, dstPort: 81 });
  const r2 = h.recvOne();
  t.equal(r2.flags, TCP_RST);
  t.equal(r2.seq, 777);
  h.send({ flags: TCP_RST, seq: 1000, dstPort: 81 });
  t.same(h.recv(), [], 'never a RST for a RST');
});

t.test('RSTs answering segments without a connection have a per-context budget per second', async (t) => {
  const h = new Harness({ statelessRstLimit: 3 });
  for (let i = 0; i < 5; i++) h.send({ flags: TCP_SYN, seq: 1000, srcPort: 42000 + i, dstPort: 81 });
  t.equal(h.recv().length, 3, 'three RSTs, two suppressed');
  t.equal(h.ctx.stats.tcpRstsSuppressed, 2);
  t.equal(h.ctx.stats.dropsByName().tcp_no_socket, 5, 'each SYN still counted as a drop');
  h.poll(1000);
  h.send({ flags: TCP_SYN, seq: 1000, srcPort: 42009, dstPort: 81 });
  t.equal(h.recvOne().flags, TCP_RST | TCP_ACK, 'a new second, a new budget');
});

t.test('an ACK to a listener gets a RST (RFC 9293 §3.10.7.2)', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_ACK, seq: 1, ack: 4242 });
  const r = h.recvOne();
  t.equal(r.flags, TCP_RST);
  t.equal(r.seq, 4242);
});

t.test('a SYN in ESTABLISHED gets a challenge ACK, not a reset (RFC 5961 §4.2)', async (t) => {
  const { h, tcb } = established();
  h.send({ flags: TCP_SYN, seq: PEER_ISS + 100 });
  t.equal(tcb.state, State.Established);
  t.equal(h.recvOne().flags, TCP_ACK);
});

t.test('retransmission timeout with exponential backoff (RFC 6298 (5.4)-(5.6))', async (t) => {
  const { h, tcb } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
  h.poll();
  const first = h.recvOne();
  t.equal(first.payload.length, 100);
  const rto = tcb.rtt.rtoMs;
  h.poll(rto - 1);
  t.same(h.recv(), [], 'nothing before the RTO');
  h.poll(1);
  const re = h.recvOne();
  t.equal(re.seq, first.seq, 'retransmits the same data');
  t.equal(tcb.rtt.rtoMs, Math.min(rto * 2, 60_000), 'RTO doubled');
  t.equal(h.ctx.stats.tcpTimeouts, 1);
});

t.test('connect fails with ETIMEDOUT after bounded SYN retries', async (t) => {
  const h = new Harness({ idleTimeoutMs: -1 });
  const tcb = h.view(h.tcp.sockets.connect(1, STACK_IP, 5555, PEER_IP, 80));
  let syns = 0;
  for (let i = 0; i < 400 && tcb.state === State.SynSent; i++) {
    h.poll(1000);
    syns += h.recv().filter((s) => s.flags === TCP_SYN).length;
  }
  t.equal(tcb.error, ETIMEDOUT);
  t.equal(syns, SYN_RETRIES + 1, 'the first SYN and its retries');
});

t.test('idle timeout: tcp_timeout without segments fails the connection with ETIMEDOUT and a RST', async (t) => {
  const { h, tcb } = established({ idleTimeoutMs: 5000 });
  h.poll(4999);
  t.equal(tcb.state, State.Established);
  h.poll(2);
  t.equal(tcb.error, ETIMEDOUT);
  t.equal(h.recvOne().flags & TCP_RST, TCP_RST);
});

t.test('window scaling applies to the peer window after the handshake (RFC 7323 §2.3)', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, wscale: 3, win: 1000 });
  const s = h.recvOne();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, win: 1000 });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  t.equal(tcb.sndWnd, 8000);
});

t.test('PAWS drops a segment with an old timestamp (RFC 7323 §5.3)', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, ts: [1000, 0] });
  const s = h.recvOne();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, ts: [1001, s.ts![0]] });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, ts: [900, s.ts![0]], payload: new Uint8Array(10) });
  t.equal(tcb.rcvBuf.readable, 0, 'old duplicate dropped');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, ts: [1002, s.ts![0]], payload: new Uint8Array(10) });
  t.equal(tcb.rcvBuf.readable, 10);
});

t.test('out-of-order data is held and delivered when the gap fills, with an immediate duplicate ACK (RFC 5681 §4.2)', async (t) => {
  const { h, tcb, iss } = established();
  const a = new Uint8Array(100).fill(1);
  const b = new Uint8Array(100).fill(2);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 101, ack: iss + 1, payload: b });
  t.equal(tcb.rcvBuf.readable, 0);
  t.equal(h.recvOne().ack, PEER_ISS + 1, 'duplicate ACK at once');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1, payload: a });
  t.equal(tcb.rcvBuf.readable, 200);
  const got = new Uint8Array(200);
  h.tcp.sockets.receive(tcb.id, got, 0, 200, false);
  t.same([got[0], got[99], got[100], got[199]], [1, 1, 2, 2]);
});

t.test('delayed ACK: one segment waits up to DELAYED_ACK_MS, a second is acknowledged at once (RFC 5681 §4.2)', async (t) => {
  const { h, tcb, iss } = established();
  const d = new Uint8Array(1460);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1, payload: d });
  t.same(h.recv(), [], 'no ACK for a single segment at once');
  h.poll(DELAYED_ACK_MS - 1);
  t.same(h.recv(), [], 'nor before the delay is over');
  h.poll(1);
  t.equal(h.recvOne().ack, PEER_ISS + 1 + 1460, 'the delayed ACK, on time');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1 + 1460, ack: iss + 1, payload: d });
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1 + 2920, ack: iss + 1, payload: d });
  t.equal(h.recvOne().ack, PEER_ISS + 1 + 3 * 1460, 'every second segment is acknowledged at once');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1 + 3 * 1460, ack: iss + 1, payload: d });
  h.tcp.sockets.receive(tcb.id, new Uint8Array(8192), 0, 8192, false);
  h.tcp.sockets.send(tcb.id, new Uint8Array(10), 0, 10);
  const reply = h.recvOne();
  t.equal(reply.payload.length, 10, 'the reply carries the ACK');
  t.equal(reply.ack, PEER_ISS + 1 + 4 * 1460);
  h.poll(DELAYED_ACK_MS);
  t.same(h.recv(), [], 'and no pure ACK follows');
});

t.test('a data connection whose peer never answers fails with ETIMEDOUT after DATA_RETRIES (RFC 6298, RFC 9293 §3.8.3)', async (t) => {
  const { h, tcb } = established({ idleTimeoutMs: -1 });
  h.tcp.sockets.send(tcb.id, new Uint8Array(100), 0, 100);
  h.poll();
  let sent = h.recv().length;
  for (let i = 0; i < 200 && tcb.state !== State.Closed; i++) {
    h.poll(tcb.rtt.rtoMs);
    sent += h.recv().filter((s) => s.payload.length > 0).length;
  }
  t.equal(tcb.error, ETIMEDOUT);
  t.equal(sent, 1 + DATA_RETRIES, 'the segment and its retransmissions, no more');
  t.equal(tcb.rtt.rtoMs, 60_000, 'the backoff reached the maximum RTO');
});

t.test('fast retransmit after three duplicate ACKs (RFC 5681 §3.2)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(4 * 1460), 0, 4 * 1460);
  h.poll();
  const segs = h.recv();
  t.equal(segs.length, 4, 'four full segments');
  for (let i = 0; i < 3; i++) h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 });
  const re = h.recv();
  t.ok(re.some((s) => s.seq === iss + 1 && s.payload.length > 0), 'the first segment is sent again');
  t.ok(tcb.inRecovery);
});

t.test('a FIN acknowledged after its retransmission timeout still counts as acknowledged (regression)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.shutdownWrite(tcb.id);
  h.poll();
  t.equal(h.recvOne().flags, TCP_ACK | TCP_FIN);
  h.poll(tcb.rtt.rtoMs); // the timer fires; the FIN goes out again
  t.equal(h.recvOne().flags, TCP_ACK | TCP_FIN);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 2 });
  t.equal(tcb.state, State.FinWait2);
  h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 1, ack: iss + 2 });
  t.equal(tcb.state, State.Closed, 'TIME_WAIT (0 s) then CLOSED');
});

t.test('RST in FIN_WAIT_2, CLOSING and TIME_WAIT (RFC 9293 §3.10.7.4 second)', async (t) => {
  t.test('FIN_WAIT_2: reset', async (t) => {
    const { h, tcb, iss } = established();
    h.tcp.sockets.shutdownWrite(tcb.id);
    h.poll();
    h.recv();
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 2 });
    t.equal(tcb.state, State.FinWait2);
    h.send({ flags: TCP_RST, seq: PEER_ISS + 1 });
    t.equal(tcb.error, ECONNRESET);
    t.equal(tcb.state, State.Closed);
  });
  t.test('CLOSING: closes without error', async (t) => {
    const { h, tcb, iss } = established();
    h.tcp.sockets.shutdownWrite(tcb.id);
    h.poll();
    h.recv();
    h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 1, ack: iss + 1 });
    t.equal(tcb.state, State.Closing);
    h.send({ flags: TCP_RST, seq: PEER_ISS + 2 });
    t.equal(tcb.state, State.Closed);
    t.equal(tcb.error, 0);
  });
  t.test('TIME_WAIT: closes', async (t) => {
    const { h, tcb, iss } = established({ timeWaitMs: 5000 });
    h.tcp.sockets.shutdownWrite(tcb.id);
    h.poll();
    h.recv();
    h.send({ flags: TCP_ACK | TCP_FIN, seq: PEER_ISS + 1, ack: iss + 2 });
    t.equal(tcb.state, State.TimeWait);
    h.send({ flags: TCP_RST, seq: PEER_ISS + 2 });
    t.equal(tcb.state, State.Closed);
  });
});

t.test('timestamps give RTT samples and the RTO follows them (RFC 7323 §4, RFC 6298 (2.3))', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, ts: [1, 0] });
  const s = h.recvOne();
  h.poll(40);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, ts: [2, s.ts![0]] });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  t.equal(tcb.rtt.samples, 1);
  t.equal(tcb.rtt.srtt, 40, 'SRTT = R');
  t.equal(tcb.rtt.rttvar, 20, 'RTTVAR = R/2');
  t.equal(tcb.rtt.rtoMs, 200, 'RTO = SRTT + 4 RTTVAR = 120, raised to the 200 ms minimum');
});

t.test('an ICMP echo request is answered (RFC 792)', async (t) => {
  const { emitIcmpEcho, parseIcmp, IcmpFields } = await import('../../../src/stack/wire/icmp.ts');
  const { emitIpv4, parseIpv4, Ipv4Fields } = await import('../../../src/stack/wire/ipv4.ts');
  const { emitEthernet } = await import('../../../src/stack/wire/ethernet.ts');
  const { FrameBatch } = await import('../../../src/stack/port.ts');
  const h = new Harness();
  const b = new FrameBatch(4);
  h.peer.txAlloc(0, b, 1);
  const buf = b.buf[0];
  const o = b.off[0];
  const data = new Uint8Array([9, 8, 7]);
  const n = emitIcmpEcho(buf, o + 34, 8, 77, 3, data, 0, 3);
  emitIpv4(buf, o + 14, PEER_IP, STACK_IP, 1, n, 1, 64);
  emitEthernet(buf, o, 0x02000000aa01, 0x02000000bb02, 0x0800);
  b.len[0] = 34 + n;
  h.peer.txBurst(0, b, 1);
  h.poll();
  t.equal(h.peer.rxBurst(0, b, 4), 1);
  const ip = new Ipv4Fields();
  t.equal(parseIpv4(b.buf[0], b.off[0] + 14, b.len[0] - 14, ip), 0);
  t.equal(ip.dst >>> 0, PEER_IP);
  const icmp = new IcmpFields();
  t.equal(parseIcmp(b.buf[0], ip.payloadOff, ip.payloadLen, icmp), 0);
  t.same([icmp.type, icmp.id, icmp.seq, ...b.buf[0].subarray(icmp.payloadOff, icmp.payloadOff + 3)], [0, 77, 3, 9, 8, 7]);
  t.equal(h.ctx.stats.icmpEchoReplies, 1);
});

t.test('SACK blocks report held out-of-order data, the newest block first (RFC 2018 §4)', async (t) => {
  const h = new Harness({ rcvbuf: 65536 });
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, sackPermitted: true, ts: [1, 0] });
  const s = h.recvOne();
  t.ok(s.sackPermitted);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, ts: [2, s.ts![0]] });
  const tcb = h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1));
  const d = new Uint8Array(100);
  const base = PEER_ISS + 1;
  h.send({ flags: TCP_ACK, seq: base + 200, ack: s.seq + 1, payload: d, ts: [3, s.ts![0]] });
  let a = h.recvOne();
  t.equal(a.ack, base);
  t.same(a.sack, [[base + 200, base + 300]]);
  h.send({ flags: TCP_ACK, seq: base + 400, ack: s.seq + 1, payload: d, ts: [4, s.ts![0]] });
  a = h.recvOne();
  t.same(a.sack, [[base + 400, base + 500], [base + 200, base + 300]], 'the newest block first');
  h.send({ flags: TCP_ACK, seq: base + 300, ack: s.seq + 1, payload: d, ts: [5, s.ts![0]] });
  a = h.recvOne();
  t.same(a.sack, [[base + 200, base + 500]], 'adjacent blocks merge');
  h.send({ flags: TCP_ACK, seq: base, ack: s.seq + 1, payload: new Uint8Array(200), ts: [6, s.ts![0]] });
  a = h.recvOne();
  t.equal(a.ack, base + 500);
  t.same(a.sack, [], 'no block once the hole is filled');
  t.equal(tcb.rcvBuf.readable, 500);
});

t.test('Nagle holds a small segment while data is unacknowledged, unless TCP_NODELAY (RFC 896, RFC 1122 §4.2.3.4)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(10), 0, 10);
  h.poll();
  t.equal(h.recvOne().payload.length, 10, 'nothing in flight: sent at once');
  h.tcp.sockets.send(tcb.id, new Uint8Array(10), 0, 10);
  h.poll();
  t.same(h.recv(), [], 'the second small write waits for the ACK');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 11 });
  const held = h.recvOne();
  t.equal(held.payload.length, 10, 'released by the ACK');
  t.equal(held.seq, iss + 11);
  h.tcp.sockets.setNoDelay(tcb.id, true);
  h.tcp.sockets.send(tcb.id, new Uint8Array(10), 0, 10);
  h.poll();
  t.equal(h.recvOne().payload.length, 10, 'TCP_NODELAY: sent although data is in flight');
});

t.test('limited transmit: each of the first two duplicate ACKs sends one new segment (RFC 3042)', async (t) => {
  const { h, tcb, iss } = established({ sndbuf: 65536 });
  h.tcp.sockets.send(tcb.id, new Uint8Array(12 * 1460), 0, 12 * 1460);
  h.poll();
  t.equal(h.recv().length, 10, 'the initial window of 10 segments');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 });
  const one = h.recv();
  t.equal(one.length, 1, 'first duplicate ACK: one new segment');
  t.equal(one[0].seq, iss + 1 + 10 * 1460);
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 });
  t.equal(h.recv().length, 1, 'second duplicate ACK: one more');
  t.notOk(tcb.inRecovery);
});

t.test('keepalive probes an idle peer and fails after the probe count (RFC 1122 §4.2.3.6)', async (t) => {
  const { h, tcb, iss } = established({ idleTimeoutMs: -1 });
  h.tcp.sockets.setKeepAlive(tcb.id, true, 1000, 500, 3);
  h.poll(999);
  t.same(h.recv(), [], 'nothing before the idle time');
  h.poll(1);
  let probe = h.recvOne();
  t.equal(probe.flags, TCP_ACK);
  t.equal(probe.seq, iss, 'the probe carries SND.UNA - 1');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 });
  t.equal(tcb.keepProbes, 0, 'an answer resets the count');
  h.poll(1000);
  probe = h.recvOne();
  for (let i = 0; i < 2; i++) {
    h.poll(500);
    t.equal(h.recvOne().seq, iss, `probe ${i + 2}`);
  }
  t.equal(tcb.state, State.Established);
  h.poll(500);
  t.equal(tcb.error, ETIMEDOUT, 'three unanswered probes: ETIMEDOUT');
});

t.test('SYN cookies when the half-open queue is full (RFC 4987 §3.6)', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 1);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, srcPort: 40000, mss: 1460 });
  t.equal(h.recvOne().flags, TCP_SYN | TCP_ACK);
  t.equal(h.tcp.activeCount, 1, 'the first SYN takes the one half-open slot');
  h.send({ flags: TCP_SYN, seq: 9000, srcPort: 40001, mss: 1400, wscale: 7, ts: [5, 0] });
  const cookie = h.recvOne();
  t.equal(cookie.flags, TCP_SYN | TCP_ACK, 'answered all the same');
  t.equal(h.tcp.activeCount, 1, 'but without a control block');
  t.equal(cookie.wscale, -1, 'no window scaling on a cookie');
  t.equal(cookie.ts, null, 'no timestamps on a cookie');
  t.equal(h.ctx.stats.tcpSynCookiesSent, 1);

  h.send({ flags: TCP_ACK, seq: 9001, ack: cookie.seq + 1, srcPort: 40002 });
  t.equal(h.recvOne().flags, TCP_RST, 'a cookie for another 4-tuple is refused with a RST');
  h.send({ flags: TCP_ACK, seq: 9001, ack: cookie.seq + 2, srcPort: 40001 });
  t.equal(h.recvOne().flags, TCP_RST, 'a forged cookie is refused');

  h.send({ flags: TCP_ACK | TCP_PSH, seq: 9001, ack: cookie.seq + 1, srcPort: 40001, payload: new Uint8Array([1, 2, 3]) });
  t.equal(h.ctx.stats.tcpSynCookiesAccepted, 1);
  const l = h.tcp.sockets.listener(80)!;
  t.equal(l.queueCount, 1, 'rebuilt and queued for accept');
  const tcb = h.view(h.tcp.sockets.accept(l, 2));
  t.equal(tcb.state, State.Established);
  t.equal(tcb.remotePort, 40001);
  t.equal(tcb.sndMss, 1300, 'the MSS from the cookie table (the largest not above 1400)');
  t.equal(tcb.rcvBuf.readable, 3, 'data in the completing ACK is delivered');
  h.poll(DELAYED_ACK_MS);
  t.equal(h.recvOne().ack, 9004, 'and acknowledged');
});

t.test('a SYN cookie expires after two periods of 65 s', async (t) => {
  const h = new Harness({ idleTimeoutMs: -1 });
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 1);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, srcPort: 40000 });
  h.recvOne();
  h.send({ flags: TCP_SYN, seq: 9000, srcPort: 40001 });
  const cookie = h.recvOne();
  h.poll(3 * 65_536);
  h.send({ flags: TCP_ACK, seq: 9001, ack: cookie.seq + 1, srcPort: 40001 });
  t.equal(h.ctx.stats.tcpSynCookiesAccepted, 0);
});

t.test('challenge ACKs have a per-context budget per second (RFC 5961 §7)', async (t) => {
  const h = new Harness({ challengeAckLimit: 2 });
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  const conns: number[] = [];
  for (let i = 0; i < 3; i++) {
    h.send({ flags: TCP_SYN, seq: PEER_ISS, srcPort: 41000 + i });
    const s = h.recvOne();
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, srcPort: 41000 + i });
    conns.push(41000 + i);
  }
  for (const port of conns) h.send({ flags: TCP_RST, seq: PEER_ISS + 50, srcPort: port });
  t.equal(h.recv().length, 2, 'two challenge ACKs, the third suppressed');
  t.equal(h.ctx.stats.tcpChallengeAcksSuppressed, 1);
  h.poll(1000);
  h.send({ flags: TCP_SYN, seq: PEER_ISS + 60, srcPort: conns[2] });
  t.equal(h.recv().length, 1, 'a new second, a new budget');
});
