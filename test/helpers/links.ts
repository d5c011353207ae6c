/**
 * The real links the interop suite runs over, each with our stack on one end and the kernel on the other.
 *
 * TAP: our stack owns a TAP interface that the test moves into the kernel's namespace once our driver
 * has made it. Needs /dev/net/tun besides the suite's tools.
 *
 * DPDK af_packet: a veth pair between two namespaces the test makes, ours (where the DPDK port opens
 * its end) and the kernel's. The kernel's end computes its own checksums and sends MTU-sized frames
 * (no TX checksum offload, TSO or GSO), since an af_packet socket sees frames as the veth passes them,
 * before any software fix-up. Needs DPDK, its shim and ethtool besides the suite's tools.
 *
 * DPDK AF_XDP: the same veth pair, our end opened by DPDK's net_af_xdp (an XDP program on the veth
 * redirects its frames to an AF_XDP socket). The kernel's end again computes its own checksums and
 * sends MTU-sized frames: XDP, like af_packet, sees frames before any software fix-up.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { dpdkUnavailable } from '../../src/io/dpdk.ts';
import { contextForTest, KERNEL, toolsMissing, US, type Link } from './interop-suite.ts';
import { ip, moveToNamespace, namespace } from './netns.ts';
import { commandMissing } from './prerequisites.ts';

export const tapLink: Link = {
  label: 'TAP',
  missing: () => toolsMissing() ?? (existsSync('/dev/net/tun') ? null : 'no /dev/net/tun'),
  open(t, suffix) {
    const { ns, run } = namespace(t, `mtcpts-tap-${process.pid}-${suffix}`);
    const ifname = `mtap${process.pid % 100000}${suffix}`.slice(0, 15);
    const portLines = ['io = tap', `port = ${ifname}`, `${ifname}.addr = ${US}/24`, `${ifname}.mac = 02:00:c6:12:07:02`];
    return {
      ns,
      run,
      portLines,
      context: (lines, label) => contextForTest(t, parseMtcpConf([...portLines, ...lines].join('\n'), label)),
      // The interface exists once our driver opened it: hand it to the namespace and address the kernel's end.
      started: () => moveToNamespace(ifname, ns, KERNEL),
      spawnOurs: (cmd, args, options) => spawn(cmd, args, options),
    };
  },
};

/**
 * A DPDK port (`vdev`: net_af_packet or net_af_xdp) on a veth pair between two namespaces the test makes
 * (`tag` in their names): ours, where the port opens its end, and the kernel's.
 */
function vethLink(label: string, vdev: 'net_af_packet' | 'net_af_xdp', tag: string): Link {
  /** vdev names must be unique in a process (EAL lives as long as it does). */
  let devices = 0;
  return {
    label,
    missing: () => toolsMissing() ?? dpdkUnavailable() ?? commandMissing('ethtool'),
    open(t, suffix) {
      const { ns, run } = namespace(t, `mtcpts-${tag}-${process.pid}-${suffix}`);
      const ours = namespace(t, `mtcpts-${tag}-${process.pid}-${suffix}-us`).ns;
      ip('link', 'add', 'veth-us', 'netns', ours, 'type', 'veth', 'peer', 'name', 'veth-kernel', 'netns', ns);
      const off = spawnSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', 'veth-kernel', 'tx', 'off', 'tso', 'off', 'gso', 'off'], { encoding: 'utf8' });
      if (off.status !== 0) throw new Error(`ethtool -K veth-kernel: ${off.stderr}`);
      ip('-n', ns, 'addr', 'add', `${KERNEL}/24`, 'dev', 'veth-kernel');
      ip('-n', ns, 'link', 'set', 'veth-kernel', 'up');
      ip('-n', ours, 'link', 'set', 'veth-us', 'up');
      const portLines = ['io = dpdk', 'port = p0', `p0.addr = ${US}/24`, `p0.device = ${vdev}${devices++},iface=veth-us`];
      return {
        ns,
        run,
        portLines,
        context: (lines, label) => contextForTest(t, parseMtcpConf([...portLines, ...lines].join('\n'), label), ours),
        started() {},
        spawnOurs: (cmd, args, options) => spawn('ip', ['netns', 'exec', ours, cmd, ...args], options),
      };
    },
  };
}

export const afPacketLink = vethLink('DPDK af_packet', 'net_af_packet', 'afp');
export const afXdpLink = vethLink('DPDK AF_XDP', 'net_af_xdp', 'xdp-to');
