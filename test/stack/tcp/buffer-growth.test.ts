/**
 * Buffers that grow (issue 14) against a scripted peer: the window scale offered follows rcvbuf_max,
 * the receive window grows with what the application reads per round trip and shrinks back after an
 * idle spell without moving its right edge left (RFC 9293 §3.8.6; by less than the scale's granularity
 * only once the buffer is at its largest, RFC 7323 §2.4), data up to the largest edge offered always has room, the send buffer grows while the application keeps it full, and every
 * ring goes back to its pool once drained.
 */
import t from 'tap';
import { Harness, PEER_ISS, TCP_ACK, TCP_SYN, established, type Seg } from '../../helpers/tcp-harness.ts';

const MIB = 1 << 20;

t.test('the window scale offered follows rcvbuf_max, not rcvbuf (RFC 7323 §2.3)', async (t) => {
  const h = new Harness({ rcvbuf: 8192, rcvbufMax: 4 * MIB });
  h.tcp.sockets.listen(100, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, wscale: 2, ts: null });
  const s = h.recvOne();
  t.equal(s.wscale, 7, 'the smallest shift that fits 4 MiB in 16 bits');
  t.equal(s.win, 8192, 'the SYN|ACK offers the buffer it starts with');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1 });
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: s.seq + 1, payload: new Uint8Array(1460) });
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1461, ack: s.seq + 1, payload: new Uint8Array(1460) });
  t.equal(h.recvOne().win, (8192 - 2920) >>> 7, 'later windows: the current buffer\'s free room, scaled');
  const off = new Harness({ rcvbuf: 8192, rcvbufMax: 8192 });
  off.tcp.sockets.listen(100, 0, 80, 16);
  off.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, wscale: 2, ts: null });
  t.equal(off.recvOne().wscale, 0, 'rcvbuf_max = rcvbuf: no growth, shift 0 as before');
});

/** The right edge an ACK advertises (its window scaled by our shift). */
const rightEdge = (a: Seg, shift: number): number => a.ack + a.win * 2 ** shift;

t.test('the receive window grows with what is read per round trip, shrinks back when idle, and its right edge never moves left', async (t) => {
  const { h, tcb } = established({ rcvbuf: 8192, rcvbufMax: 1 * MIB });
  const shift = tcb.rcvWscale;
  t.equal(shift, 5, '1 MiB needs a shift of 5');
  const sockets = h.tcp.sockets;
  const into = new Uint8Array(MIB);
  let seq = PEER_ISS + 1;
  let edge = seq + 8192;
  let leftMoves = 0;
  // RFC 7323 §2.4: an edge not on the scale's granularity may read up to 2^shift - 1 bytes left (the receiver
  // still honours the largest it offered); we round up while the buffer can grow, so only at its largest.
  let granularMoves = 0;
  const take = (acks: Seg[]): void => {
    for (const a of acks) {
      const e = rightEdge(a, shift);
      if (e <= edge - 2 ** shift) leftMoves++;
      else if (e < edge) granularMoves++;
      else edge = e;
    }
  };
  const windows: number[] = [];
  // Each round trip (10 ms) the peer fills the window it was offered and the application reads it all.
  for (let round = 0; round < 12; round++) {
    // What was offered at the start of the round trip is what the peer may send in it.
    const offered = edge;
    while (seq < offered) {
      const n = Math.min(1460, offered - seq);
      h.send({ flags: TCP_ACK, seq, ack: tcb.iss + 1, payload: new Uint8Array(n) });
      seq += n;
      while (sockets.receive(tcb.id, into, 0, into.length, false) > 0);
      take(h.recv());
    }
    h.poll(10);
    take(h.recv());
    windows.push(edge - seq);
  }
  t.comment(`window offered after each round trip: ${windows.join(' ')}`);
  t.equal(leftMoves + granularMoves, 0, 'no ACK moved the right edge left');
  t.ok(h.tcp.recvBuffers.capacity(tcb.id) >= 512 * 1024, `the buffer grew to ${h.tcp.recvBuffers.capacity(tcb.id)} bytes`);
  t.ok(windows[windows.length - 1] >= 256 * 1024, 'and the window offered with it');
  t.equal(h.tcp.rcvPool.inUse, 0, 'everything read: no ring held');

  // Two idle seconds, then a little data read: the buffer shrinks back to what that needs.
  h.poll(2000);
  h.send({ flags: TCP_ACK, seq, ack: tcb.iss + 1, payload: new Uint8Array(100) });
  seq += 100;
  sockets.receive(tcb.id, into, 0, into.length, false);
  take(h.recv());
  h.poll(200);
  take(h.recv());
  t.equal(h.tcp.recvBuffers.capacity(tcb.id), 8192, 'the window offers rcvbuf again');
  t.ok(edge - seq > 8192, 'while the window offered before still stands');
  t.ok(h.tcp.bufferMemory.used >= edge - seq, 'and its room stays reserved');
  // The peer may still fill what was offered: it all has room, the ring grows to hold it.
  const from = seq;
  let lastAck = 0;
  const note = (acks: Seg[]): void => {
    take(acks);
    for (const a of acks) lastAck = a.ack;
  };
  while (seq < edge) {
    const n = Math.min(1460, edge - seq);
    h.send({ flags: TCP_ACK, seq, ack: tcb.iss + 1, payload: new Uint8Array(n) });
    seq += n;
    note(h.recv());
  }
  h.poll(200);
  note(h.recv());
  t.ok(seq - from > 8192 * 100, `${seq - from} bytes sent up to the right edge offered before`);
  t.equal(lastAck, seq, 'all were taken');
  t.equal(sockets.receive(tcb.id, into, 0, into.length, false), seq - from, 'and are readable');
  t.equal(leftMoves, 0, `the right edge never moved left (${granularMoves} ACKs by less than 2^${shift} at the largest buffer, RFC 7323 §2.4)`);
  t.equal(h.tcp.rcvPool.inUse, 0, 'read: the ring is back');
  t.ok(h.tcp.bufferMemory.used <= MIB, 'the budget holds one buffer of at most rcvbuf_max');
});

t.test('the send buffer grows while the application keeps it full, and goes back when everything is acknowledged', async (t) => {
  const { h, tcb, iss } = established({ sndbuf: 8192, sndbufMax: 1 * MIB }, { wscale: 7, win: 65535 });
  const sockets = h.tcp.sockets;
  const chunk = new Uint8Array(65536);
  let written = 0;
  let acked = 0;
  const sizes: number[] = [];
  for (let round = 0; round < 12; round++) {
    for (;;) {
      const n = sockets.send(tcb.id, chunk, 0, chunk.length);
      if (n <= 0) break;
      written += n;
    }
    h.poll(10);
    // The peer acknowledges every second segment that arrived, with a large window.
    const arrived = h.recv();
    for (let i = 0; i < arrived.length; i++) {
      acked = Math.max(acked, arrived[i].seq + arrived[i].payload.length - (iss + 1));
      if (i % 2 === 1 || i === arrived.length - 1) h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + acked, win: 65535 });
    }
    sizes.push(h.tcp.sendBuffers.capacity(tcb.id));
  }
  t.comment(`send buffer after each round trip: ${sizes.join(' ')}`);
  t.ok(sizes[sizes.length - 1] >= 256 * 1024, 'it grew with the congestion window');
  t.ok(sizes.every((s, i) => i === 0 || s >= sizes[i - 1]), 'and did not shrink while the application kept it full');
  // The application stops writing; the peer acknowledges the rest.
  for (let round = 0; round < 40 && acked < written; round++) {
    h.poll(10);
    for (const s of h.recv()) acked = Math.max(acked, s.seq + s.payload.length - (iss + 1));
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + acked, win: 65535 });
  }
  t.equal(acked, written, `all ${written} bytes acknowledged`);
  t.notOk(h.tcp.sendBuffers.holdsRing(tcb.id), 'drained: the ring went back');
  t.equal(h.tcp.sndPool.inUse, 0);
  t.equal(h.tcp.bufferMemory.used, h.tcp.sendBuffers.capacity(tcb.id), 'the budget holds only what the smaller buffer may use');
  t.ok(h.tcp.sendBuffers.capacity(tcb.id) < sizes[sizes.length - 1], 'and the next one starts a class smaller');
});

t.test('the memory budget holds: connections that would grow past it stay at their size, counted', async (t) => {
  const budget = 96 * 1024;
  const h = new Harness({ rcvbuf: 8192, rcvbufMax: 1 * MIB, bufferMemory: budget });
  const sockets = h.tcp.sockets;
  sockets.listen(100, 0, 80, 16);
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) {
    h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, wscale: 0, ts: null, srcPort: 40000 + i });
    const sa = h.recvOne();
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: sa.seq + 1, srcPort: 40000 + i });
    ids.push(h.view(sockets.accept(sockets.listener(80)!, 10 + i)).id);
  }
  const shift = h.view(ids[0]).rcvWscale;
  const seqs = ids.map(() => PEER_ISS + 1);
  const acked = ids.map(() => PEER_ISS + 1);
  const edges = ids.map(() => PEER_ISS + 1 + 8192);
  const read = ids.map(() => 0);
  let peakUsed = 0;
  const into = new Uint8Array(MIB);
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < ids.length; i++) {
      // A go-back-N peer: what was not acknowledged goes again, up to what was offered.
      seqs[i] = acked[i];
      const offered = edges[i];
      while (seqs[i] < offered) {
        const n = Math.min(1460, offered - seqs[i]);
        h.send({ flags: TCP_ACK, seq: seqs[i], ack: h.view(ids[i]).iss + 1, payload: new Uint8Array(n), srcPort: 40000 + i });
        seqs[i] += n;
        peakUsed = Math.max(peakUsed, h.tcp.bufferMemory.used);
      }
    }
    h.poll(10);
    // The applications read a whole window once per round trip: each buffer would double every round.
    ids.forEach((id, i) => {
      for (let n; (n = sockets.receive(id, into, 0, into.length, false)) > 0;) read[i] += n;
    });
    for (const a of h.recv()) {
      const i = a.dstPort - 40000;
      edges[i] = Math.max(edges[i], rightEdge(a, shift));
      acked[i] = Math.max(acked[i], a.ack);
    }
  }
  t.ok(peakUsed <= budget, `grown rings never held more than the budget (${peakUsed} of ${budget})`);
  t.ok(h.ctx.stats.tcpBufferGrowthCapped > 0, `growth refused and counted ${h.ctx.stats.tcpBufferGrowthCapped} times`);
  t.comment(`sizes: ${ids.map((id) => h.tcp.recvBuffers.capacity(id)).join(' ')}; read: ${read.join(' ')}`);
  for (let i = 0; i < ids.length; i++) {
    t.equal(read[i], h.view(ids[i]).rcvNxt - (PEER_ISS + 1), `connection ${i}: everything taken was read (${read[i]} bytes)`);
    t.ok(read[i] > 10 * 8192, `connection ${i}: and it moved more than its first buffer per round trip`);
  }
  t.equal(h.tcp.rcvPool.inUse, 0, 'all read: every ring back');
});
