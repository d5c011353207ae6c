/**
 * Two stacks on the shm wire, as io = shm sets it up: its slots follow the mtu (64 KiB frames with
 * mtu = 65535), and it is a trusted link (no TCP checksum written or verified) unless an end is impaired
 * or captured. Then a frame corrupted on the impaired link is still dropped and counted, and a capture
 * shows real checksums (tshark finds no bad one).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mtcpServer } from '../../bench/lib/mtcp-workload.ts';
import { echoClient } from '../helpers/echo-client.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { SERVER_IP, shmPair, type ConfOptions } from '../helpers/stacks.ts';
import { badFrameArgs } from '../helpers/tshark.ts';
import { tempDir } from '../helpers/tmp.ts';

async function echo(server: ConfOptions, client: ConfOptions, conns: number, size: number) {
  const p = shmPair({ rcvbuf: 262144, sndbuf: 262144, ...server }, client);
  let stop = false;
  const srv = mtcpServer(p.server, 7, 'echo', () => stop);
  const out = await echoClient(p.client, SERVER_IP, 7, conns, size, 120_000);
  stop = true;
  await srv;
  const stats = (c: typeof p.server) => {
    const s = c.stack.stats;
    return { rxFrames: s.rxFrames, rxBytes: s.rxBytes, retransmits: s.tcpRetransmits, drops: s.dropsByName() as Record<string, number> };
  };
  const result = { out, server: stats(p.server), client: stats(p.client) };
  await p.close();
  return result;
}

t.test('mtu = 65535 on shm: frames of up to 64 KiB, every byte intact, nothing dropped', async (t) => {
  const { out, server, client } = await echo({ mtu: 65535 }, {}, 4, 1 << 20);
  t.same(out.errors, []);
  t.equal(out.completed, 4, 'sha256 of every stream matches');
  const largest = Math.max(server.rxBytes / server.rxFrames, client.rxBytes / client.rxFrames);
  t.ok(largest > 9000, `frames larger than jumbo ones on average (${Math.round(largest)} bytes)`);
  t.equal(server.drops.tcp_bad_checksum ?? 0, 0, 'unsigned frames on the trusted wire are not checked');
  t.equal(client.drops.tcp_bad_checksum ?? 0, 0);
});

t.test('an impaired end: the wire carries real checksums, corrupted frames are dropped and counted, the data arrives', async (t) => {
  const { out, server, client } = await echo({}, { extra: ['impair = corrupt=0.02'] }, 4, 256 * 1024);
  t.same(out.errors, []);
  t.equal(out.completed, 4, 'sha256 of every stream matches');
  const bad = (server.drops.tcp_bad_checksum ?? 0) + (client.drops.tcp_bad_checksum ?? 0) + (server.drops.ip_bad_checksum ?? 0) +
    (client.drops.ip_bad_checksum ?? 0);
  t.ok(bad > 0, `corrupted frames dropped by checksum (${bad})`);
  t.ok(server.retransmits + client.retransmits > 0, 'and repaired by retransmission');
});

testNeeding(t, 'a captured end: the capture shows real checksums both ways (tshark finds no bad frame)', commandMissing('tshark'), async (t) => {
  const file = join(tempDir(t, 'mtcpts-shm-cap-'), 'shm.pcapng');
  const { out } = await echo({}, { extra: [`capture = ${file}`] }, 2, 64 * 1024);
  t.equal(out.completed, 2);
  const all = spawnSync('tshark', ['-r', file, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  t.ok(all.stdout.split('\n').filter(Boolean).length > 20, 'data frames both ways in the file');
  const bad = spawnSync('tshark', badFrameArgs(file), { encoding: 'utf8' });
  t.equal(bad.status, 0, 'tshark read the file');
  t.equal(bad.stdout.trim(), '', 'no frame with a bad checksum');
});
