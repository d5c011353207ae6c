/**
 * A SYN flood over TAP, as a new user would try one: the kernel's namespace sends 2,000 SYNs from
 * spoofed sources in one burst (a raw AF_PACKET socket, test/interop/fixtures/syn-flood.py) to a
 * listener whose backlog holds 128, then at once connects a real client. A tshark capture on the
 * kernel's end of the TAP shows what crossed the wire both ways.
 *
 * Every SYN must be answered (a SYN|ACK from a connection in SYN-RECEIVED, or a SYN cookie once the
 * backlog is full, RFC 4987 §3.6) or counted: by the kernel, for frames its TAP queue could not hold
 * (the wire), or by the stack under a named drop reason. And the real client's first SYN must be
 * answered without a retransmission: one SYN in the capture, our SYN|ACK to it sent within Linux's 1 s
 * initial RTO (RFC 6298 §2.1).
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMtcpConf } from '../../src/config/mtcp-conf.ts';
import { createServer } from '../../src/net/index.ts';
import { contextForTest, KERNEL, US } from '../helpers/interop-suite.ts';
import { tapLink } from '../helpers/links.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { tempDir } from '../helpers/tmp.ts';

const FLOOD = 2000;
const BACKLOG = 128;
const OUR_MAC = '02:00:c6:12:07:02';
/** The spoofed sources: 198.19.1.1 to 198.19.8.250 (RFC 2544's 198.18.0.0/15), reached through the kernel's end as gateway. */
const SPOOFED_NET = '198.19';
const fixture = fileURLToPath(new URL('./fixtures/syn-flood.py', import.meta.url));

/** tshark's rows (one field per line) for `filter` in `file`. */
function rows(file: string, filter: string, field: string): string[] {
  const r = spawnSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-e', field], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`tshark -Y ${filter}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

testNeeding(t, `a burst of ${FLOOD} spoofed SYNs over TAP: each answered or counted, and a real client's first SYN answered`,
  tapLink.missing() ?? commandMissing('tshark'), async (t) => {
    const link = tapLink.open(t, 'br');
    const ifname = link.portLines.find((l) => l.startsWith('port = '))!.slice('port = '.length);
    const dir = tempDir(t, 'mtcpts-br-synflood-');
    // Replies to the spoofed sources leave through the kernel's end, one neighbour to resolve.
    writeFileSync(join(dir, 'route.conf'), `ROUTES 1\n${KERNEL}/0 ${ifname}\n`);
    writeFileSync(join(dir, 'mtcp.conf'), [...link.portLines, 'route_conf = route.conf', 'max_concurrency = 4096'].join('\n'));
    const mctx = contextForTest(t, loadMtcpConf(join(dir, 'mtcp.conf')));
    const server = createServer({ mctx }, (s) => {
      s.on('error', () => {});
      s.end('hello\n');
    }).listen(80, US, BACKLOG);
    await once(server, 'listening');
    t.teardown(() => {
      server.close();
    });
    link.started();

    const capture = join(dir, 'flood.pcap');
    const tshark = spawn('ip', ['netns', 'exec', link.ns, 'tshark', '-i', ifname, '-B', '64', '-w', capture, '-f', 'tcp'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    t.teardown(() => {
      if (tshark.exitCode === null) tshark.kill('SIGKILL');
    });
    let tsharkSays = '';
    await new Promise<void>((resolve, reject) => {
      tshark.stderr.on('data', (d: Buffer) => {
        tsharkSays += d.toString();
        if (tsharkSays.includes('Capturing on')) resolve();
      });
      tshark.once('exit', () => reject(new Error(`tshark exited: ${tsharkSays}`)));
    });

    // A link in use: the kernel's end (our gateway to the spoofed sources) and ours know each other's
    // MAC. Before that, replies wait for ARP in a bounded queue and the rest count as ip_arp_pending.
    const ping = await link.run('ping', ['-c', '1', '-W', '5', US]);
    t.equal(ping.code, 0, 'the kernel reaches us');

    const flood = await link.run('python3', [fixture, ifname, OUR_MAC, US, '80', String(FLOOD), SPOOFED_NET], 60_000);
    t.equal(flood.code, 0, `the flood script ran: ${flood.stderr}`);
    const result = JSON.parse(flood.stdout.toString().trim()) as { sent: number; connectMs?: number; line?: string; error?: string };
    t.equal(result.sent, FLOOD, `the kernel took all ${FLOOD} frames`);
    t.equal(result.error, undefined, 'the real client connected');
    t.equal(result.line, 'hello\n', 'and was served');

    // Let the last SYN|ACKs cross, then stop the capture.
    await new Promise((r) => setTimeout(r, 500));
    const stopped = once(tshark, 'exit');
    tshark.kill('SIGINT');
    await stopped;

    // The client's SYN waits behind the flood in the TAP's queue: the stack must reach it within Linux's
    // 1 s initial RTO (RFC 6298 §2.1), so that the SYN is sent once (issue 13). On a CPU-starved machine
    // (load 24 on 2 CPUs seen) it is not, and this fails: that is a miss of the target, not a flake.
    const clientSyns = rows(capture, `ip.src == ${KERNEL} && tcp.dstport == 80 && tcp.flags.syn == 1 && tcp.flags.ack == 0`, 'frame.number').map(Number);
    const ourSynAcks = rows(capture, `ip.dst == ${KERNEL} && tcp.srcport == 80 && tcp.flags.syn == 1 && tcp.flags.ack == 1`, 'frame.number').map(Number);
    t.comment(`the real client connected in ${result.connectMs?.toFixed(1)} ms, its SYN sent ${clientSyns.length} time(s)`);
    t.ok(clientSyns.length >= 1 && ourSynAcks.length >= 1, 'the client\'s SYN and our SYN|ACK are in the capture');
    t.ok(clientSyns.length === 1 || ourSynAcks[0] < clientSyns[1], 'its first SYN was answered, not dropped: our SYN|ACK came before any retransmission');
    t.equal(clientSyns.length, 1, 'the real client sent its SYN once: answered without a retransmission');
    const floodSyns = rows(capture, `ip.src == ${SPOOFED_NET}.0.0/16 && tcp.flags.syn == 1 && tcp.flags.ack == 0`, 'ip.src');
    t.equal(new Set(floodSyns).size, FLOOD, `the capture saw the ${FLOOD} SYNs go out`);
    const answered = new Set(rows(capture, `ip.src == ${US} && ip.dst == ${SPOOFED_NET}.0.0/16 && tcp.flags.syn == 1 && tcp.flags.ack == 1`, 'ip.dst')).size;

    // What the kernel could not hand us (its TAP queue full: the wire), and what the stack counted.
    const link64 = JSON.parse(spawnSync('ip', ['-n', link.ns, '-s', '-j', 'link', 'show', ifname], { encoding: 'utf8' }).stdout) as
      { stats64: { tx: { dropped: number } } }[];
    const wireDrops = mctx.driver.stats.rxDropped;
    t.equal(wireDrops, link64[0].stats64.tx.dropped, `our driver reports the kernel's drops on the TAP (${wireDrops})`);
    const st = mctx.stack.stats;
    const stackDrops = st.dropsByName();
    const counted = (wireDrops ?? 0) + Object.values(stackDrops).reduce((a, b) => a + b, 0);
    t.comment(`answered ${answered} of ${FLOOD} (${st.tcpSynCookiesSent} SYN cookies), wire drops ${wireDrops}, stack drops ${JSON.stringify(stackDrops)}`);
    t.ok(answered + counted >= FLOOD, 'every SYN answered or counted');
    t.equal(answered, FLOOD, 'every SYN answered: the burst was absorbed');
    t.ok(st.tcpSynCookiesSent >= FLOOD - BACKLOG, 'the backlog full, the rest answered with SYN cookies');
  }, { timeout: 120_000 });
