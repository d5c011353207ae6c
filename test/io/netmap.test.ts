/**
 * The netmap driver. Everywhere: io = netmap fails through mtcp_create_context
 * with a clear error when netmap is missing (or the port is), leaking
 * nothing; and the ring logic runs against a fake netmap pipe laid out as the
 * kernel lays it out (fixtures/netmap-fake.ts): head/cur/tail, wrap-around,
 * release, a full ring, TX slot reuse, fragments, several rings, the idle wait
 * and two whole stacks echoing over it. Where /dev/netmap exists: two stacks
 * over two ports of a VALE switch echo through the kernel module.
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { FrameBatch } from '../../src/stack/port.ts';
import {
  NETMAP_IF, NETMAP_RING, NETMAP_SLOT, NS_MOREFRAG, NetmapDriver, NetmapPortError, netmapUnavailable,
} from '../../src/io/netmap.ts';
import { mtcp_create_context, mtcp_destroy, mtcp_errno, mtcp_init, mtcp_runtime } from '../../src/mtcp/api.ts';
import { MtcpContext } from '../../src/mtcp/context.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { RouteTable } from '../../src/config/route-conf.ts';
import { EINVAL, ENODEV } from '../../src/stack/errno.ts';
import { mtcpServer } from '../../bench/lib/mtcp-workload.ts';
import { echoClient } from '../helpers/echo-client.ts';
import { config, SERVER_IP } from '../helpers/stacks.ts';
import { testNeeding } from '../helpers/prerequisites.ts';
import { captureStderr } from '../helpers/stderr.ts';
import { FakeNetmapPipe, type FakePipeOptions } from './fixtures/netmap-fake.ts';
import { MAC_A, MAC_B, frameIntact, recvFrames, sendFrames, seqsOf, writeFrame } from './fixtures/frames.ts';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** A fake pipe with a driver on each end. */
function pipePair(o: FakePipeOptions = {}) {
  const pipe = new FakeNetmapPipe(o);
  const a = new NetmapDriver(pipe.a.memory(), MAC_A, pipe.a);
  const b = new NetmapDriver(pipe.b.memory(), MAC_B, pipe.b);
  return { pipe, a, b };
}

/** Resolves with 'done' when p settles first, 'stuck' after 10 s: a liveness guard, not a timing assertion. */
function settles(p: Promise<void>): Promise<'done' | 'stuck'> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((r) => (timer = setTimeout(() => r('stuck'), 10_000)));
  return Promise.race([p.then(() => 'done' as const), stuck]).finally(() => clearTimeout(timer));
}

t.test('where netmap is missing, io = netmap fails through mtcp_create_context with a clear error and leaks nothing', async (t) => {
  const missing = netmapUnavailable();
  // Where /dev/netmap exists, the same path is taken with a port that does not exist.
  const port = missing ? 'eth0' : `mtcpts-none-${process.pid}`;
  const conf = parseMtcpConf(['io = netmap', 'port = p0', 'p0.addr = 198.18.0.1/24', `p0.device = ${port}`].join('\n'), '<netmap test>');
  t.teardown(() => mtcp_destroy());
  const fds = readdirSync('/proc/self/fd').length;
  t.equal(mtcp_init(conf), 0, 'mtcp_init reads the configuration (the port opens with the context)');
  const written: string[] = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    const [mctx, said] = await captureStderr(() => mtcp_create_context(0));
    t.equal(mctx, null, `attempt ${attempt}: no context`);
    t.equal(mtcp_errno(), ENODEV, `attempt ${attempt}: errno ENODEV`);
    written.push(said);
  }
  if (missing) {
    t.equal(written[0], 'mtcp_create_context: io = netmap: /dev/netmap does not exist; load the netmap kernel module '
      + '(https://github.com/luigirizzo/netmap) or choose io = dpdk or tap\n');
  } else {
    t.match(written[0], new RegExp(`^mtcp_create_context: io = netmap: no netmap port named ${port} .*\\(ENXIO\\)\\n$`));
  }
  t.equal(written[1], written[0], 'the second attempt fails the same way: nothing was left half open');
  t.equal(mtcp_runtime()!.contexts.size, 0, 'no context registered');
  t.equal(readdirSync('/proc/self/fd').length, fds, 'no descriptor left open');
});

t.test('the driver finds its rings through netmap_if.ring_ofs, as NETMAP_TXRING and NETMAP_RXRING do', async (t) => {
  for (const hostRings of [0, 1, 2]) {
    // NETMAP_RXRING(nifp, i) skips the host TX rings: ring_ofs[i + ni_tx_rings + ni_host_tx_rings].
    const { pipe, a, b } = pipePair({ hostRings });
    t.equal(sendFrames(a, MAC_B, [1, 2, 3]), 3);
    t.same(seqsOf(recvFrames(b)), [1, 2, 3], `${hostRings} host ring(s) between the TX and RX rings`);
    t.same(pipe.a.violations.concat(pipe.b.violations), []);
  }
  const { pipe, a } = pipePair();
  t.equal(a.name, 'netmap');
  t.equal(a.capabilities.queues, 1);
  t.equal(a.mac, MAC_A);
  t.equal(a.capabilities.maxFrameBytes, 2048, 'frames up to nr_buf_size');
  const tx = new FrameBatch(8);
  t.equal(a.txAlloc(0, tx, 4), 4);
  t.same(Array.from(tx.id.subarray(0, 4)), [0, 1, 2, 3], 'TX slots from head');
  t.same(Array.from(tx.off.subarray(0, 4)), [0, 1, 2, 3].map((i) => pipe.a.slotBuffer(pipe.a.tx[0], i)),
    'each at NETMAP_BUF(ring, slot.buf_idx): the ring plus buf_ofs plus buf_idx * nr_buf_size');
  t.ok(tx.buf[0] === pipe.region && tx.buf[3] === pipe.region, 'in the one view of the region');
  t.same(Array.from(tx.len.subarray(0, 4)), [2048, 2048, 2048, 2048], 'capacity of each slot');
});

t.test('frames cross in place: the receiver reads the buffer the sender wrote', async (t) => {
  const { pipe, a, b } = pipePair();
  const tx = new FrameBatch(16);
  t.equal(a.txAlloc(0, tx, 10), 10);
  const written = Array.from(tx.off.subarray(0, 10));
  for (let i = 0; i < 10; i++) {
    writeFrame(tx.buf[i], tx.off[i], MAC_B, MAC_A, i, 1500);
    tx.len[i] = 1500;
  }
  a.txBurst(0, tx, 10);
  const rx = new FrameBatch(16);
  t.equal(b.rxBurst(0, rx, 16), 10);
  let intact = 0;
  for (let i = 0; i < 10; i++) if (rx.len[i] === 1500 && frameIntact(rx.buf[i], rx.off[i], 1500, i)) intact++;
  t.equal(intact, 10, 'every frame intact');
  t.same(Array.from(rx.off.subarray(0, 10)), written, 'at the offsets it was built at: the pipe swapped buffers, nothing copied');
  t.equal(rx.buf[0], tx.buf[0], 'the same view');
  b.rxRelease(0, rx);
  t.same(a.stats, { rxFrames: 0, rxBytes: 0, txFrames: 10, txBytes: 15_000, txDropped: 0 });
  t.same(b.stats, { rxFrames: 10, rxBytes: 15_000, txFrames: 0, txBytes: 0, txDropped: 0 });
  t.same(pipe.a.violations.concat(pipe.b.violations), []);
});

t.test('one NIOCTXSYNC per burst; NIOCRXSYNC when the ring looks empty or half a ring was given back', async (t) => {
  const { pipe, a, b } = pipePair({ slots: 16 });
  t.equal(sendFrames(a, MAC_B, range(0, 10)), 10);
  t.equal(pipe.a.txSyncs, 1, 'one TXSYNC for a burst of 10');
  const rx = new FrameBatch(4);
  const seen: number[] = [];
  const syncs: number[] = [];
  for (let k = 0; k < 4; k++) {
    const n = b.rxBurst(0, rx, 4);
    for (let i = 0; i < n; i++) seen.push(rx.buf[i][rx.off[i] + 17]);
    if (n > 0) b.rxRelease(0, rx);
    syncs.push(pipe.b.rxSyncs);
  }
  t.same(seen, range(0, 10));
  // 1: empty at first. 2: frames pending, 4 of 16 given back: no sync. 3: 8 given back, half the ring: sync. 4: empty: sync.
  t.same(syncs, [1, 1, 2, 3]);
  t.same(pipe.a.violations.concat(pipe.b.violations), []);
});

t.test('rxBurst moves cur past the frames it hands out; rxRelease moves head to cur', async (t) => {
  const { pipe, b, a } = pipePair({ slots: 16 });
  sendFrames(a, MAC_B, range(0, 6));
  const rx = new FrameBatch(8);
  t.equal(b.rxBurst(0, rx, 3), 3);
  t.same(pipe.b.pointers(pipe.b.rx[0]), { head: 0, cur: 3, tail: 6 }, 'the 3 frames are still ours: head stays');
  t.equal(b.rxBurst(0, rx, 8), 3, 'a second burst before the release hands out the next frames');
  t.equal(rx.buf[0][rx.off[0] + 17], 3);
  t.same(pipe.b.pointers(pipe.b.rx[0]), { head: 0, cur: 6, tail: 6 });
  b.rxRelease(0, rx);
  t.same(pipe.b.pointers(pipe.b.rx[0]), { head: 6, cur: 6, tail: 6 }, 'released: head = cur');
  t.equal(b.rxBurst(0, rx, 8), 0);
  t.same(pipe.b.violations, [], 'the kernel accepted every head and cur');
});

t.test('wrap-around: 1,000 frames through 8-slot rings in uneven bursts arrive once each, in order', async (t) => {
  const { pipe, a, b } = pipePair({ slots: 8 });
  const rx = new FrameBatch(8);
  const got: number[] = [];
  const ids = new Set<number>();
  let next = 0;
  for (let round = 0; round < 5000 && got.length < 1000; round++) {
    const want = Math.min(1 + (round % 7), 1000 - next);
    if (want > 0) next += sendFrames(a, MAC_B, range(next, next + want), 60 + (round % 5) * 100);
    const n = b.rxBurst(0, rx, 1 + (round % 5));
    for (let i = 0; i < n; i++) {
      const seq = ((rx.buf[i][rx.off[i] + 14] << 24) | (rx.buf[i][rx.off[i] + 15] << 16) | (rx.buf[i][rx.off[i] + 16] << 8) | rx.buf[i][rx.off[i] + 17]) >>> 0;
      if (frameIntact(rx.buf[i], rx.off[i], rx.len[i], seq)) got.push(seq);
      ids.add(rx.id[i]);
    }
    if (n > 0) b.rxRelease(0, rx);
  }
  t.equal(got.length, 1000);
  t.same(got, range(0, 1000), 'every frame intact, once, in order');
  t.same([...ids].sort((x, y) => x - y), range(0, 8), 'every slot used, indices wrapping at num_slots');
  t.equal(a.stats.txDropped, 0);
  t.same(pipe.a.violations.concat(pipe.b.violations), []);
});

t.test('a full TX ring: txAlloc gives nothing after one TXSYNC, nothing is lost, slots are reused once the peer reads', async (t) => {
  const { pipe, a, b } = pipePair({ slots: 8 });
  t.equal(sendFrames(a, MAC_B, range(0, 7)), 7, 'n - 1 slots: the kernel keeps one empty');
  t.equal(sendFrames(a, MAC_B, range(7, 14)), 7, 'reclaimed by the burst\'s TXSYNC; now stuck: the peer\'s RX ring is full');
  const syncs = pipe.a.txSyncs;
  const tx = new FrameBatch(8);
  t.equal(a.txAlloc(0, tx, 8), 0, 'no free slot');
  t.equal(pipe.a.txSyncs, syncs + 1, 'after one TXSYNC to reclaim');
  t.same(seqsOf(recvFrames(b)), range(0, 14), 'the peer reads the first 7, its RXSYNC pulls the other 7');
  t.equal(a.txAlloc(0, tx, 8), 7, 'the slots are free again');
  t.same(Array.from(tx.id.subarray(0, 7)), [6, 7, 0, 1, 2, 3, 4], 'from head on, wrapping');
  t.same(Array.from(tx.off.subarray(0, 7)), [6, 7, 0, 1, 2, 3, 4].map((i) => pipe.a.slotBuffer(pipe.a.tx[0], i)),
    'each slot\'s buffer as it is now (the pipe swapped them): read from buf_idx, never cached');
  t.same(pipe.a.violations.concat(pipe.b.violations), []);
});

t.test('slots reserved but not sent stay free for the next txAlloc; a burst beyond the reservation counts as dropped', async (t) => {
  const { pipe, a, b } = pipePair({ slots: 16 });
  const tx = new FrameBatch(8);
  t.equal(a.txAlloc(0, tx, 5), 5);
  const offs = Array.from(tx.off.subarray(0, 5));
  for (let i = 0; i < 2; i++) {
    writeFrame(tx.buf[i], tx.off[i], MAC_B, MAC_A, i, 64);
    tx.len[i] = 64;
  }
  a.txBurst(0, tx, 2);
  t.same(pipe.a.pointers(pipe.a.tx[0]).head, 2, 'head moved past the 2 sent');
  t.equal(a.txAlloc(0, tx, 5), 5);
  t.same(Array.from(tx.id.subarray(0, 3)), [2, 3, 4], 'the unsent slots come first');
  t.same(Array.from(tx.off.subarray(0, 3)), offs.slice(2), 'with their buffers');
  t.same(seqsOf(recvFrames(b)), [0, 1], 'only the 2 sent frames went out');
  t.equal(a.txAlloc(0, tx, 2), 2);
  for (let i = 0; i < 2; i++) tx.len[i] = 64;
  a.txBurst(0, tx, 3);
  t.equal(a.stats.txFrames, 4);
  t.equal(a.stats.txDropped, 1, 'the third frame had no slot');
  t.same(pipe.a.violations.concat(pipe.b.violations), []);
});

t.test('a frame spread over several slots (NS_MOREFRAG) is dropped, counted once, and its slots given back', async (t) => {
  const { pipe, b } = pipePair({ slots: 16 });
  const frame = (seq: number): Uint8Array => {
    const f = new Uint8Array(64);
    writeFrame(f, 0, MAC_B, MAC_A, seq, 64);
    return f;
  };
  t.ok(pipe.b.inject(0, frame(1)));
  t.ok(pipe.b.inject(0, frame(100), NS_MOREFRAG));
  t.ok(pipe.b.inject(0, frame(101), NS_MOREFRAG));
  t.ok(pipe.b.inject(0, frame(102)), 'the last fragment has no NS_MOREFRAG');
  t.ok(pipe.b.inject(0, frame(2)));
  t.same(seqsOf(recvFrames(b)), [1, 2], 'the whole frames');
  t.equal(b.rxMultiSlotDropped, 1);
  t.same(pipe.b.pointers(pipe.b.rx[0]), { head: 5, cur: 5, tail: 5 }, 'all 5 slots given back');
  t.same(pipe.b.violations, []);
});

t.test('every NIC ring (ringId -1): frames on any RX ring arrive, TX moves to a ring with room', async (t) => {
  const { pipe, a, b } = pipePair({ rings: 2, slots: 4 });
  const f = new Uint8Array(64);
  writeFrame(f, 0, MAC_B, MAC_A, 7, 64);
  pipe.b.inject(1, f);
  writeFrame(f, 0, MAC_B, MAC_A, 8, 64);
  pipe.b.inject(0, f);
  t.same(seqsOf(recvFrames(b)).sort(), [7, 8], 'from both rings');
  t.equal(sendFrames(a, MAC_B, [0, 1, 2]), 3, 'ring 0: its 3 free slots');
  t.equal(sendFrames(a, MAC_B, [3, 4, 5]), 3, 'ring 0 again: reclaimed, now stuck on the peer\'s full RX ring 0');
  const tx = new FrameBatch(4);
  t.equal(a.txAlloc(0, tx, 4), 3, 'ring 1 has room');
  t.equal(tx.off[0], pipe.a.slotBuffer(pipe.a.tx[1], 0), 'a slot of TX ring 1');
  for (let i = 0; i < 3; i++) {
    writeFrame(tx.buf[i], tx.off[i], MAC_B, MAC_A, 6 + i, 64);
    tx.len[i] = 64;
  }
  a.txBurst(0, tx, 3);
  t.same(seqsOf(recvFrames(b)).sort((x, y) => x - y), range(0, 9), 'all 9 arrive, over both rings');
  t.same(pipe.a.violations.concat(pipe.b.violations), []);
});

t.test('one ring pair (NR_REG_ONE_NIC): only that ring is read; rings not on the port or not bound are refused', async (t) => {
  const pipe = new FakeNetmapPipe({ rings: 2, bindB: 1 });
  const b = new NetmapDriver(pipe.b.memory(), MAC_B, pipe.b);
  const f = new Uint8Array(64);
  writeFrame(f, 0, MAC_B, MAC_A, 10, 64);
  pipe.b.inject(0, f);
  writeFrame(f, 0, MAC_B, MAC_A, 11, 64);
  pipe.b.inject(1, f);
  t.same(seqsOf(recvFrames(b)), [11], 'ring 1 only');
  t.throws(() => new NetmapDriver({ ...pipe.b.memory(), ringId: 2 }, MAC_B, pipe.b), new NetmapPortError(EINVAL, 'netmap: ring 2 is not on this port (2 TX, 2 RX rings)'));
  t.throws(() => new NetmapDriver({ ...pipe.b.memory(), ringId: 0 }, MAC_B, pipe.b), /TX ring 0 is not bound to this descriptor/,
    'ring_ofs is 0 for a ring the descriptor did not bind');
  const bad = new FakeNetmapPipe();
  new DataView(bad.region.buffer).setBigInt64(bad.a.nifOffset + NETMAP_IF.ringOfs, BigInt(bad.region.length), true);
  t.throws(() => new NetmapDriver(bad.a.memory(), MAC_A, bad.a), /TX ring 0 is at offset \d+, outside the mapped region/);
  const odd = new FakeNetmapPipe();
  new DataView(odd.region.buffer).setUint32(odd.a.tx[0].offset + NETMAP_RING.numSlots, 1 << 30, true);
  t.throws(() => new NetmapDriver(odd.a.memory(), MAC_A, odd.a), /TX ring 0 has an impossible layout \(1073741824 slots/);
  t.equal(NETMAP_SLOT.size, 16);
});

t.test('waitRx returns when the peer sends, when woken, or when its time is up; close waits for a poll in flight', async (t) => {
  const { pipe, a, b } = pipePair();
  const arrival = b.waitRx(0, 60_000);
  t.ok(pipe.b.waiting, 'b sleeps in poll');
  sendFrames(a, MAC_B, [5]);
  t.equal(await settles(arrival), 'done', 'a frame from the peer ends the wait');
  t.same(seqsOf(recvFrames(b)), [5]);

  const woken = b.waitRx(0, 60_000);
  b.wakeRx(0);
  t.equal(await settles(woken), 'done', 'wakeRx ends the wait');
  t.equal(await settles(b.waitRx(0, 1)), 'done', 'the timeout ends the wait');

  sendFrames(a, MAC_B, [6]);
  t.equal(await settles(b.waitRx(0, 60_000)), 'done', 'a frame already there: poll returns at once');
  t.same(seqsOf(recvFrames(b)), [6]);

  const inFlight = b.waitRx(0, 60_000);
  b.close();
  t.equal(pipe.b.closes, 0, 'not unmapped while the poll runs');
  t.equal(await settles(inFlight), 'done', 'close wakes the poll');
  t.equal(pipe.b.closes, 1, 'then unmapped and closed');
  b.close();
  t.equal(pipe.b.closes, 1, 'once');
  const rx = new FrameBatch(4);
  t.equal(b.rxBurst(0, rx, 4), 0, 'a closed driver receives nothing');
  t.equal(b.txAlloc(0, rx, 4), 0, 'and has no TX slot');
  t.equal(await settles(b.waitRx(0, 60_000)), 'done', 'and does not wait');

  const tx = new FrameBatch(4);
  t.equal(a.txAlloc(0, tx, 2), 2);
  const syncs = pipe.a.txSyncs;
  a.close();
  t.equal(pipe.a.txSyncs, syncs + 1, 'a last TXSYNC pushes out what is pending');
  t.equal(pipe.a.closes, 1, 'no poll in flight: closed at once');
  tx.len[0] = tx.len[1] = 64;
  a.txBurst(0, tx, 2);
  t.equal(a.stats.txDropped, 2, 'slots reserved before close are not sent after it');
  t.equal(pipe.a.txSyncs, syncs + 1, 'and no TXSYNC on a closed descriptor');
  t.same(pipe.a.violations.concat(pipe.b.violations), []);
});

t.test('two stacks over the fake netmap pipe: 8 connections echo 256 KiB each, sha256 checked', async (t) => {
  const pipe = new FakeNetmapPipe({ slots: 256 });
  const context = (ip: string, mac: number, end: typeof pipe.a, secret: [number, number]): MtcpContext => {
    const cfg = config(ip, `02:00:00:00:00:0${mac}`, { maxConcurrency: 64, rcvbuf: 65536, sndbuf: 65536 });
    return new MtcpContext(0, new NetmapDriver(end.memory(), cfg.ports[0].mac, end), {
      ip: cfg.ports[0].addr | 0, routes: new RouteTable([], cfg.ports), staticArp: null,
      tcp: { maxConcurrency: 64, maxNumBuffers: 64, rcvbuf: 65536, sndbuf: 65536, idleTimeoutMs: 30_000, timeWaitMs: 0, mtu: 1500, cc: 'reno', secret },
    }, { now: () => performance.now() });
  };
  const server = context('198.18.0.1', 1, pipe.a, [1, 2]);
  const client = context('198.18.0.2', 2, pipe.b, [3, 4]);
  let stop = false;
  const served = mtcpServer(server, 7, 'echo', () => stop);
  const out = await echoClient(client, SERVER_IP, 7, 8, 256 << 10, 120_000);
  stop = true;
  await served;
  t.same(out.errors, []);
  t.equal(out.completed, 8);
  t.equal(out.mismatches, 0);
  server.stop();
  client.stop();
  await Promise.all([server.closed, client.closed]);
  t.equal(pipe.a.closes + pipe.b.closes, 2, 'both drivers closed by their contexts');
  t.ok(pipe.b.polls > 0, 'the client slept in poll at some point');
  t.same(pipe.a.violations.concat(pipe.b.violations), [], 'the kernel would have accepted every head and cur');
});

// CI has no netmap module either (it is out of tree): without it this test is skipped there too.
testNeeding(t, 'over a real VALE switch: two stacks echo through the netmap kernel module', netmapUnavailable(), async (t) => {
  // Two ports of a VALE switch of this test's own (valeX:Y ports are made on first registration). The switch name
  // must be letters, digits or _ with the ':' within the first 16 characters (nm_bdg_name_validate).
  const sw = `valem${process.pid % 100000}`;
  const runtime = (ip: string, mac: string, side: string, secret: [number, number]): MtcpRuntime => new MtcpRuntime(parseMtcpConf([
    'io = netmap', 'port = p0', `p0.addr = ${ip}/24`, `p0.mac = ${mac}`, `p0.device = ${sw}:${side}`,
    'max_concurrency = 64', 'max_num_buffers = 64', 'rcvbuf = 65536', 'sndbuf = 65536',
  ].join('\n'), `<vale ${side}>`), { secret });
  const server = runtime('198.18.0.1', '02:00:c6:12:00:01', 'a', [1, 2]).createContext(0);
  const client = runtime('198.18.0.2', '02:00:c6:12:00:02', 'b', [3, 4]).createContext(0);
  t.teardown(async () => {
    server.stop();
    client.stop();
    await Promise.all([server.closed, client.closed]);
  });
  t.equal(server.driver.name, 'netmap');
  let stop = false;
  const served = mtcpServer(server, 7, 'echo', () => stop);
  const out = await echoClient(client, SERVER_IP, 7, 8, 1 << 20, 120_000);
  stop = true;
  await served;
  t.same(out.errors, []);
  t.equal(out.completed, 8, '8 connections echoed 1 MiB each, sha256 checked');
  t.equal(out.mismatches, 0);
}, { ciProvides: false });
