/**
 * A SYN flood from spoofed addresses while real clients connect and an
 * established connection transfers (RFC 4987): the half-open queue stays
 * bounded, SYN cookies answer when it is full, every real connection is
 * accepted and served, and the transfer is not disturbed.
 */
import t from 'tap';
import { FrameBatch } from '../../src/stack/port.ts';
import { Prng } from '../../src/io/sim.ts';
import { DropReason } from '../../src/stack/drop-reason.ts';
import { State } from '../../src/stack/tcp/state.ts';
import { ConnView } from '../../sim/conn-view.ts';
import { asSeq } from '../../src/stack/wire/seqnum.ts';
import { emitEthernet, ETH_HLEN, ETHERTYPE_IPV4 } from '../../src/stack/wire/ethernet.ts';
import { emitIpv4, IPPROTO_TCP, IPV4_HLEN } from '../../src/stack/wire/ipv4.ts';
import { emitTcp, TcpFields, TCP_SYN } from '../../src/stack/wire/tcp.ts';
import { hostMac, World, type Host } from '../../sim/world.ts';

const PORT = 80;
const BACKLOG = 32;

const synFields = new TcpFields();

/**
 * Frame `i` of `tx` becomes a SYN to `server`:PORT from the spoofed `src`:`srcPort` behind the attacker's
 * MAC, MSS 1460, offering window scaling (`wscale`, -1 for none) and SACK as the flood or the pool tests want.
 */
function writeSpoofedSyn(tx: FrameBatch, i: number, server: Host, attackerMac: number,
  syn: { src: number; srcPort: number; seq: number; wscale: number; sackPermitted: boolean }): void {
  const f = synFields;
  f.srcPort = syn.srcPort;
  f.dstPort = PORT;
  f.seq = asSeq(syn.seq);
  f.ack = asSeq(0);
  f.flags = TCP_SYN;
  f.window = 65535;
  f.urgent = 0;
  f.mss = 1460;
  f.wscale = syn.wscale;
  f.sackPermitted = syn.sackPermitted;
  f.hasTimestamp = false;
  f.sackCount = 0;
  const hlen = emitTcp(tx.buf[i], tx.off[i] + ETH_HLEN + IPV4_HLEN, f, syn.src, server.ip, 0);
  emitIpv4(tx.buf[i], tx.off[i] + ETH_HLEN, syn.src, server.ip, IPPROTO_TCP, hlen, 1, 64);
  emitEthernet(tx.buf[i], tx.off[i], hostMac(server.index), attackerMac, ETHERTYPE_IPV4);
  tx.len[i] = ETH_HLEN + IPV4_HLEN + hlen;
}

t.test('100,000 spoofed SYNs in 2 s: real clients are still accepted and served, memory stays bounded', async (t) => {
  const w = new World({ seed: 5, hosts: 3, tcp: { maxConcurrency: 512, maxNumBuffers: 512, rcvbuf: 65536, sndbuf: 65536 } });
  const [server, client, bulkPeer] = w.hosts;
  const attacker = w.wire.attach(0x02000000ee01);
  const prng = new Prng(99);
  server.ctx.tcp.sockets.listen(1, 0, PORT, BACKLOG);
  const listener = server.ctx.tcp.sockets.listener(PORT)!;

  // The server's application: accept everything, echo what it reads.
  const accepted: ConnView[] = [];
  const buf = new Uint8Array(65536);
  let sockids = 10;
  const serve = (): void => {
    for (let c = server.ctx.tcp.sockets.accept(listener, sockids++); c >= 0; c = server.ctx.tcp.sockets.accept(listener, sockids++)) {
      accepted.push(new ConnView(server.ctx.tcp, c));
    }
    for (const c of accepted) {
      if (!c.inUse || c.sockid < 0 || c.remoteIp === bulkPeer.ip) continue;
      const n = server.ctx.tcp.sockets.receive(c.id, buf, 0, buf.length, false);
      if (n > 0) server.ctx.tcp.sockets.send(c.id, buf, 0, n);
      else if (n === 0) server.ctx.tcp.sockets.close(c.id);
    }
  };

  // A bulk transfer from a third host, established before the flood.
  const bulk = new ConnView(bulkPeer.ctx.tcp, bulkPeer.ctx.tcp.sockets.connect(1, bulkPeer.ip, 0, server.ip, PORT));
  const pattern = new Uint8Array(65536 + 251);
  for (let i = 0; i < pattern.length; i++) pattern[i] = i % 251;
  let bulkSent = 0;
  let bulkReceived = 0;
  let bulkCorrupt = 0;
  const pumpBulk = (): void => {
    if (bulk.state !== State.Established) return;
    for (;;) {
      const n = bulkPeer.ctx.tcp.sockets.send(bulk.id, pattern, bulkSent % 251, 65536);
      if (n <= 0) break;
      bulkSent += n;
    }
  };
  const drainBulk = (): void => {
    const c = accepted.find((x) => x.remoteIp === bulkPeer.ip && x.inUse);
    if (!c) return;
    for (;;) {
      const n = server.ctx.tcp.sockets.receive(c.id, buf, 0, buf.length, false);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) if (buf[i] !== (bulkReceived + i) % 251) bulkCorrupt++;
      bulkReceived += n;
    }
  };

  // Real clients: 200 connections, each a 1 KiB request and its echo.
  const request = new Uint8Array(1024).fill(7);
  const conns: { tcb: ConnView; got: number; done: boolean }[] = [];
  let completed = 0;
  let failed = 0;
  const runClients = (): void => {
    if (conns.length < 200 && conns.filter((c) => !c.done).length < 20) {
      const tcb = new ConnView(client.ctx.tcp, client.ctx.tcp.sockets.connect(conns.length + 1, client.ip, 0, server.ip, PORT));
      conns.push({ tcb, got: 0, done: false });
    }
    for (const c of conns) {
      if (c.done) continue;
      if (c.tcb.failed) {
        c.done = true;
        failed++;
        continue;
      }
      if (c.tcb.state === State.Established && c.tcb.sndBuf.length === 0 && c.got === 0 && c.tcb.sndUna === c.tcb.iss + 1) {
        client.ctx.tcp.sockets.send(c.tcb.id, request, 0, request.length);
      }
      const n = client.ctx.tcp.sockets.receive(c.tcb.id, buf, 0, buf.length, false);
      if (n > 0) c.got += n;
      if (c.got === request.length) {
        c.done = true;
        completed++;
        client.ctx.tcp.sockets.close(c.tcb.id);
      }
    }
  };

  // The flood: 50 SYNs per virtual millisecond from random addresses, some on the link, some routed nowhere.
  const tx = new FrameBatch(64);
  const flood = (): void => {
    const n = attacker.txAlloc(0, tx, 50);
    for (let i = 0; i < n; i++) {
      const src = prng.next() < 0.5 ? (0xc6120000 + 10 + Math.floor(prng.next() * 240)) | 0 : (prng.next() * 0x100000000) | 0;
      const srcPort = 1024 + Math.floor(prng.next() * 60000);
      writeSpoofedSyn(tx, i, server, 0x02000000ee01, { src, srcPort, seq: prng.next() * 0x100000000, wscale: 7, sackPermitted: true });
    }
    attacker.txBurst(0, tx, n);
    // The attacker reads nothing: drop what reaches it (ARP broadcasts).
    while (attacker.rxBurst(0, tx, 64) > 0) attacker.rxRelease(0, tx);
  };

  let maxActive = 0;
  let maxHalfOpen = 0;
  const tick = (): void => {
    serve();
    drainBulk();
    pumpBulk();
    runClients();
    maxActive = Math.max(maxActive, server.ctx.tcp.activeCount);
    maxHalfOpen = Math.max(maxHalfOpen, listener.halfOpen);
  };
  for (let ms = 1; ms <= 100; ms++) {
    w.runTo(ms);
    tick();
  }
  t.equal(bulk.state, State.Established, 'the bulk connection is established before the flood');
  const cookiesBefore = server.ctx.stats.tcpSynCookiesAccepted;
  for (let ms = 101; ms <= 2100; ms++) {
    flood();
    w.runTo(ms);
    tick();
  }
  // Let the real clients finish after the flood.
  const bulkDuringFlood = bulkReceived;
  for (let ms = 2101; ms <= 60_000 && completed + failed < 200; ms++) {
    w.runTo(ms);
    tick();
  }
  const s = server.ctx.stats;
  t.comment(`SYN cookies sent ${s.tcpSynCookiesSent}, accepted ${s.tcpSynCookiesAccepted}; max control blocks ${maxActive}, max half-open ${maxHalfOpen}; bulk ${(bulkReceived / 1048576).toFixed(1)} MiB`);
  t.equal(completed, 200, 'every real connection was accepted and served');
  t.equal(failed, 0);
  t.ok(s.tcpSynCookiesSent > 50_000, 'the full half-open queue answered with SYN cookies');
  t.ok(maxHalfOpen <= BACKLOG, `the half-open queue stayed within the backlog (${maxHalfOpen})`);
  t.ok(maxActive <= BACKLOG + 20 + 2, `control blocks stayed bounded (${maxActive})`);
  t.equal(bulkCorrupt, 0, 'the established transfer arrived intact');
  t.ok(bulkDuringFlood > 10 * 1048576, `and kept moving during the flood (${(bulkDuringFlood / 1048576).toFixed(1)} MiB)`);
  t.ok(s.tcpSynCookiesAccepted - cookiesBefore > 0, 'real clients got in through cookies');
});

t.test('SYNs beyond the control blocks (max_concurrency) are answered with SYN cookies, not dropped', async (t) => {
  const POOL = 16;
  const w = new World({ seed: 7, hosts: 1, tcp: { maxConcurrency: POOL, maxNumBuffers: POOL, rcvbuf: 65536, sndbuf: 65536 } });
  const [server] = w.hosts;
  const attacker = w.wire.attach(0x02000000ee02);
  server.ctx.tcp.sockets.listen(1, 0, PORT, 128); // a backlog larger than the pool: the pool runs out first
  const listener = server.ctx.tcp.sockets.listener(PORT)!;
  const tx = new FrameBatch(64);
  const SYNS = 60;
  const n = attacker.txAlloc(0, tx, SYNS);
  for (let i = 0; i < n; i++) {
    const src = (0xc6130000 + 1 + i) | 0; // 198.19.0.x: off the link, so the replies are made, then counted as ip_no_route
    writeSpoofedSyn(tx, i, server, 0x02000000ee02, { src, srcPort: 2000 + i, seq: 1000 * i, wscale: -1, sackPermitted: false });
  }
  attacker.txBurst(0, tx, n);
  w.runTo(50);
  const s = server.ctx.stats;
  t.equal(n, SYNS);
  t.equal(listener.halfOpen, POOL, 'the pool filled with half-open connections');
  t.equal(s.drops[DropReason.TcpNoMemory], 0, 'no SYN dropped for want of a control block');
  t.equal(s.tcpSynCookiesSent, SYNS - POOL, 'every other SYN answered with a cookie');
});

t.test('a real client answered with a cookie while every control block is in use gets in once one frees, without a reset', async (t) => {
  const POOL = 4;
  const w = new World({ seed: 8, hosts: 2, tcp: { maxConcurrency: POOL, maxNumBuffers: POOL, rcvbuf: 65536, sndbuf: 65536 } });
  const [server, client] = w.hosts;
  const attacker = w.wire.attach(0x02000000ee03);
  server.ctx.tcp.sockets.listen(1, 0, PORT, 128);
  const listener = server.ctx.tcp.sockets.listener(PORT)!;
  const tx = new FrameBatch(64);
  const n = attacker.txAlloc(0, tx, POOL);
  for (let i = 0; i < n; i++) {
    const src = (0xc6130000 + 1 + i) | 0;
    writeSpoofedSyn(tx, i, server, 0x02000000ee03, { src, srcPort: 3000 + i, seq: 1000 * i, wscale: -1, sackPermitted: false });
  }
  attacker.txBurst(0, tx, n);
  w.runTo(10);
  t.equal(listener.halfOpen, POOL, 'the pool is full of half-open connections');
  const conn = new ConnView(client.ctx.tcp, client.ctx.tcp.sockets.connect(1, client.ip, 0, server.ip, PORT));
  const request = new Uint8Array(100).fill(9);
  let sent = false;
  let accepted = -1;
  const buf = new Uint8Array(1024);
  let got = 0;
  for (let ms = 11; ms <= 300_000 && got < request.length; ms += 10) {
    w.runTo(ms);
    if (!sent && conn.state === State.Established) sent = client.ctx.tcp.sockets.send(conn.id, request, 0, request.length) === request.length;
    if (accepted < 0) accepted = server.ctx.tcp.sockets.accept(listener, 10);
    if (accepted >= 0) got += Math.max(0, server.ctx.tcp.sockets.receive(accepted, buf, 0, buf.length, false));
  }
  const s = server.ctx.stats;
  t.ok(s.tcpSynCookiesSent >= 1, 'the client\'s SYN was answered with a cookie');
  t.ok(s.drops[DropReason.TcpNoMemory] >= 1, 'its ACK found no control block: dropped and counted');
  t.equal(client.ctx.stats.tcpRstReceived, 0, 'and not reset');
  t.equal(got, request.length, 'once a control block freed, its request arrived');
  t.equal(s.tcpSynCookiesAccepted, 1, 'through the cookie');
});
