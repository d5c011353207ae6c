/** The capture wrapper: every frame in and out, in a pcapng file that tshark reads. */
import { asSeq } from '../../src/stack/wire/seqnum.ts';
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureDriver } from '../../src/io/capture.ts';
import { badFrameArgs } from '../helpers/tshark.ts';
import { emitEthernet, emitIpv4, emitTcp, ETH_HLEN, ETHERTYPE_IPV4, IPPROTO_TCP, IPV4_HLEN, TCP_ACK, TCP_HLEN, TCP_PSH, TcpFields } from '../../src/stack/wire/index.ts';
import { SimWire } from '../../src/io/sim.ts';
import { MAC_A, MAC_B, recvFrames, sendBytes, sendFrames, seqsOf, tcpFrame } from './fixtures/frames.ts';
import { tempDir } from '../helpers/tmp.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';

/** The blocks of a pcapng file: [type, body]. */
function blocks(file: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let o = 0; o < file.length;) {
    const type = file.readUInt32LE(o);
    const len = file.readUInt32LE(o + 4);
    if (file.readUInt32LE(o + len - 4) !== len) throw new Error(`block at ${o}: trailing length differs`);
    out.push([type, file.subarray(o + 8, o + len - 4)]);
    o += len;
  }
  return out;
}

t.test('frames both ways land in the file with their direction, bytes intact', async (t) => {
  const path = join(tempDir(t, 'mtcpts-cap-'), 'c.pcapng');
  const wire = new SimWire({ seed: 1 });
  const a = wire.attach(MAC_A);
  const b = new CaptureDriver(wire.attach(MAC_B), path);
  sendFrames(a, MAC_B, [1, 2, 3], 100);
  t.same(seqsOf(recvFrames(b)), [1, 2, 3], 'the wrapped driver still delivers');
  sendFrames(b, MAC_A, [9, 10], 60);
  t.same(seqsOf(recvFrames(a)), [9, 10], 'and transmits');
  b.close();
  const bl = blocks(readFileSync(path));
  t.same(bl.map(([type]) => type), [0x0a0d0d0a, 1, 6, 6, 6, 6, 6], 'section header, interface, five packets');
  t.equal(bl[0][1].readUInt32LE(0), 0x1a2b3c4d, 'byte-order magic');
  t.equal(bl[1][1].readUInt16LE(0), 1, 'LINKTYPE_ETHERNET');
  const packets = bl.slice(2).map(([, body]) => {
    const len = body.readUInt32LE(12);
    const padded = (len + 3) & ~3;
    return { len, seq: body.readUInt32BE(20 + 14), flags: body.readUInt32LE(20 + padded + 4) };
  });
  t.same(packets.map((p) => [p.seq, p.len, p.flags]), [[1, 100, 1], [2, 100, 1], [3, 100, 1], [9, 60, 2], [10, 60, 2]], 'inbound 1, outbound 2');
  t.equal(b.frames, 5);
  await testNeeding(t, 'tshark reads the file', commandMissing('tshark'), async (t) => {
    const r = spawnSync('tshark', ['-r', path], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout.trim().split('\n').length, 5, 'tshark reads five frames');
  });
});

/** A 198.18.0.1:80 -> 198.18.0.2:40000 data segment with correct checksums. */
function httpSegment(seq: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + IPV4_HLEN + TCP_HLEN + payload.length);
  emitEthernet(f, 0, MAC_B, MAC_A, ETHERTYPE_IPV4);
  emitIpv4(f, ETH_HLEN, SERVER_IP, CLIENT_IP, IPPROTO_TCP, TCP_HLEN + payload.length, 0, 64);
  f.set(payload, ETH_HLEN + IPV4_HLEN + TCP_HLEN);
  const h = new TcpFields();
  h.srcPort = 80;
  h.dstPort = 40000;
  h.seq = asSeq(seq);
  h.ack = asSeq(1);
  h.flags = TCP_PSH | TCP_ACK;
  h.window = 65535;
  emitTcp(f, ETH_HLEN + IPV4_HLEN, h, SERVER_IP, CLIENT_IP, payload.length);
  return f;
}
const SERVER_IP = 0xc6120001 | 0;
const CLIENT_IP = 0xc6120002 | 0;

/** The frame numbers tshark lists for a display filter. */
function framesMatching(args: string[]): number[] {
  const r = spawnSync('tshark', [...args, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

testNeeding(t, 'the tshark check the interop tests use: bad checksums and broken headers count, tshark\'s reassembly limits do not', commandMissing('tshark'), async (t) => {
  const path = join(tempDir(t, 'mtcpts-cap-'), 'check.pcapng');
  const wire = new SimWire({ seed: 1 });
  const a = new CaptureDriver(wire.attach(MAC_A), path);
  const response = new TextEncoder().encode(`HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n${'x'.repeat(2048)}`);
  const stream = new Uint8Array(response.length * 2);
  stream.set(response, 0);
  stream.set(response, response.length);
  const end = response.length;
  const sendRange = (from: number, to: number) => sendBytes(a, httpSegment(1 + from, stream.subarray(from, to)));
  sendRange(0, 1000); // 1: the first response, in two segments
  sendRange(1000, end); // 2
  sendRange(end, end + 1000); // 3: the second response begins
  sendRange(end - 100, end + 100); // 4: a resend cut differently, across the end of the first response
  sendBytes(a, tcpFrame(MAC_B, MAC_A, SERVER_IP, CLIENT_IP, 1000, 80)); // 5: IP and TCP checksums left at 0
  sendBytes(a, httpSegment(1, new Uint8Array(0)).subarray(0, ETH_HLEN + IPV4_HLEN + 10)); // 6: TCP header cut short
  a.close();
  t.same(framesMatching(['-r', path, '-Y', '_ws.malformed.reassembly']), [4], 'tshark reports a reassembly error on the resend');
  t.same(framesMatching(badFrameArgs(path)), [5, 6], 'the check counts the bad checksums and the cut header, not the resend');
});
