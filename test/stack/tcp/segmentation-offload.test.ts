/**
 * Segmentation offload (TSO) and large received segments: over a port that cuts segments itself the stack
 * builds segments of whole MSS up to the port's limit and leaves checksums to the port; the frames on the
 * wire are the ones MSS-sized segments would have been. A received segment longer than the MSS (coalesced
 * by the port, GRO) is taken whole and acknowledged at once. A port's capabilities that cannot hold
 * together (TSO without checksum offload) are refused when the context is made.
 */
import t, { type Test } from 'tap';
import { SimWire } from '../../../src/io/sim.ts';
import { StackContext } from '../../../src/stack/context.ts';
import type { PortCapabilities } from '../../../src/stack/port.ts';
import { established, PEER_ISS, STACK_IP, TCP_ACK, TCP_FIN, TCP_PSH, type Seg } from '../../helpers/tcp-harness.ts';
import { SegmentingPort } from '../../helpers/segmenting-port.ts';

const TSO_MAX = 14 + 65535;
const MSS = 1460;
const BUFFERS = { sndbuf: 1 << 20, rcvbuf: 1 << 20 };

/** Payload of the segments, in order, checked to follow each other from `seq`. */
function contiguous(t: Test, segs: Seg[], seq: number): Uint8Array {
  const out: number[] = [];
  let next = seq;
  for (const s of segs) {
    t.equal(s.seq >>> 0, next >>> 0, 'the pieces follow each other');
    next += s.payload.length;
    out.push(...s.payload);
  }
  return Uint8Array.from(out);
}

t.test('with TSO one segment carries the whole initial window; the port cuts it into MSS-sized frames with valid checksums', async (t) => {
  const { h, tcb, iss } = established(BUFFERS, { win: 65535 }, { tsoMaxBytes: TSO_MAX });
  const port = h.port as SegmentingPort;
  const data = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff);
  h.tcp.sockets.send(tcb.id, data, 0, data.length);
  const handedBefore = port.handed;
  const segs = h.recv(); // recv() verifies every checksum
  t.equal(port.handed - handedBefore, 1, 'the stack handed the port one segment');
  t.equal(port.largestPayload, 10 * MSS, 'the initial window of 10 MSS in it');
  t.equal(segs.length, 10, 'ten frames on the wire');
  t.ok(segs.every((s) => s.payload.length === MSS), 'each one MSS');
  t.ok(segs.slice(0, -1).every((s) => (s.flags & TCP_PSH) === 0), 'PSH only on the last piece');
  t.same(contiguous(t, segs, iss + 1), data.subarray(0, 10 * MSS), 'the bytes as written');

  // Acknowledge it all: the window grows and the next flight again leaves as one segment.
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 10 * MSS, win: 65535 });
  const next = h.recv();
  t.equal(port.handed - handedBefore, 2, 'one more segment handed over');
  t.ok(next.length > 10, `the window grew: ${next.length} frames`);
  t.same(contiguous(t, next, iss + 1 + 10 * MSS), data.subarray(10 * MSS, 10 * MSS + next.length * MSS));
});

t.test('a large segment cut short by the window ends on a whole MSS, and the last data and FIN go on the last piece', async (t) => {
  const { h, tcb, iss } = established(BUFFERS, { win: 5000 }, { tsoMaxBytes: TSO_MAX });
  h.tcp.sockets.send(tcb.id, new Uint8Array(4000), 0, 4000);
  h.tcp.sockets.send(tcb.id, new Uint8Array(4000), 0, 4000);
  let segs = h.recv();
  t.same(segs.map((s) => s.payload.length), [MSS, MSS, MSS], '3 MSS of the 5000-byte window: no 620-byte tail mid-stream');
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: iss + 1 + 3 * MSS, win: 65535 });
  h.tcp.sockets.shutdownWrite(tcb.id);
  segs = h.recv();
  t.same(segs.map((s) => s.payload.length), [MSS, MSS, 8000 - 5 * MSS], 'the rest in one segment, cut at MSS');
  t.ok((segs[2].flags & TCP_FIN) !== 0 && segs.slice(0, 2).every((s) => (s.flags & TCP_FIN) === 0), 'FIN on the last piece only');
});

t.test('without TSO every segment is at most one MSS', async (t) => {
  const { h, tcb } = established(BUFFERS, { win: 65535 });
  const before = h.ctx.stats.txFrames;
  h.tcp.sockets.send(tcb.id, new Uint8Array(50_000), 0, 50_000);
  const segs = h.recv();
  t.equal(segs.length, 10);
  t.ok(segs.every((s) => s.payload.length === MSS));
  t.equal(h.ctx.stats.txFrames - before, 10, 'the stack built one frame per segment');
});

t.test('a received segment longer than the MSS (GRO) is taken whole and acknowledged at once', async (t) => {
  // The wire carries the coalesced frame as a port handing it up would.
  const { h, tcb, iss } = established(BUFFERS, { win: 65535 }, { tsoMaxBytes: TSO_MAX, wireMaxFrameBytes: TSO_MAX });
  const big = Uint8Array.from({ length: 3 * MSS }, (_, i) => i & 0xff);
  h.send({ flags: TCP_ACK | TCP_PSH, seq: PEER_ISS + 1, ack: iss + 1, payload: big });
  const acks = h.recv();
  t.equal(acks.length, 1, 'an ACK without waiting for the delayed-ACK timer');
  t.equal(acks[0].ack >>> 0, (PEER_ISS + 1 + big.length) >>> 0, 'for all of it');
  const got = new Uint8Array(big.length);
  t.equal(h.tcp.sockets.receive(tcb.id, got, 0, got.length, false), big.length);
  t.same(got, big);
});

t.test('TSO without TX checksum offload, or a TSO limit below the largest frame, is refused', async (t) => {
  const make = (declared: Partial<PortCapabilities>): StackContext => {
    const inner = new SimWire({ seed: 1 }).attach(0x020000000001);
    const port = new (class extends SegmentingPort {
      override get capabilities(): PortCapabilities {
        return { ...super.capabilities, ...declared };
      }
    })(inner, TSO_MAX);
    return new StackContext(port, 0, {
      ip: STACK_IP, routes: { nextHop: () => -1 }, staticArp: null,
      tcp: { maxConcurrency: 4, maxNumBuffers: 4, rcvbuf: 8192, sndbuf: 8192, idleTimeoutMs: 0, timeWaitMs: 0, mtu: 1500, cc: 'reno', secret: [1, 2] },
    }, { wake: () => {} });
  };
  t.throws(() => make({ txChecksumOffload: false }), { name: 'RangeError', message: /needs txChecksumOffload/ });
  t.throws(() => make({ tsoMaxBytes: 1000 }), { name: 'RangeError' });
  t.throws(() => make({ tsoMaxBytes: 14 + 65536 }), { name: 'RangeError' });
  t.doesNotThrow(() => make({}));
});
