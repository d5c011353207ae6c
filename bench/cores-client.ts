/**
 * The per-core client of the cores comparison (bench/lib/cores-bench.ts): each
 * client core runs the workload against the server from its own context (its
 * ephemeral ports are ones whose RSS hash brings the replies back to it) and
 * reports the result with its counters and the CPU time its thread used.
 */
import { parseIpv4 } from '../src/config/addr.ts';
import type { CoreEntryOptions, MtcpContext } from '../src/index.ts';
import { measureCoreLoad } from '../src/mtcp/thread-cpu.ts';
import { mtcpClient } from './lib/mtcp-workload.ts';
import type { WorkloadResult, WorkloadSpec } from './lib/workload.ts';

export interface CoreClientData {
  spec: WorkloadSpec;
  serverIp: string;
  port: number;
}

export interface CoreClientResult {
  core: number;
  /** The workload's figures, the latency samples as a plain array (structured-cloneable). */
  result: Omit<WorkloadResult, 'latency'> & { latency: Float64Array };
  framesIn: number;
  framesOut: number;
  drops: number;
  retransmits: number;
  /** CPU seconds the core's thread used while running the workload. */
  cpuSeconds: number;
}

export async function main(mctx: MtcpContext, core: number, { data }: CoreEntryOptions): Promise<CoreClientResult> {
  const d = data as CoreClientData;
  const load = measureCoreLoad(mctx.stack.stats);
  const r = await mtcpClient(mctx, parseIpv4(d.serverIp), d.port, d.spec);
  const cpuSeconds = load().cpuSeconds;
  const st = mctx.stack.stats;
  return {
    core, result: { ...r, latency: r.latency.toArray() }, framesIn: st.rxFrames, framesOut: st.txFrames, drops: st.totalDrops(),
    retransmits: st.tcpRetransmits, cpuSeconds,
  };
}
