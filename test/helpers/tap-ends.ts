/**
 * Our stack on a TAP with its offloads (src/io/tap.ts), the kernel in a namespace the test makes at the TAP's
 * other end; for test/interop/tap-offload*.test.ts. Names carry "to" (the tag of those files); every
 * namespace and interface goes when the test ends.
 */
import type { Test } from 'tap';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { parseRouteConf } from '../../src/config/route-conf.ts';
import type { MtcpContext } from '../../src/mtcp/context.ts';
import { contextForTest, KERNEL, US } from './interop-suite.ts';
import { tapLink } from './links.ts';
import { moveToNamespace, namespace, type Run } from './netns.ts';

/** The interop suite's addresses: the kernel's end of the TAP and ours. */
export { KERNEL, US };

/** Largest frame without offloads: a 1500-byte MTU and the Ethernet header. */
export const MTU_FRAME = 1514;

/** What these tests need and this machine lacks (what the TAP link needs), or null. */
export function tapOffloadMissing(): string | null {
  return tapLink.missing();
}

let made = 0;

/** A name for a namespace of this test file, unique in this run. */
export function toName(what: string): string {
  return `mtcpts-to-${process.pid}-${made++}-${what}`;
}

/**
 * Our stack (these mtcp.conf lines added) on a fresh TAP moved into a fresh namespace where the kernel has
 * KERNEL; with `gateway`, everything off the TAP's subnet is routed through it.
 */
export function tapEnds(t: Test, lines: string[], gateway?: string): { ns: string; run: Run; mctx: MtcpContext } {
  const { ns, run } = namespace(t, toName('k'));
  const ifname = `mto${process.pid % 100000}t${made}`.slice(0, 15);
  const conf = parseMtcpConf(['io = tap', `port = ${ifname}`, `${ifname}.addr = ${US}/24`, `${ifname}.mac = 02:00:c6:12:07:02`,
    'max_concurrency = 64', 'max_num_buffers = 64', 'tcp_timeout = 120', ...lines].join('\n'), '<tap offload test>');
  if (gateway) conf.routes = parseRouteConf(`ROUTES 1\n${gateway}/0 ${ifname}`, '<tap offload route>', [ifname]);
  const mctx = contextForTest(t, conf);
  moveToNamespace(ifname, ns, KERNEL);
  return { ns, run, mctx };
}

/** Our driver's average frame sizes each way: above MTU_FRAME only when large segments moved. */
export function averageFrames(mctx: MtcpContext): { rx: number; tx: number } {
  const s = mctx.driver.stats;
  return { rx: s.rxBytes / Math.max(1, s.rxFrames), tx: s.txBytes / Math.max(1, s.txFrames) };
}
