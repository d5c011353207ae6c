/** The capture wrapper: every frame in and out, in a pcapng file that tshark reads. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureDriver } from '../../src/io/capture.ts';
import { BAD_FRAMES } from '../helpers/tshark.ts';
import { SimWire } from '../../src/io/sim.ts';
import { MAC_A, MAC_B, recvFrames, sendBytes, sendFrames, seqsOf, tcpFrame } from './fixtures/frames.ts';

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
  const path = join(mkdtempSync(join(tmpdir(), 'mtcpts-cap-')), 'c.pcapng');
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
  if (spawnSync('sh', ['-c', 'command -v tshark']).status === 0) {
    const r = spawnSync('tshark', ['-r', path], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout.trim().split('\n').length, 5, 'tshark reads five frames');
  } else if (process.env.CI) {
    t.fail('tshark is missing in CI');
  } else {
    t.comment('tshark not installed: its check skipped');
  }
});

t.test('the tshark check the interop tests use catches a bad checksum', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v tshark']).status !== 0) {
    if (process.env.CI) t.fail('tshark is missing in CI');
    else t.comment('tshark not installed: skipped');
    return;
  }
  const path = join(mkdtempSync(join(tmpdir(), 'mtcpts-cap-')), 'bad.pcapng');
  const wire = new SimWire({ seed: 1 });
  const a = new CaptureDriver(wire.attach(MAC_A), path);
  sendBytes(a, tcpFrame(MAC_B, MAC_A, 0xc6120001, 0xc6120002, 1000, 80)); // IP and TCP checksums left at 0
  a.close();
  const bad = spawnSync('tshark', ['-r', path, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
    '-Y', BAD_FRAMES], { encoding: 'utf8' });
  t.equal(bad.status, 0, bad.stderr);
  t.equal(bad.stdout.trim().split('\n').filter(Boolean).length, 1, 'the frame with bad checksums is reported');
});
