/**
 * Interop over TAP: our stack owns a TAP interface that the test moves into the kernel's
 * namespace once our driver has made it. Needs /dev/net/tun besides the suite's tools.
 */
import { existsSync } from 'node:fs';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { interopSuite, KERNEL, toolsMissing, US } from '../helpers/interop-suite.ts';
import { ip, namespace } from '../helpers/netns.ts';
import { spawn } from 'node:child_process';

interopSuite({
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
      context(lines, label) {
        const mctx = new MtcpRuntime(parseMtcpConf([...portLines, ...lines].join('\n'), label)).createContext(0);
        t.teardown(async () => {
          mctx.stop();
          await mctx.closed;
        });
        return mctx;
      },
      // The interface exists once our driver opened it: hand it to the namespace and address the kernel's end.
      started() {
        ip('link', 'set', ifname, 'netns', ns);
        ip('-n', ns, 'addr', 'add', `${KERNEL}/24`, 'dev', ifname);
        ip('-n', ns, 'link', 'set', ifname, 'up');
      },
      spawnOurs: (cmd, args, options) => spawn(cmd, args, options),
    };
  },
});
