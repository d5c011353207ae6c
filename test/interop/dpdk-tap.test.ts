/**
 * DPDK's net_tap virtual device: the port is a TAP interface the PMD creates in the namespace the
 * process is in when it probes, so the test probes it from inside a namespace it made, where the
 * kernel then owns that interface (198.18.8.1) and our stack sits behind it (198.18.8.2). The kernel
 * pings us and fetches 1 KiB and 1 MiB from node:http on mtcp-ts (sha256 checked), and a closed port
 * is refused (the suite's curlFromUs). net_tap offers TSO: we hand it segments larger than a frame, which it
 * cuts (the sha256 shows they arrived whole). The full interop suite runs over af_packet and TAP; this checks
 * the third virtual device.
 */
import t from 'tap';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { dpdkUnavailable, type DpdkDriver } from '../../src/io/dpdk.ts';
import { contextForTest, curlFromUs, toolsMissing } from '../helpers/interop-suite.ts';
import { ip, namespace } from '../helpers/netns.ts';
import { testNeeding } from '../helpers/prerequisites.ts';

const KERNEL = '198.18.8.1';
const US = '198.18.8.2';

testNeeding(t, 'our stack on a DPDK net_tap port, the kernel on its interface', toolsMissing() ?? dpdkUnavailable(), async (t) => {
  const { ns, run } = namespace(t, `mtcpts-dtap-${process.pid}`);
  const conf = ['io = dpdk', 'port = p0', `p0.addr = ${US}/24`, 'p0.device = net_tap0,iface=dtap0',
    'max_concurrency = 64', 'max_num_buffers = 64', 'rcvbuf = 65536', 'sndbuf = 65536'].join('\n');
  const mctx = contextForTest(t, parseMtcpConf(conf, '<net_tap test>'), ns);
  const port = mctx.driver as DpdkDriver;
  t.comment(`net_tap checksum offload: transmit ${port.capabilities.txChecksumOffload}, receive ${port.capabilities.rxChecksumOffload}`);
  t.ok(port.capabilities.tsoMaxBytes > 0xffff - 0x800, `net_tap cuts segments of up to ${port.capabilities.tsoMaxBytes} bytes (TSO)`);
  ip('-n', ns, 'addr', 'add', `${KERNEL}/24`, 'dev', 'dtap0');
  ip('-n', ns, 'link', 'set', 'dtap0', 'up');

  const ping = await run('ping', ['-c', '3', '-W', '2', US]);
  t.equal(ping.code, 0, `ping reaches our stack: ${ping.stderr}`);

  await curlFromUs(t, mctx, run, US);
  const s = port.stats;
  t.ok(s.txBytes / s.txFrames > 1514, `we sent segments larger than a frame (average ${(s.txBytes / s.txFrames).toFixed(0)} bytes)`);
});
