/**
 * The Toeplitz hash against Microsoft's RSS verification suite ("Verifying the
 * RSS Hash Calculation", the vectors mTCP's rss.c and DPDK's test_thash.c also
 * check), against a bit-by-bit port of DPDK's rte_softrss, the symmetry of the
 * 0x6d5a key, DPDK's default redirection table, and the steering of frames.
 */
import t from 'tap';
import { parseIpv4 } from '../../src/config/addr.ts';
import {
  DEFAULT_RETA_SIZE, RSS_EVERY_QUEUE, RssSteering, retaQueue, symmetricRssKey, ToeplitzHash,
} from '../../src/stack/rss.ts';
import { Prng } from '../helpers/prng.ts';

/** The key of Microsoft's verification suite (also DPDK's default_rss_key in test_thash.c). */
const MS_KEY = Uint8Array.from([
  0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
  0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
  0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
]);

/** [destination, destination port, source, source port, IPv4 only, IPv4 with TCP], as the suite's table lists them. */
const MS_VECTORS: [string, number, string, number, number, number][] = [
  ['161.142.100.80', 1766, '66.9.149.187', 2794, 0x323e8fc2, 0x51ccc178],
  ['65.69.140.83', 4739, '199.92.111.2', 14230, 0xd718262a, 0xc626b0ea],
  ['12.22.207.184', 38024, '24.19.198.95', 12898, 0xd2d0a5de, 0x5c2b394a],
  ['209.142.163.6', 2217, '38.27.205.30', 48228, 0x82989176, 0xafc7327f],
  ['202.188.127.2', 1303, '153.39.163.191', 44251, 0x5d1809c5, 0x10e828a2],
];

/** DPDK's rte_softrss, bit by bit: input words in host order (src, dst, sport << 16 | dport). */
function softrss(words: number[], key: Uint8Array): number {
  const keyWord = (j: number): number => ((key[4 * j] << 24) | (key[4 * j + 1] << 16) | (key[4 * j + 2] << 8) | key[4 * j + 3]) >>> 0;
  let ret = 0;
  for (let j = 0; j < words.length; j++) {
    for (let i = 0; i < 32; i++) {
      if (((words[j] >>> i) & 1) === 0) continue;
      // (key[j] << (31 - i)) | (key[j + 1] >> (i + 1)), in 64-bit arithmetic as the C code has it.
      const hi = Number((BigInt(keyWord(j)) << BigInt(31 - i)) & 0xffffffffn);
      const lo = Number(BigInt(keyWord(j + 1)) >> BigInt(i + 1));
      ret = (ret ^ hi ^ lo) >>> 0;
    }
  }
  return ret;
}

t.test('Microsoft RSS verification suite: IPv4 only and IPv4 with TCP', async (t) => {
  const h = new ToeplitzHash(MS_KEY);
  for (const [dst, dport, src, sport, ipOnly, withTcp] of MS_VECTORS) {
    const s = parseIpv4(src);
    const d = parseIpv4(dst);
    t.equal(h.hash2(s, d) >>> 0, ipOnly, `${src} -> ${dst}`);
    t.equal(h.hash4(s, d, sport, dport) >>> 0, withTcp, `${src}:${sport} -> ${dst}:${dport}`);
    t.equal(h.hash4(s | 0, d | 0, sport, dport) >>> 0, withTcp, 'int32 addresses hash the same');
    t.equal(softrss([s, d, (sport << 16) | dport], MS_KEY), withTcp, 'the bit-by-bit reference agrees');
  }
});

t.test('the table-driven hash equals rte_softrss on random tuples, for both keys', async (t) => {
  const rnd = new Prng(6);
  for (const key of [MS_KEY, symmetricRssKey()]) {
    const h = new ToeplitzHash(key);
    let same = 0;
    for (let i = 0; i < 2000; i++) {
      const s = rnd.int(2 ** 32);
      const d = rnd.int(2 ** 32);
      const sp = rnd.int(65536);
      const dp = rnd.int(65536);
      if ((h.hash4(s, d, sp, dp) >>> 0) === softrss([s, d, (sp << 16 | dp) >>> 0], key) &&
        (h.hash2(s, d) >>> 0) === softrss([s, d], key)) same++;
    }
    t.equal(same, 2000, `key ${key[2].toString(16)}...: 2000 of 2000 agree`);
  }
});

t.test('the 0x6d5a key is symmetric: both directions of a flow hash alike; the standard key is not', async (t) => {
  const key = symmetricRssKey();
  t.same([...key.subarray(0, 4)], [0x6d, 0x5a, 0x6d, 0x5a]);
  t.equal(key.length, 40);
  const sym = new ToeplitzHash(key);
  const ms = new ToeplitzHash(MS_KEY);
  const rnd = new Prng(7);
  let symmetric = 0;
  let msSymmetric = 0;
  for (let i = 0; i < 5000; i++) {
    const a = rnd.int(2 ** 32);
    const b = rnd.int(2 ** 32);
    const pa = rnd.int(65536);
    const pb = rnd.int(65536);
    if (sym.hash4(a, b, pa, pb) === sym.hash4(b, a, pb, pa) && sym.hash2(a, b) === sym.hash2(b, a)) symmetric++;
    if (ms.hash4(a, b, pa, pb) === ms.hash4(b, a, pb, pa)) msSymmetric++;
  }
  t.equal(symmetric, 5000, 'every reversed tuple hashes to the same value');
  t.ok(msSymmetric < 10, `the standard key is not symmetric (${msSymmetric} of 5000 by chance)`);
});

t.test('the redirection table: entry i holds i % queues, indexed by the low bits of the hash', async (t) => {
  t.equal(DEFAULT_RETA_SIZE, 128);
  t.equal(retaQueue(0x51ccc178, 4), 0x78 % 4);
  t.equal(retaQueue(0x51ccc178, 3), 0x78 % 3, '128-entry table: bits 0..6');
  t.equal(retaQueue(0x51ccc1f8, 3), 0x78 % 3, 'bit 7 does not matter with 128 entries');
  t.equal(retaQueue(0x51ccc1f8, 3, 512), 0x1f8 % 3, 'it does with 512');
  t.equal(retaQueue(-1, 5), 127 % 5, 'an int32 hash with the top bit set');
  // Spread: 2, 3 and 4 queues each get their share of random flows.
  const rss = new RssSteering();
  const rnd = new Prng(8);
  for (const queues of [2, 3, 4]) {
    const count = new Array<number>(queues).fill(0);
    for (let i = 0; i < 30_000; i++) count[rss.queueOf(rnd.int(2 ** 32), rnd.int(2 ** 32), rnd.int(65536), rnd.int(65536), queues)]++;
    const even = 30_000 / queues;
    t.ok(count.every((c) => Math.abs(c - even) < even * 0.1), `${queues} queues: ${count.join(', ')}`);
  }
  t.throws(() => new RssSteering(100), RangeError, 'table size not a power of two');
  t.throws(() => new ToeplitzHash(new Uint8Array(8)), RangeError, 'key too short');
});

/** An Ethernet frame: IPv4 (protocol `proto`) from src to dst with ports, or another EtherType. */
function frame(type: number, proto: number, src: number, dst: number, sport: number, dport: number, fragment = 0): Uint8Array {
  const f = new Uint8Array(64);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f[14] = 0x45;
  f[20] = fragment >> 8;
  f[21] = fragment & 0xff;
  f[23] = proto;
  new DataView(f.buffer).setUint32(26, src);
  new DataView(f.buffer).setUint32(30, dst);
  new DataView(f.buffer).setUint16(34, sport);
  new DataView(f.buffer).setUint16(36, dport);
  return f;
}

t.test('steering frames: TCP by its 4-tuple, other IPv4 by its addresses, ARP to every queue, the rest to 0', async (t) => {
  const rss = new RssSteering();
  const h = rss.hash;
  const a = 0xc6120002;
  const b = 0xc6120001;
  // Pick ports whose two hashes lead to different queues of 4, so the test tells them apart.
  let sport = 40000;
  while (retaQueue(h.hash4(a, b, sport, 80), 4) === retaQueue(h.hash2(a, b), 4)) sport++;
  const tcp = frame(0x0800, 6, a, b, sport, 80);
  t.equal(rss.queueOfFrame(tcp, 0, 64, 4), retaQueue(h.hash4(a, b, sport, 80), 4), 'TCP: the 4-tuple');
  t.equal(rss.queueOfFrame(tcp, 0, 64, 4), rss.queueOf(a, b, sport, 80, 4));
  t.equal(rss.queueOfFrame(frame(0x0800, 6, b, a, 80, sport), 0, 64, 4), rss.queueOfFrame(tcp, 0, 64, 4), 'the reply: the same queue');
  t.equal(rss.queueOfFrame(frame(0x0800, 1, a, b, sport, 80), 0, 64, 4), retaQueue(h.hash2(a, b), 4), 'ICMP: the addresses');
  t.equal(rss.queueOfFrame(frame(0x0800, 6, a, b, sport, 80, 0x2000), 0, 64, 4), retaQueue(h.hash2(a, b), 4), 'a first fragment (MF): the addresses');
  t.equal(rss.queueOfFrame(frame(0x0800, 6, a, b, sport, 80, 0x0010), 0, 64, 4), retaQueue(h.hash2(a, b), 4), 'a later fragment: the addresses');
  t.equal(rss.queueOfFrame(frame(0x0806, 0, a, b, 0, 0), 0, 64, 4), RSS_EVERY_QUEUE, 'ARP: every queue');
  t.equal(rss.queueOfFrame(frame(0x86dd, 6, a, b, sport, 80), 0, 64, 4), 0, 'IPv6 (not hashed here): queue 0');
  t.equal(rss.queueOfFrame(tcp, 0, 30, 4), 0, 'truncated IPv4 header: queue 0');
  t.equal(rss.queueOfFrame(tcp, 0, 10, 4), 0, 'shorter than Ethernet: queue 0');
  t.equal(rss.queueOfFrame(tcp, 0, 36, 4), retaQueue(h.hash2(a, b), 4), 'no room for the ports: the addresses');
  const bad = tcp.slice();
  bad[14] = 0x65;
  t.equal(rss.queueOfFrame(bad, 0, 64, 4), 0, 'not version 4: queue 0');
  t.equal(rss.queueOfFrame(frame(0x0806, 0, a, b, 0, 0), 0, 64, 1), 0, 'one queue: always 0');
  // At an offset inside a larger arena.
  const arena = new Uint8Array(200);
  arena.set(tcp, 100);
  t.equal(rss.queueOfFrame(arena, 100, 64, 4), rss.queueOfFrame(tcp, 0, 64, 4), 'at an offset');
});
