/**
 * Checksum offload, as the DPDK driver uses it when a port offers it: received frames the port marked
 * as verified skip the stack's own TCP checksum check, and with TX offload the stack leaves the TCP
 * checksum for the port to fill. Without offload, a wrong checksum is dropped and counted. The stack
 * learns all of it from the port's capabilities: a mark from a port that does not declare RX offload
 * is ignored, and only a trusted link goes unchecked (and unsigned: as loopback, nobody checks).
 */
import t from 'tap';
import { FrameBatch } from '../../../src/stack/port.ts';
import { DropReason } from '../../../src/stack/drop-reason.ts';
import { ETH_HLEN } from '../../../src/stack/wire/ethernet.ts';
import { IPV4_HLEN } from '../../../src/stack/wire/ipv4.ts';
import { tcpChecksumOk } from '../../../src/stack/wire/tcp.ts';
import { Harness, PEER_IP, STACK_IP, TCP_SYN } from '../../helpers/tcp-harness.ts';

const SYN = { flags: TCP_SYN, seq: 1000, mss: 1460 };

t.test('without offload a SYN with a wrong TCP checksum is dropped and counted', async (t) => {
  const h = new Harness();
  h.tcp.sockets.listen(100, 0, 80, 16);
  h.send({ ...SYN, badChecksum: true });
  t.same(h.recv(), [], 'no SYN|ACK');
  t.equal(h.ctx.stats.drops[DropReason.TcpBadChecksum], 1);
});

t.test('a frame the port verified is not checked again', async (t) => {
  const h = new Harness({}, { rxChecksumVerified: true });
  h.tcp.sockets.listen(100, 0, 80, 16);
  // The port vouched for it: the stack takes its word (a real port would have dropped or flagged a bad one).
  h.send({ ...SYN, badChecksum: true });
  const out = h.recv();
  t.equal(out.length, 1, 'the SYN was taken: a SYN|ACK came back');
  t.equal(h.ctx.stats.drops[DropReason.TcpBadChecksum], 0);
});

t.test('a port that marks frames verified without declaring RX offload is not believed', async (t) => {
  const h = new Harness({}, { marksWithoutDeclaring: true });
  h.tcp.sockets.listen(100, 0, 80, 16);
  h.send({ ...SYN, badChecksum: true });
  t.same(h.recv(), [], 'no SYN|ACK');
  t.equal(h.ctx.stats.drops[DropReason.TcpBadChecksum], 1, 'checked and dropped');
});

t.test('a port whose link cannot corrupt frames (trustedLink) is not checked', async (t) => {
  const h = new Harness({}, { trustedLink: true });
  h.tcp.sockets.listen(100, 0, 80, 16);
  h.send({ ...SYN, badChecksum: true });
  t.equal(h.recv().length, 1, 'the SYN was taken: a SYN|ACK came back');
  t.equal(h.ctx.stats.drops[DropReason.TcpBadChecksum], 0);
});

t.test('with TX offload, or on a trusted link, the stack writes no TCP checksum', async (t) => {
  for (const [offload, trusted] of [[false, false], [true, false], [false, true]]) {
    const h = new Harness({}, { txChecksumOffload: offload, trustedLink: trusted });
    h.tcp.sockets.listen(100, 0, 80, 16);
    h.send(SYN);
    h.ctx.flushOutput(h.now);
    const rxBatch = new FrameBatch(64);
    const n = h.peer.rxBurst(0, rxBatch, 64);
    t.equal(n, 1, 'one SYN|ACK');
    const buf = rxBatch.buf[0];
    const tcpOff = rxBatch.off[0] + ETH_HLEN + IPV4_HLEN;
    const tcpLen = rxBatch.len[0] - ETH_HLEN - IPV4_HLEN;
    const field = (buf[tcpOff + 16] << 8) | buf[tcpOff + 17];
    if (offload || trusted) t.equal(field, 0, offload ? 'offload: checksum field left zero for the port' : 'trusted link: no checksum');
    else t.ok(tcpChecksumOk(buf, tcpOff, tcpLen, STACK_IP | 0, PEER_IP | 0), 'software: a valid checksum');
    h.peer.rxRelease(0, rxBatch);
  }
});
