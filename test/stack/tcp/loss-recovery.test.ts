/**
 * Loss recovery against a scripted peer: SACK (RFC 6675) and NewReno (RFC 6582), and the SACK
 * scoreboard against a byte-map model.
 */
import t from 'tap';
import { Harness, PEER_ISS, TCP_ACK, established as establishedWith, type Seg } from '../../helpers/tcp-harness.ts';
import { SackScoreboard } from '../../../src/stack/tcp/sack-scoreboard.ts';
import { RangeAdd, RangeFull, RANGES as SCOREBOARD_RANGES, SeqRangeLists } from '../../../src/stack/tcp/seq-ranges.ts';
import { asSeq, seqValue } from '../../../src/stack/wire/seqnum.ts';
import { Prng } from '../../../src/io/sim.ts';
import type { TcpConfig } from '../../../src/stack/tcp/engine.ts';

const MSS = 1460;

/** An established connection whose peer offered SACK; the stack is about to send. */
function established(tcp: Partial<TcpConfig> = {}): ReturnType<typeof establishedWith> {
  return establishedWith({ sndbuf: 65536, rcvbuf: 65536, ...tcp }, { mss: MSS, sackPermitted: true });
}

/** Segment index (0-based, of MSS bytes after the ISS) of a sent segment. */
const index = (s: Seg, iss: number): number => ((s.seq - iss - 1) >>> 0) / MSS;

/**
 * The stack sends ten segments; the peer loses `lost` and acknowledges every
 * other one as a receiver does: cumulative ACK plus SACK blocks, newest first.
 * Returns the segment indexes the stack sent again, in order.
 */
function loseAndReport(h: Harness, iss: number, lost: number[]): number[] {
  const first = h.recv();
  if (first.length !== 10) throw new Error(`expected the initial window of 10 segments, got ${first.length}`);
  const start = (i: number): number => (iss + 1 + i * MSS) >>> 0;
  const have = new Set<number>();
  const resent: number[] = [];
  let cum = 0;
  let newest = -1;
  for (let i = 0; i < 10; i++) {
    if (lost.includes(i)) continue;
    have.add(i);
    newest = i;
    while (have.has(cum)) cum++;
    // Blocks of held segments above cum, the one holding the newest segment first. RFC 2018 §4
    const blocks: [number, number][] = [];
    for (let j = cum + 1; j < 10; j++) {
      if (have.has(j) && !have.has(j - 1)) {
        let k = j;
        while (have.has(k + 1)) k++;
        blocks.push([start(j), start(k + 1)]);
      }
    }
    blocks.sort((a, b) => (a[0] <= start(newest) && start(newest) < a[1] ? -1 : b[0] <= start(newest) && start(newest) < b[1] ? 1 : 0));
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: start(cum), sack: blocks.slice(0, 3) });
    for (const s of h.recv()) if (s.payload.length > 0) resent.push(index(s, iss));
  }
  return resent;
}

t.test('SACK recovery: three losses in one window are all repaired at once, without a timeout (RFC 6675 §5)', async (t) => {
  const { h, tcb, iss } = established();
  t.ok(tcb.sackOk, 'SACK negotiated');
  h.tcp.sockets.send(tcb.id, new Uint8Array(10 * MSS), 0, 10 * MSS);
  h.poll();
  const resent = loseAndReport(h, iss, [1, 4, 7]);
  t.same(resent, [1, 4, 7], 'each hole sent again once, nothing the peer SACKed');
  t.ok(tcb.inRecovery, 'still in recovery: nothing was cumulatively acknowledged yet');
  t.equal(h.ctx.stats.tcpTimeouts, 0, 'no retransmission timeout');
  t.equal(tcb.cc.cwnd, tcb.cc.ssthresh, 'cwnd = ssthresh during SACK recovery (RFC 6675 §5 step 4.2)');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: (iss + 1 + 10 * MSS) >>> 0 });
  t.notOk(tcb.inRecovery, 'the ACK of the recovery point ends recovery');
  t.equal(tcb.sacked.count, 0, 'the scoreboard is empty once everything is acknowledged');
});

t.test('without SACK (NewReno), the same losses are repaired one per round trip (RFC 6582)', async (t) => {
  const { h, tcb, iss } = established({ sack: false });
  t.notOk(tcb.sackOk, 'SACK refused by configuration');
  h.tcp.sockets.send(tcb.id, new Uint8Array(10 * MSS), 0, 10 * MSS);
  h.poll();
  t.same(loseAndReport(h, iss, [1, 4, 7]), [1], 'only the first hole, until a partial ACK');
  t.equal(h.ctx.stats.tcpTimeouts, 0);
});

t.test('SACK blocks outside (SND.UNA, SND.MAX] are ignored (D-SACK, forged)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(4 * MSS), 0, 4 * MSS);
  h.poll();
  h.recv();
  const una = (iss + 1) >>> 0;
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: una, sack: [[(una - 1000) >>> 0, una], [(una + 10 * MSS) >>> 0, (una + 11 * MSS) >>> 0], [(una + 200) >>> 0, (una + 100) >>> 0]] });
  t.equal(tcb.sacked.count, 0, 'below SND.UNA, beyond our data, and reversed: none recorded');
  t.notOk(tcb.inRecovery, 'and they mark nothing lost');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: una, sack: [[(una + MSS) >>> 0, (una + 2 * MSS) >>> 0]] });
  t.equal(tcb.sacked.count, 1, 'a valid block is recorded');
});

t.test('after a timeout, what the peer SACKed is not sent again (RFC 6675 §5.1)', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(10 * MSS), 0, 10 * MSS);
  h.poll();
  t.equal(h.recv().length, 10);
  const at = (i: number): number => (iss + 1 + i * MSS) >>> 0;
  // A burst loses segments 0-7; the peer reports 8-9, too little to presume anything lost.
  const sack: [number, number][] = [[at(8), at(10)]];
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(0), sack });
  t.notOk(tcb.inRecovery, 'no fast retransmit from one SACK of two segments');
  h.poll(tcb.rtt.rtoMs + 1);
  t.equal(h.ctx.stats.tcpTimeouts, 1, 'the timer fires');
  const resent: number[] = [];
  for (let round = 0; round < 20 && tcb.flightSize > 0; round++) {
    const segs = h.recv().filter((s) => s.payload.length > 0);
    for (const s of segs) resent.push(index(s, iss));
    const cum = resent.length > 0 ? Math.max(...resent) + 1 : 0;
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(cum >= 8 ? 10 : cum), sack: cum >= 8 ? [] : sack });
  }
  t.same(resent, [0, 1, 2, 3, 4, 5, 6, 7], 'go-back-N skips segments 8 and 9');
  t.equal(tcb.flightSize, 0, 'everything acknowledged');
});

t.test('scoreboard against a byte-map model: add, advance, loss boundary, unSACKed bytes', async (t) => {
  const rng = new Prng(42);
  const span = 4000;
  let failures = 0;
  for (let round = 0; round < 300; round++) {
    const base = (rng.next() * 0x100000000) | 0; // anywhere in sequence space, wrap included
    // Connection 0's scoreboard, through the calls the sender makes.
    const ranges = new SeqRangeLists(1, 1);
    const board = new SackScoreboard(ranges);
    const sb = {
      get count() {
        return board.count(0);
      },
      add: (l: number, r: number) => ranges.add(0, asSeq(l), asSeq(r), RangeFull.ForgetHighest) === RangeAdd.Added,
      advance: (una: number) => ranges.trimBelow(0, asSeq(una)),
      skipSacked: (seq: number) => seqValue(board.skipSacked(0, asSeq(seq))),
      unsackedBetween: (from: number, to: number) => board.unsackedBetween(0, asSeq(from), asSeq(to)),
      lossBoundary: (una: number, mss: number) => seqValue(board.lossBoundary(0, asSeq(una), mss)),
    };
    const model = new Uint8Array(span);
    let una = 0;
    for (let op = 0; op < 60; op++) {
      if (rng.next() < 0.8) {
        const l = una + 1 + Math.floor(rng.next() * (span - una - 2));
        const r = Math.min(span, l + 1 + Math.floor(rng.next() * 300));
        const before = model.slice();
        const fresh = sb.add((base + l) | 0, (base + r) | 0);
        if (sb.count < SCOREBOARD_RANGES) {
          for (let i = l; i < r; i++) model[i] = 1;
          if (fresh !== before.some((v, i) => i >= l && i < r && v === 0)) failures++;
        } else {
          // Full: the model forgets what the scoreboard forgot. Rebuild it from the ranges.
          model.fill(0);
          for (let i = una; i < span; i++) if (sb.skipSacked((base + i) | 0) !== ((base + i) | 0)) model[i] = 1;
        }
      } else {
        una = Math.min(span - 1, una + Math.floor(rng.next() * 400));
        sb.advance((base + una) | 0);
        for (let i = 0; i < una; i++) model[i] = 0;
      }
      // Compare: ranges == runs of the model.
      let runs = 0;
      for (let i = 0; i < span; i++) if (model[i] && (i === 0 || !model[i - 1])) runs++;
      if (runs !== sb.count) failures++;
      const from = una + Math.floor(rng.next() * (span - una));
      const to = from + Math.floor(rng.next() * (span - from));
      let unsacked = 0;
      for (let i = from; i < to; i++) if (!model[i]) unsacked++;
      if (sb.unsackedBetween((base + from) | 0, (base + to) | 0) !== unsacked) failures++;
      // Loss boundary: the highest point with more than 2 * mss SACKed bytes above (mss 100 here),
      // or three segments; no unSACKed byte at or above it may have that.
      const mss = 100;
      const boundary = (sb.lossBoundary((base + una) | 0, mss) - base) | 0;
      let above = 0;
      let segs = 0;
      let expected = una;
      for (let i = span - 1, run = 0; i >= una; i--) {
        if (model[i]) run++;
        if (run > 0 && (!model[i] || i === una)) {
          const startOfRun = model[i] ? i : i + 1;
          above += run;
          segs += Math.ceil(run / mss);
          run = 0;
          if (above > 2 * mss || segs >= 3) {
            expected = startOfRun;
            break;
          }
        }
      }
      if (boundary !== expected) failures++;
    }
  }
  t.equal(failures, 0, 'every operation matched the model over 300 rounds of 60 operations');
});

t.test('a lost retransmission is found by SACKs of later data and sent again, without a timeout', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(20 * MSS), 0, 20 * MSS);
  t.equal(h.recv().length, 10);
  const at = (i: number): number => (iss + 1 + i * MSS) >>> 0;
  const sends: number[] = [];
  const ackSacking = (upTo: number): void => {
    h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(0), sack: [[at(1), at(upTo + 1)]] });
    for (const s of h.recv()) if (s.payload.length > 0) sends.push(index(s, iss));
  };
  // Segment 0 is lost; 1-9 arrive and are SACKed: recovery sends 0 again, then new data.
  for (let i = 1; i <= 9; i++) ackSacking(i);
  t.equal(sends.filter((i) => i === 0).length, 1, 'segment 0 retransmitted once');
  const after = sends.slice(sends.indexOf(0) + 1);
  t.same(after.slice(0, 3), [12, 13, 14], 'new data went out after the retransmission');
  // The retransmission is lost too; everything else arrives. Limited transmit had sent 10 and 11 before it.
  for (let i = 10; i <= 13; i++) ackSacking(i);
  t.equal(sends.filter((i) => i === 0).length, 1, 'two segments sent after it SACKed: not enough to call it lost');
  ackSacking(14);
  t.equal(sends.filter((i) => i === 0).length, 2, 'three: segment 0 goes a third time');
  t.equal(h.ctx.stats.tcpTimeouts, 0, 'no retransmission timeout');
});

// NewReno's partial ACK (RFC 6582 §3.2 step 5): without SACK, an ACK that covers the fast-retransmitted
// segment but not the recovery point retransmits the next hole at once, without waiting for the timer.
t.test('NewReno: a partial ACK retransmits the next hole at once, no timeout (RFC 6582 §3.2 step 5)', async (t) => {
  const { h, tcb, iss } = established({ sack: false });
  t.notOk(tcb.sackOk);
  const at = (i: number): number => (iss + 1 + i * MSS) >>> 0;

  h.tcp.sockets.send(tcb.id, new Uint8Array(10 * MSS), 0, 10 * MSS);
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

// During SACK recovery, holes presumed lost go before new data (RFC 6675 §4 NextSeg rule (1) ahead of
// rule (2)), so several holes are repaired in one round trip even with more data queued.
t.test('SACK recovery with more data queued: lost holes go before new data (RFC 6675 §4 NextSeg (1))', async (t) => {
  const { h, tcb, iss } = established();
  t.ok(tcb.sackOk);
  const at = (i: number): number => (iss + 1 + i * MSS) >>> 0;
  const idx = (seq: number): number => ((seq - iss - 1) >>> 0) / MSS;

  h.tcp.sockets.send(tcb.id, new Uint8Array(30 * MSS), 0, 30 * MSS);
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
  const { h, tcb, iss } = established();
  const una = (iss + 1) >>> 0;
  h.tcp.sockets.send(tcb.id, new Uint8Array(4 * MSS), 0, 4 * MSS);
  t.equal(h.recv().length, 4);
  const cwnd = tcb.cc.cwnd;
  // One block from 3 MSS below SND.UNA to 2 MSS above it: only [SND.UNA, SND.UNA + 2 MSS) counts.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: una, sack: [[(una - 3 * MSS) >>> 0, (una + 2 * MSS) >>> 0]] });
  t.notOk(tcb.inRecovery, 'two segments SACKed from SND.UNA are not a loss (RFC 6675 §4 IsLost)');
  t.same(h.recv().filter((s) => s.payload.length > 0 && s.seq === una), [], 'no retransmission');
  t.equal(tcb.cc.cwnd, cwnd, 'no window reduction');
});

/**
 * A peer that receives what the stack sends, dropping the transmissions `drop` names (segment index ->
 * how many of its transmissions are lost), and answers every segment with its cumulative ACK and SACK
 * blocks (the newest first). Runs until the stack sends nothing more; returns how often each segment went.
 */
function lossyPeer(h: Harness, iss: number, total: number, drop: Map<number, number>): Map<number, number> {
  const at = (i: number): number => (iss + 1 + i * MSS) >>> 0;
  const have = new Set<number>();
  const sent = new Map<number, number>();
  let pending = h.recv();
  while (pending.length > 0) {
    const next: Seg[] = [];
    for (const s of pending) {
      if (s.payload.length === 0) continue;
      const i = index(s, iss);
      sent.set(i, (sent.get(i) ?? 0) + 1);
      if ((drop.get(i) ?? 0) >= sent.get(i)!) continue;
      have.add(i);
      let cum = 0;
      while (have.has(cum)) cum++;
      const blocks: [number, number][] = [];
      for (let j = cum + 1; j < total; j++) {
        if (have.has(j) && !have.has(j - 1)) {
          let k = j;
          while (have.has(k + 1)) k++;
          blocks.push([at(j), at(k + 1)]);
        }
      }
      blocks.sort((a, b) => (a[0] <= at(i) && at(i) < a[1] ? -1 : b[0] <= at(i) && at(i) < b[1] ? 1 : 0));
      h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: at(cum), sack: blocks.slice(0, 3) });
      next.push(...h.recv());
    }
    pending = next;
  }
  return sent;
}

t.test('a lost retransmission of a hole above the first is found by SACKs of data sent after it, without a timeout', async (t) => {
  const { h, tcb, iss } = established();
  h.tcp.sockets.send(tcb.id, new Uint8Array(16 * MSS), 0, 16 * MSS);
  // Segment 0 is lost once, segment 2 twice: its retransmission is lost as well. No more data is queued.
  const sent = lossyPeer(h, iss, 16, new Map([[0, 1], [2, 2]]));
  t.equal(sent.get(2), 3, 'segment 2 went a third time');
  t.equal(h.ctx.stats.tcpTimeouts, 0, 'no retransmission timeout');
  t.equal(h.tcp.sockets.unacknowledged(tcb.id), 0, 'everything acknowledged');
});
