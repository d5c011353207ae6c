/**
 * The shm wire's frames and checksums: slots up to the largest IPv4 datagram, and a trusted link by default
 * (as Linux's loopback): ports declare checksum offload, a TCP frame whose checksum the stack left to the port
 * crosses unsigned and arrives marked as needing none. Once an end stops the offload (the impair and capture
 * wrappers do), both ports fill real checksums and mark nothing. A wire made without checksum offload (tap's
 * steering wire) carries frames as they are.
 */
import t, { type Test } from 'tap';
import { attachShm, SHM_MAX_SLOT_SIZE, shmSlotSizeFor, ShmWire } from '../../src/io/shm.ts';
import { FrameBatch, type PacketDriver } from '../../src/stack/port.ts';
import { tcpChecksumOk } from '../../src/stack/wire/tcp.ts';
import { MAC_A, MAC_B, sendBytes, tcpFrame } from './fixtures/frames.ts';

const IP_A = 0xc6120001 | 0;
const IP_B = 0xc6120002 | 0;

function pair(opts: Parameters<typeof ShmWire.create>[0] = {}) {
  const shared = ShmWire.create(opts).share();
  return { a: attachShm(shared, 0, MAC_A), b: attachShm(shared, 1, MAC_B) };
}

/** A TCP frame from A to B with `payload` bytes and a zero checksum (left to the port), IPv4 length set. */
function unsignedTcp(payload: number): Uint8Array {
  const head = tcpFrame(MAC_B, MAC_A, IP_A, IP_B, 40000, 80);
  const f = new Uint8Array(head.length + payload);
  f.set(head);
  const total = 20 + 20 + payload;
  f[16] = total >>> 8;
  f[17] = total & 0xff;
  f[46] = 0x50; // data offset: 5 words
  for (let i = 0; i < payload; i++) f[54 + i] = (i * 13) & 0xff;
  return f;
}

/** The one frame waiting on `d`: its bytes and the port's checksum mark. */
function receiveOne(t: Test, d: PacketDriver): { bytes: Uint8Array; marked: boolean } {
  const rx = new FrameBatch(4);
  t.equal(d.rxBurst(0, rx, 4), 1, 'one frame');
  const out = { bytes: rx.buf[0].slice(rx.off[0], rx.off[0] + rx.len[0]), marked: rx.checksumOk[0] === 1 };
  d.rxRelease(0, rx);
  return out;
}

const tcpOk = (f: Uint8Array): boolean => tcpChecksumOk(f, 34, f.length - 34, IP_A, IP_B);

t.test('by default a trusted link: checksum offload declared, TCP frames cross unsigned and arrive marked', async (t) => {
  const { a, b } = pair();
  t.same(a.capabilities, { maxFrameBytes: 2048, queues: 1, txChecksumOffload: true, rxChecksumOffload: true, tsoMaxBytes: 0, trustedLink: false });
  const frame = unsignedTcp(1000);
  sendBytes(a, frame);
  const got = receiveOne(t, b);
  t.ok(got.marked, 'marked as needing no checksum');
  t.same(got.bytes, frame, 'the bytes as sent: no checksum written');
});

t.test('once an end stops the offload (impair, capture), both ports fill real checksums and mark nothing', async (t) => {
  const { a, b } = pair();
  b.stopTxChecksumOffload();
  t.equal(b.capabilities.txChecksumOffload, false, 'its stack fills checksums from now on');
  t.equal(a.capabilities.txChecksumOffload, true, 'the other end still leaves them to its port');
  const frame = unsignedTcp(1000);
  sendBytes(a, frame);
  const got = receiveOne(t, b);
  t.notOk(got.marked, 'not marked: the receiver checks it');
  t.ok(tcpOk(got.bytes), 'a real checksum, filled by the sending port');
  t.same(got.bytes.subarray(54), frame.subarray(54), 'payload intact');
  // b's own frames: its stack signed them, its port leaves them alone.
  const signed = unsignedTcp(10);
  sendBytes(b, signed);
  const back = receiveOne(t, a);
  t.notOk(back.marked);
  t.same(back.bytes, signed, 'b\'s port wrote nothing into its stack\'s frame');
});

t.test('a wire made without checksum offload carries frames as they are', async (t) => {
  const { a, b } = pair({ checksumOffload: false });
  t.same(a.capabilities, { maxFrameBytes: 2048, queues: 1, txChecksumOffload: false, rxChecksumOffload: false, tsoMaxBytes: 0, trustedLink: false });
  const frame = unsignedTcp(100);
  sendBytes(a, frame);
  const got = receiveOne(t, b);
  t.notOk(got.marked);
  t.same(got.bytes, frame);
});

t.test('slots up to the largest IPv4 datagram: a 64 KiB frame crosses whole', async (t) => {
  t.equal(shmSlotSizeFor(1500), 2048, 'at least 2048 bytes');
  t.equal(shmSlotSizeFor(9000), 9016);
  t.equal(shmSlotSizeFor(65535), SHM_MAX_SLOT_SIZE);
  t.throws(() => ShmWire.create({ slotSize: SHM_MAX_SLOT_SIZE + 4 }), RangeError);
  const { a, b } = pair({ slots: 64, slotSize: SHM_MAX_SLOT_SIZE });
  t.equal(a.capabilities.maxFrameBytes, SHM_MAX_SLOT_SIZE);
  const frame = unsignedTcp(65535 - 40);
  sendBytes(a, frame);
  const got = receiveOne(t, b);
  t.equal(got.bytes.length, 14 + 65535);
  t.same(got.bytes, frame);
});
