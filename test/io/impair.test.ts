/** The impairment wrapper around a driver (here the sim wire's): loss both ways, duplication, delay, reordering, corruption, and its config key. */
import t from 'tap';
import { ImpairedDriver } from '../../src/io/impair.ts';
import { SimWire } from '../../src/io/sim.ts';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { MAC_A, MAC_B, recvFrames, sendFrames, seqsOf } from './fixtures/frames.ts';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function pair(imp: ConstructorParameters<typeof ImpairedDriver>[1], clock = (): number => 0): { a: ReturnType<SimWire['attach']>; b: ImpairedDriver } {
  const wire = new SimWire({ seed: 1 });
  const a = wire.attach(MAC_A);
  const b = new ImpairedDriver(wire.attach(MAC_B), imp, 7, clock);
  return { a, b };
}

t.test('no impairment: frames pass unchanged, in order', async (t) => {
  const { a, b } = pair({});
  sendFrames(a, MAC_B, range(50));
  t.same(seqsOf(recvFrames(b)), range(50));
});

t.test('loss: about the rate, both ways, counted', async (t) => {
  const { a, b } = pair({ loss: 0.2 });
  sendFrames(a, MAC_B, range(200));
  const got = recvFrames(b).length;
  t.equal(got + b.counters.lostIn, 200);
  t.ok(b.counters.lostIn > 20 && b.counters.lostIn < 60, `${b.counters.lostIn} of 200 lost in`);
  sendFrames(b, MAC_A, range(200));
  t.equal(recvFrames(a).length + b.counters.lostOut, 200);
  t.ok(b.counters.lostOut > 20 && b.counters.lostOut < 60, `${b.counters.lostOut} of 200 lost out`);
});

t.test('duplicate = 1: every frame arrives twice', async (t) => {
  const { a, b } = pair({ duplicate: 1 });
  sendFrames(a, MAC_B, range(10));
  t.same(seqsOf(recvFrames(b)).sort((x, y) => x - y), range(10).flatMap((i) => [i, i]));
  t.equal(b.counters.duplicated, 10);
});

t.test('delay: frames wait for their time; reorder lets later frames pass', async (t) => {
  let now = 0;
  const { a, b } = pair({ delayMs: 10 }, () => now);
  sendFrames(a, MAC_B, [1, 2, 3]);
  t.same(recvFrames(b), [], 'held');
  now = 10;
  t.same(seqsOf(recvFrames(b)), [1, 2, 3], 'released in order at their time');
  const r = pair({ reorder: 0.5, reorderMs: 5 }, () => now);
  sendFrames(r.a, MAC_B, range(40));
  const first = seqsOf(recvFrames(r.b));
  now = 15;
  const later = seqsOf(recvFrames(r.b));
  t.equal(first.length + later.length, 40, 'nothing lost');
  t.ok(later.length > 5, `${later.length} frames held back and delivered after later ones`);
  t.not(JSON.stringify([...first, ...later]), JSON.stringify(range(40)), 'the order changed');
});

t.test('corrupt = 1: one bit flipped in every frame', async (t) => {
  const { a, b } = pair({ corrupt: 1 });
  sendFrames(a, MAC_B, [7]);
  const sent = new Uint8Array(64);
  // The frame as the fixture builds it, for comparison.
  const ref = pair({});
  sendFrames(ref.a, MAC_B, [7]);
  sent.set(recvFrames(ref.b)[0]);
  const got = recvFrames(b)[0];
  let bits = 0;
  for (let i = 0; i < 64; i++) for (let x = got[i] ^ sent[i]; x; x &= x - 1) bits++;
  t.equal(bits, 1);
});

t.test('config: impair = name=value pairs; a bad one is an error naming the line', async (t) => {
  const base = 'io = shm\nport = shm0\nshm0.addr = 198.18.0.1/24\n';
  t.same(parseMtcpConf(`${base}impair = loss=0.05, delay_ms=2, reorder=0.01, reorder_ms=4\n`, 'f').impair, { loss: 0.05, delayMs: 2, reorder: 0.01, reorderMs: 4 });
  t.equal(parseMtcpConf(base, 'f').impair, null);
  t.throws(() => parseMtcpConf(`${base}impair = loss=2\n`, 'f'), /f:4: impair: bad `loss=2`/);
  t.throws(() => parseMtcpConf(`${base}impair = jitter=1\n`, 'f'), /impair: bad `jitter=1`/);
  t.throws(() => new ImpairedDriver(new SimWire({ seed: 1 }).attach(MAC_A), { loss: -1 }, 1), /loss = -1 must be a probability/);
});
