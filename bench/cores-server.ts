/**
 * The per-core server of the cores comparison (bench/lib/cores-bench.ts):
 * each server core echoes on the benchmark port until stopped and reports its
 * counters with the CPU time its thread used.
 */
import type { CoreEntryOptions, MtcpContext } from '../src/index.ts';
import { measureCoreLoad } from '../src/mtcp/thread-cpu.ts';
import { mtcpServer } from './lib/mtcp-workload.ts';

export interface CoreServerResult {
  core: number;
  accepted: number;
  framesIn: number;
  framesOut: number;
  drops: number;
  retransmits: number;
  /** CPU seconds the core's thread used while serving. */
  cpuSeconds: number;
}

export async function main(mctx: MtcpContext, core: number, { signal, data }: CoreEntryOptions): Promise<CoreServerResult> {
  const load = measureCoreLoad(mctx.stack.stats);
  await mtcpServer(mctx, (data as { port: number }).port, 'echo', () => signal.aborted);
  const st = mctx.stack.stats;
  return {
    core, accepted: st.tcpPassiveOpens, framesIn: st.rxFrames, framesOut: st.txFrames, drops: st.totalDrops(), retransmits: st.tcpRetransmits,
    cpuSeconds: load().cpuSeconds,
  };
}
