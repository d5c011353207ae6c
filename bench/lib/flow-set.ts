/**
 * The flow table's workload, shared by bench/data-structures.ts (its speed) and test/stack/flow-table.test.ts
 * (its correctness): 10,000 flows from random remote addresses and ports to 198.18.0.1:80 in a table for
 * 16,384, and 65,536 indices of them in random order to look up.
 */
import { FlowTable } from '../../src/stack/flow-table.ts';

export const FLOWS = 10_000;
const LOCAL_IP = 0xc6120001 | 0;
const LOCAL_PORT = 80;

export interface FlowSet {
  table: FlowTable;
  remoteIp: Int32Array;
  remotePort: Int32Array;
  /** Indices into the flows, in random order; lookups cycle through them. */
  order: Int32Array;
}

/** FLOWS distinct flows drawn from `rng` (a float in [0, 1) per call), inserted with their index as value. */
export function randomFlowSet(rng: { next(): number }): FlowSet {
  const below = (n: number): number => Math.floor(rng.next() * n);
  const table = new FlowTable(16_384, 0x1234);
  const remoteIp = new Int32Array(FLOWS);
  const remotePort = new Int32Array(FLOWS);
  for (let i = 0; i < FLOWS; i++) {
    do {
      remoteIp[i] = (0x0a000000 + below(1 << 16)) | 0;
      remotePort[i] = 1024 + below(64_000);
    } while (!table.insert(LOCAL_IP, LOCAL_PORT, remoteIp[i], remotePort[i], i));
  }
  const order = new Int32Array(1 << 16);
  for (let i = 0; i < order.length; i++) order[i] = below(FLOWS);
  return { table, remoteIp, remotePort, order };
}

/** `count` lookups of flows in `order`: the sum of what they found, which is expectedHitSum's when every one found its flow. */
export function lookupHits(set: FlowSet, count: number): number {
  const { table, remoteIp, remotePort, order } = set;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const k = order[i & 0xffff];
    sum += table.lookup(LOCAL_IP, LOCAL_PORT, remoteIp[k], remotePort[k]);
  }
  return sum;
}

/** The sum lookupHits returns for `count` when every lookup finds its flow. */
export function expectedHitSum(set: FlowSet, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += set.order[i & 0xffff];
  return sum;
}

/** `count` lookups of flows in `order` for another local port (81): how many found nothing. */
export function lookupMisses(set: FlowSet, count: number): number {
  const { table, remoteIp, remotePort, order } = set;
  let misses = 0;
  for (let i = 0; i < count; i++) {
    const k = order[i & 0xffff];
    if (table.lookup(LOCAL_IP, LOCAL_PORT + 1, remoteIp[k], remotePort[k]) < 0) misses++;
  }
  return misses;
}
