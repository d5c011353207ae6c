/**
 * Buffers that grow (issue 14) over TAP against the kernel in a namespace, with `impair = delay_ms=10`
 * (every frame we receive waits 10 ms: the kernel's data on its way in, its ACKs of ours) and the default
 * buffers (8 KiB growing to 4 MiB): 100 MiB each way arrive intact. The rates are printed, not asserted
 * (a test asserts correctness, never a time), beside the same transfer without the delay in the same run;
 * with 8 KiB buffers that never grew the delayed path would move 8 KiB per round trip, about 6.5 Mbit/s.
 */
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from '../../src/net/index.ts';
import { US } from '../helpers/interop-suite.ts';
import { tapLink } from '../helpers/links.ts';
import { testNeeding } from '../helpers/prerequisites.ts';

const MIB = 100;

/** 100 MiB each way between the kernel and us over TAP with `impair` lines; returns the summary line. */
async function transfer(t: Test, suffix: string, impair: string[]): Promise<string> {
  const { ns, context, started } = tapLink.open(t, suffix);
  const mctx = context(['max_concurrency = 64', 'max_num_buffers = 64', 'tcp_timeout = 60', ...impair], '<tap delay>');
  started();
  const answer = randomBytes(MIB << 20);
  let received = '';
  let inSecs = 0;
  let t0 = 0;
  let peakRecv = 0;
  let peakSend = 0;
  const tcp = mctx.stack.tcp;
  const server = createServer({ mctx, allowHalfOpen: true }, (s) => {
    const h = createHash('sha256');
    const watch = setInterval(() => {
      for (let id = 0; id < tcp.tcb.capacity; id++) {
        if (tcp.tcb.inUse(id) === 0) continue;
        peakRecv = Math.max(peakRecv, tcp.recvBuffers.capacity(id));
        peakSend = Math.max(peakSend, tcp.sendBuffers.capacity(id));
      }
    }, 50);
    s.once('data', () => (t0 = performance.now()));
    s.on('data', (d: Buffer) => h.update(d));
    s.on('end', () => {
      inSecs = (performance.now() - t0) / 1000;
      received = h.digest('hex');
      s.end(answer);
    });
    s.on('close', () => clearInterval(watch));
  }).listen(9001, US);
  await once(server, 'listening');
  // The kernel sends, half-closes, then reads our answer, timing it from its first byte.
  const client = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', `
import hashlib, os, socket, time
data = os.urandom(${MIB} << 20)
s = socket.create_connection(('${US}', 9001))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
h = hashlib.sha256(); n = 0; t0 = None
while True:
    b = s.recv(1 << 20)
    if not b: break
    if t0 is None: t0 = time.monotonic()
    h.update(b); n += len(b)
print(hashlib.sha256(data).hexdigest(), h.hexdigest(), n, time.monotonic() - t0)
`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  client.stdout.setEncoding('utf8');
  client.stdout.on('data', (d: string) => (out += d));
  await once(client, 'exit');
  const [sentSha, gotSha, gotLen, outSecs] = out.trim().split(' ');
  t.equal(received, sentSha, `kernel to us: ${MIB} MiB intact`);
  t.equal(Number(gotLen), answer.length);
  t.equal(gotSha, createHash('sha256').update(answer).digest('hex'), `us to kernel: ${MIB} MiB intact`);
  if (impair.length > 0) t.ok(peakRecv > 8192 && peakSend > 8192, `the buffers grew: receive to ${peakRecv}, send to ${peakSend} bytes`);
  const rate = (secs: number): string => `${((MIB * 8 * 1.048576) / secs).toFixed(0)} Mbit/s`;
  server.close();
  return `kernel to us ${rate(inSecs)} (${inSecs.toFixed(1)} s), us to kernel ${rate(Number(outSecs))} ` +
    `(${Number(outSecs).toFixed(1)} s); buffers reached ${peakRecv} (receive) and ${peakSend} (send) bytes; ` +
    `${mctx.stack.stats.tcpRetransmits} retransmissions by us, ${mctx.stack.stats.tcpBufferGrowthCapped} growths refused`;
}

testNeeding(t, `with impair = delay_ms=10 and the default buffers, ${MIB} MiB each way arrive intact`, tapLink.missing(), async (t) => {
  const delayed = await transfer(t, 'bufd', ['impair = delay_ms=10']);
  const direct = await transfer(t, 'bufn', []);
  t.comment(`delay_ms=10: ${delayed}`);
  t.comment(`no delay, same run: ${direct}`);
}, { timeout: 600_000 });
