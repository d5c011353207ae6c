/**
 * The AF_XDP row of `npm run bench`: the same wrk run as the af_packet row (bench/lib/afpacket-wrk.ts),
 * with epserver on a DPDK net_af_xdp port on the veth, against nginx on the kernel's TCP on that veth.
 */
import { afPacketMissing, afPacketWrk, type WrkFigures } from './afpacket-wrk.ts';
import { coreLoadLine } from './ping-pong-rows.ts';

/** The JSON case `afxdp`: our requests/s (`mtcp`), nginx's (`net`, the kernel reference) and their ratio. */
export interface AfXdpCase {
  unit: 'requests/s';
  mtcp: { value: number; errors: number; p50: number; framesPerCpuSecond: number };
  net: { value: number; errors: number; p50: number };
  ratio: number;
}

/** Run, print and return the row; null (after printing why) when this machine lacks what it needs. */
export async function afXdpBench(connections: number, seconds: number, write: (line: string) => void): Promise<AfXdpCase | null> {
  write(`\nHTTP keep-alive, the kernel as client: wrk -c ${connections} in a namespace, over a veth, against epserver on DPDK AF_XDP and against nginx (1 worker)\n`);
  const missing = afPacketMissing();
  if (missing) {
    write(`  skipped: ${missing}\n`);
    return null;
  }
  const { ours, nginx } = await afPacketWrk(connections, seconds, 'net_af_xdp');
  const row = (label: string, w: WrkFigures): string =>
    `  ${label.padEnd(22)} ${Math.round(w.requestsPerSecond).toLocaleString('en-US').padStart(12)} requests/s   p50 ${w.p50Ms.toFixed(3)} ms   errors ${w.errors}\n`;
  write(`${row('epserver (AF_XDP)', ours)}${coreLoadLine(ours.server)}\n`);
  write(row('nginx (kernel TCP)', nginx));
  const ratio = ours.requestsPerSecond / nginx.requestsPerSecond;
  write(`  ratio            ${ratio.toFixed(2)}x\n`);
  const figures = (w: WrkFigures): AfXdpCase['net'] => ({ value: w.requestsPerSecond, errors: w.errors, p50: w.p50Ms });
  return { unit: 'requests/s', mtcp: { ...figures(ours), framesPerCpuSecond: ours.server.framesPerCpuSecond }, net: figures(nginx), ratio };
}
