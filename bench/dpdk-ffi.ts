/**
 * How the DPDK driver crosses the FFI, measured both ways (`node dist/bench/dpdk-ffi.js`, needs DPDK):
 *
 *   shim:   one koffi call to mtcpts_rx (native/dpdk-shim.c), which calls rte_eth_rx_burst and writes
 *           each frame's offset, length and checksum verdict into a Uint32Array.
 *   fp_ops: rte_eth_rx_burst is static inline, so JavaScript calls the PMD's receive function taken
 *           from rte_eth_fp_ops[port] (struct layout of DPDK 22.11's rte_ethdev_core.h) through a
 *           koffi function pointer, then reads each mbuf's fields itself through a view of the pool
 *           (buf_addr, data_off, data_len, nb_segs at their 22.11 offsets) and frees the burst with
 *           rte_pktmbuf_free_bulk.
 *
 * Two in-process memif ports joined by one socket carry the frames. It reports nanoseconds per
 * receive call on an empty queue (the idle poll) and per frame in 32-frame bursts.
 */
import koffi from 'koffi';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameBatch } from '../src/stack/port.ts';
import { DpdkPort, dpdkUnavailable, ealArgs } from '../src/io/dpdk.ts';

const why = dpdkUnavailable();
if (why) {
  process.stdout.write(`dpdk-ffi: skipped (${why})\n`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'mtcpts-ffi-'));
const eal = ealArgs({ coreMask: 1, numMemCh: 4, pci: false });
const sock = join(dir, 'memif.sock');
const rxPort = DpdkPort.open({ device: `net_memif0,role=server,socket=${sock},socket-abstract=no,id=0`, queues: 1, mtu: 1500, eal });
const txPort = DpdkPort.open({ device: `net_memif1,role=client,socket=${sock},socket-abstract=no,id=0`, queues: 1, mtu: 1500, eal });
const rx = rxPort.driver();
const tx = txPort.driver();
const batch = new FrameBatch(64);
for (let i = 0; i < 200 && !(rxPort.link().up && txPort.link().up); i++) await new Promise((r) => setTimeout(r, 10));
await new Promise((r) => setTimeout(r, 500)); // memif's rings are ready a little after the link

// The fp_ops path, bound by hand.
const eth = koffi.load('librte_ethdev.so.23');
const mbufLib = koffi.load('librte_mbuf.so.23');
const fpOps = eth.symbol('rte_eth_fp_ops', koffi.array('uint8_t', 128 * 32));
const FP_OPS_SIZE = 128; // two cache lines per port
const at = rxPort.shared.port * FP_OPS_SIZE;
const RxBurst = koffi.proto('uint16_t eth_rx_burst_t(void *rxq, _Out_ void *pkts, uint16_t n)');
const rxBurstFn = koffi.decode(koffi.decode(fpOps, at, 'void *'), RxBurst) as (q: unknown, pkts: Uint32Array, n: number) => number;
// rxq.data (offset 24) points to the array of queue pointers; queue 0's is its first element.
const queuePtr = koffi.decode(koffi.decode(fpOps, at + 24, 'void *'), 'void *') as unknown;
const freeBulk = mbufLib.func('void rte_pktmbuf_free_bulk(void *mbufs, unsigned int count)') as (p: Uint32Array, n: number) => void;
const { base, length } = rxPort.shared;
const baseLo = Number(BigInt(base as unknown as bigint) & 0xffffffffn);
const pool32 = new Uint32Array(koffi.view(base, length));
const pool16 = new Uint16Array(pool32.buffer);
const pkts = new Uint32Array(2 * 64); // mbuf pointers as (low, high) pairs: no BigInt per frame
const off = new Int32Array(64);
const len = new Int32Array(64);

function fpOpsReceive(): number {
  const n = rxBurstFn(queuePtr, pkts, 64);
  for (let i = 0; i < n; i++) {
    const m = (pkts[2 * i] - baseLo) >>> 0; // byte offset of the mbuf in the pool
    const bufAddr = (pool32[m >>> 2] - baseLo) >>> 0;
    if (pool16[(m + 20) >>> 1] !== 1) continue; // nb_segs: a chained mbuf is not one view
    off[i] = bufAddr + pool16[(m + 16) >>> 1]; // + data_off
    len[i] = pool16[(m + 40) >>> 1]; // data_len
  }
  if (n > 0) freeBulk(pkts, n);
  return n;
}

function shimReceive(): number {
  const n = rx.rxBurst(0, batch, 64);
  rx.rxRelease(0, batch);
  return n;
}

function sendFrames(count: number): void {
  const n = tx.txAlloc(0, batch, count);
  for (let i = 0; i < n; i++) {
    batch.buf[i]!.fill(0xff, batch.off[i], batch.off[i] + 60);
    batch.len[i] = 60;
  }
  tx.txBurst(0, batch, n);
}

function idleNs(recv: () => number, calls: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) recv();
  return Number(process.hrtime.bigint() - t0) / calls;
}

function loadedNs(recv: () => number, bursts: number): number {
  let frames = 0;
  let ns = 0n;
  for (let b = 0; b < bursts; b++) {
    sendFrames(32);
    const t0 = process.hrtime.bigint();
    let got = 0;
    for (let spins = 0; got < 32 && spins < 1_000_000; spins++) got += recv();
    ns += process.hrtime.bigint() - t0;
    frames += got;
  }
  return Number(ns) / frames;
}

recvBoth(); // warm up both paths and drain anything queued
function recvBoth(): void {
  for (let i = 0; i < 3; i++) {
    idleNs(shimReceive, 10_000);
    idleNs(fpOpsReceive, 10_000);
    loadedNs(shimReceive, 100);
    loadedNs(fpOpsReceive, 100);
  }
}
const rows: [string, number, number][] = [];
for (let round = 0; round < 3; round++) {
  rows.push(['shim', idleNs(shimReceive, 200_000), loadedNs(shimReceive, 2_000)]);
  rows.push(['fp_ops', idleNs(fpOpsReceive, 200_000), loadedNs(fpOpsReceive, 2_000)]);
}
process.stdout.write('receive path   empty-queue poll   per frame (32-frame bursts, incl. free)\n');
for (const [name, idle, frame] of rows) process.stdout.write(`${name.padEnd(14)} ${idle.toFixed(0).padStart(9)} ns ${frame.toFixed(0).padStart(14)} ns\n`);
rx.close();
tx.close();
rmSync(dir, { recursive: true, force: true });
