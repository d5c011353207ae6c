/**
 * The drivers allocate nothing per frame or per burst: rxBurst, rxRelease,
 * txAlloc and txBurst of the sim and shm wires, and of the netmap ring logic
 * over a fake netmap pipe, move 64-byte frames in bursts of 32 while the heap
 * must not grow and no garbage collection may run.
 */
import t, { type Test } from 'tap';
import { FrameBatch, type PacketDriver } from '../../src/stack/port.ts';
import { SimWire } from '../../src/io/sim.ts';
import { attachShm, ShmWire } from '../../src/io/shm.ts';
import { NetmapDriver } from '../../src/io/netmap.ts';
import { FakeNetmapPipe } from './fixtures/netmap-fake.ts';
import { MAC_A, MAC_B } from './fixtures/frames.ts';
import { heapRounds } from '../helpers/heap-rounds.ts';
import { writeMac } from '../../src/stack/wire/ethernet.ts';
import { RssSteering } from '../../src/stack/rss.ts';

const BURST = 32;

/**
 * A loop moving `bursts` bursts from a's queue 0 to b; returns frames received.
 * With `ports`, the frames are IPv4/TCP from those source ports in turn, so
 * RSS spreads them over b's queues, and every queue of b is drained.
 */
function mover(a: PacketDriver, b: PacketDriver, dstMac: number, ports: number[] = []): (bursts: number) => number {
  const tx = new FrameBatch(BURST);
  const rx = new FrameBatch(BURST);
  let seq = 0;
  return (bursts: number): number => {
    let got = 0;
    for (let k = 0; k < bursts; k++) {
      const n = a.txAlloc(0, tx, BURST);
      for (let i = 0; i < n; i++) {
        const buf = tx.buf[i];
        const o = tx.off[i];
        writeMac(buf, o, dstMac);
        if (ports.length > 0) {
          const port = ports[seq % ports.length];
          buf[o + 12] = 0x08;
          buf[o + 13] = 0x00;
          buf[o + 14] = 0x45;
          buf[o + 23] = 6;
          buf[o + 26] = 198;
          buf[o + 27] = 18;
          buf[o + 29] = 2;
          buf[o + 30] = 198;
          buf[o + 31] = 18;
          buf[o + 33] = 1;
          buf[o + 34] = port >> 8;
          buf[o + 35] = port & 0xff;
          buf[o + 37] = 80;
        } else {
          buf[o + 14] = seq & 0xff;
        }
        seq++;
        tx.len[i] = 64;
      }
      a.txBurst(0, tx, n);
      for (let q = 0; q < b.capabilities.queues; q++) {
        const m = b.rxBurst(q, rx, BURST);
        for (let i = 0; i < m; i++) got += rx.buf[i][rx.off[i] + 14] === 0xfff ? 0 : 1;
        if (m > 0) b.rxRelease(q, rx);
      }
    }
    return got;
  };
}

/** Source ports from 198.18.0.2 to 198.18.0.1:80 landing on each of `queues` receive queues in turn. */
function portsPerQueue(queues: number): number[] {
  const rss = new RssSteering();
  const ports: number[] = [];
  for (let p = 40000; ports.length < queues; p++) {
    if (rss.queueOf(0xc6120002, 0xc6120001, p, 80, queues) === ports.length) ports.push(p);
  }
  return ports;
}

async function measure(t: Test, name: string, run: (bursts: number) => number): Promise<void> {
  t.equal(run(20_000), 20_000 * BURST, 'warm up: every frame arrives'); // let V8 optimize
  const bursts = 20_000;
  const frames = bursts * BURST;
  let best = Infinity;
  let bestRate = 0;
  let got = 0;
  await heapRounds(() => {
    got = run(bursts);
  }, (r, index) => {
    const perFrame = r.heapGrowth / frames;
    t.comment(`${name} round ${index + 1}: ${got} frames, heap grew ${r.heapGrowth} bytes ` +
      `(${perFrame.toFixed(4)} per frame), ${r.collections} collections, ${((frames / r.ms) / 1000).toFixed(1)} M frames/s in one thread`);
    if (r.collections === 0 && got === frames && perFrame < best) {
      best = perFrame;
      bestRate = (frames / r.ms) * 1000;
    }
    return best < 0.05;
  });
  t.ok(best < 0.05, `${name}: no garbage per frame (best round ${best.toFixed(4)} bytes per frame, no collection)`);
  t.ok(bestRate > 0);
}

t.test('sim: 640,000 frames in bursts of 32 allocate nothing', async (t) => {
  const wire = new SimWire({ seed: 1 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B);
  await measure(t, 'sim', mover(a, b, MAC_B));
  t.equal(wire.slotsInUse, 0);
});

t.test('shm: 640,000 frames in bursts of 32 allocate nothing', async (t) => {
  const shared = ShmWire.create({ slots: 256 }).share();
  const a = attachShm(shared, 0, MAC_A);
  const b = attachShm(shared, 1, MAC_B);
  await measure(t, 'shm', mover(a, b, MAC_B));
});

t.test('netmap (ring logic over a fake pipe): 640,000 frames in bursts of 32 allocate nothing', async (t) => {
  const pipe = new FakeNetmapPipe({ slots: 256 });
  const a = new NetmapDriver(pipe.a.memory(), MAC_A, pipe.a);
  const b = new NetmapDriver(pipe.b.memory(), MAC_B, pipe.b);
  await measure(t, 'netmap', mover(a, b, MAC_B));
  t.same(pipe.a.violations.concat(pipe.b.violations), []);
});

t.test('shm, one queue facing two: frames steered by RSS (half copied to the other ring) allocate nothing', async (t) => {
  const shared = ShmWire.create({ queues: [1, 2], slots: 256 }).share();
  const a = attachShm(shared, 0, MAC_A);
  const b = attachShm(shared, 1, MAC_B);
  await measure(t, 'shm 1x2', mover(a, b, MAC_B, portsPerQueue(2)));
  t.ok(b.stats.rxFrames > 0 && a.stats.txDropped === 0, 'nothing dropped');
});

t.test('sim, one queue facing two: frames steered by RSS allocate nothing', async (t) => {
  const wire = new SimWire({ seed: 2 });
  const a = wire.attach(MAC_A);
  const b = wire.attach(MAC_B, { queues: 2 });
  await measure(t, 'sim 1x2', mover(a, b, MAC_B, portsPerQueue(2)));
  t.equal(wire.slotsInUse, 0);
});
