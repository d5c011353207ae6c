/**
 * Interop over DPDK's af_packet virtual device: a veth pair between two namespaces the test makes,
 * ours (where the DPDK port opens its end) and the kernel's. The kernel's end computes its own
 * checksums and sends MTU-sized frames (no TX checksum offload, TSO or GSO), since an af_packet
 * socket sees frames as the veth passes them, before any software fix-up. Needs DPDK, its shim and
 * ethtool besides the suite's tools.
 */
import { spawn, spawnSync } from 'node:child_process';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { dpdkUnavailable } from '../../src/io/dpdk.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { interopSuite, KERNEL, toolsMissing, US } from '../helpers/interop-suite.ts';
import { inNamespace, ip, namespace } from '../helpers/netns.ts';

/** af_packet vdev names must be unique in a process (EAL lives as long as it does). */
let devices = 0;

interopSuite({
  label: 'DPDK af_packet',
  missing: () => toolsMissing() ?? dpdkUnavailable() ?? (spawnSync('sh', ['-c', 'command -v ethtool']).status === 0 ? null : 'no ethtool'),
  open(t, suffix) {
    const { ns, run } = namespace(t, `mtcpts-afp-${process.pid}-${suffix}`);
    const ours = namespace(t, `mtcpts-afp-${process.pid}-${suffix}-us`).ns;
    ip('link', 'add', 'veth-us', 'netns', ours, 'type', 'veth', 'peer', 'name', 'veth-kernel', 'netns', ns);
    const off = spawnSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', 'veth-kernel', 'tx', 'off', 'tso', 'off', 'gso', 'off'], { encoding: 'utf8' });
    if (off.status !== 0) throw new Error(`ethtool -K veth-kernel: ${off.stderr}`);
    ip('-n', ns, 'addr', 'add', `${KERNEL}/24`, 'dev', 'veth-kernel');
    ip('-n', ns, 'link', 'set', 'veth-kernel', 'up');
    ip('-n', ours, 'link', 'set', 'veth-us', 'up');
    const portLines = ['io = dpdk', 'port = p0', `p0.addr = ${US}/24`, `p0.device = net_af_packet${devices++},iface=veth-us`];
    return {
      ns,
      run,
      portLines,
      context(lines, label) {
        const mctx = inNamespace(ours, () => new MtcpRuntime(parseMtcpConf([...portLines, ...lines].join('\n'), label)).createContext(0));
        t.teardown(async () => {
          mctx.stop();
          await mctx.closed;
        });
        return mctx;
      },
      started() {},
      spawnOurs: (cmd, args, options) => spawn('ip', ['netns', 'exec', ours, cmd, ...args], options),
    };
  },
});
