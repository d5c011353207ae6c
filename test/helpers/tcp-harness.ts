/**
 * Packet-level TCP tests: one stack (a StackContext driven by hand, no event
 * loop) and a scripted peer on the same simulated wire. The test writes the
 * peer's segments and reads back exactly what the stack sent.
 */
import { SimWire, type SimDriver } from '../../src/io/sim.ts';
import { FrameBatch, type PacketDriver, type PortCapabilities } from '../../src/stack/port.ts';
import { DriverWrapper } from '../../src/io/wrapper.ts';
import { StackContext } from '../../src/stack/context.ts';
import type { TcpConfig } from '../../src/stack/tcp/engine.ts';
import type { SocketEvents } from '../../src/stack/tcp/contracts.ts';
import { emitEthernet, ETH_HLEN, ETHERTYPE_IPV4 } from '../../src/stack/wire/ethernet.ts';
import { emitIpv4, IPPROTO_TCP, IPV4_HLEN, Ipv4Fields, parseIpv4 } from '../../src/stack/wire/ipv4.ts';
import { emitTcp, parseTcp, TcpFields, tcpHeaderLen, TCP_ACK, TCP_SYN } from '../../src/stack/wire/tcp.ts';
import { asSeq, asTsVal, seqValue } from '../../src/stack/wire/seqnum.ts';
import { ConnView } from '../../sim/conn-view.ts';
import { SegmentingPort } from './segmenting-port.ts';

export const STACK_IP = 0xc6120001; // 198.18.0.1
export const PEER_IP = 0xc6120002; // 198.18.0.2
export const STACK_MAC = 0x02000000aa01;
export const PEER_MAC = 0x02000000bb02;
export { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/stack/wire/tcp.ts';

/** A segment as the test writes or reads it. */
export interface Seg {
  flags: number;
  seq: number;
  ack: number;
  win: number;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  mss: number;
  wscale: number;
  sackPermitted: boolean;
  ts: [number, number] | null;
  /** SACK blocks [left, right) as uint32. */
  sack: [number, number][];
}

/**
 * A port that declares other capabilities than the sim port it wraps: with TX checksum offload the stack
 * leaves TCP checksums to the port (the sim wire carries them as the stack wrote them); `markVerified`
 * marks every received frame's checksums as verified, as an RX-offloading port does.
 */
class DeclaringPort extends DriverWrapper {
  readonly #caps: PortCapabilities;

  constructor(inner: PacketDriver, declared: Partial<PortCapabilities>, readonly markVerified: boolean) {
    super(inner, 'declaring');
    this.#caps = { ...inner.capabilities, ...declared };
  }

  override get capabilities(): PortCapabilities {
    return this.#caps;
  }

  override rxBurst(queue: number, out: FrameBatch, max: number): number {
    const n = this.inner.rxBurst(queue, out, max);
    if (this.markVerified) out.checksumOk.fill(1, 0, n);
    return n;
  }
}

export interface HarnessOptions {
  /** The port declares TX checksum offload: the stack emits TCP segments without checksums. */
  txChecksumOffload?: boolean;
  /** The port declares RX checksum offload and marks every received frame's checksums as verified. */
  rxChecksumVerified?: boolean;
  /** The port declares a link that cannot corrupt frames. */
  trustedLink?: boolean;
  /** The port marks every received frame as verified without declaring RX checksum offload (it breaks the contract). */
  marksWithoutDeclaring?: boolean;
  /** The port cuts segments of frames up to this size itself and fills checksums (TSO, segmenting-port.ts). */
  tsoMaxBytes?: number;
  /** Largest frame the simulated wire carries (default 2048). */
  wireMaxFrameBytes?: number;
}

export class Harness {
  readonly wire: SimWire;
  readonly stackPort: SimDriver;
  /** The port the stack uses: stackPort, or a wrapper declaring other capabilities. */
  readonly port: PacketDriver;
  readonly peer: SimDriver;
  readonly ctx: StackContext;
  /** Socket events the stack raised: [sockid, bits]. */
  readonly woken: [number, number][] = [];
  now = 1000;
  readonly #tx = new FrameBatch(64);
  readonly #rx = new FrameBatch(64);
  readonly #ipf = new Ipv4Fields();
  readonly #f = new TcpFields();
  /** Whether the stack's frames reach the peer with TCP checksums (recv() checks them then). */
  readonly #signed: boolean;

  constructor(tcp: Partial<TcpConfig> = {}, opts: HarnessOptions = {}) {
    this.wire = new SimWire({ seed: 7, maxFrameBytes: opts.wireMaxFrameBytes });
    this.stackPort = this.wire.attach(STACK_MAC);
    this.peer = this.wire.attach(PEER_MAC);
    const events: SocketEvents = { wake: (s, b) => void this.woken.push([s, b]) };
    const declared = { txChecksumOffload: !!opts.txChecksumOffload, rxChecksumOffload: !!opts.rxChecksumVerified, trustedLink: !!opts.trustedLink };
    const marks = !!opts.rxChecksumVerified || !!opts.marksWithoutDeclaring;
    const port = opts.tsoMaxBytes ? new SegmentingPort(this.stackPort, opts.tsoMaxBytes)
      : marks || declared.txChecksumOffload || declared.trustedLink ? new DeclaringPort(this.stackPort, declared, marks) : this.stackPort;
    this.port = port;
    // The sim wire carries what the stack wrote: unsigned through a port that only declares an offload.
    this.#signed = port === this.stackPort || port instanceof SegmentingPort || !(declared.txChecksumOffload || declared.trustedLink);
    this.ctx = new StackContext(port, 0, {
      ip: STACK_IP,
      routes: { nextHop: (dst) => ((dst >>> 8) === (STACK_IP >>> 8) ? dst : -1) },
      staticArp: { lookup: (ip) => ((ip >>> 0) === PEER_IP ? PEER_MAC : -1) },
      tcp: {
        maxConcurrency: 64, maxNumBuffers: 64, rcvbuf: 8192, sndbuf: 8192, idleTimeoutMs: 30_000, timeWaitMs: 0,
        mtu: 1500, cc: 'reno', secret: [11, 22], ...tcp,
      },
    }, events);
    this.wire.advanceTo(this.now);
    this.ctx.poll(this.now);
  }

  get tcp(): StackContext['tcp'] {
    return this.ctx.tcp;
  }

  /** Connection `id` of the stack, as an object. */
  view(id: number): ConnView {
    if (id < 0) throw new Error(`no connection (${id})`);
    return new ConnView(this.ctx.tcp, id);
  }

  /** Run the stack at time `now` (advancing the clock). */
  poll(advanceMs = 0): void {
    this.now += advanceMs;
    this.wire.advanceTo(this.now);
    this.ctx.poll(this.now);
  }

  /** The peer sends a segment (with a wrong TCP checksum if `badChecksum`); the stack processes it. */
  send(s: Partial<Seg> & { badChecksum?: boolean }): void {
    this.peer.txAlloc(0, this.#tx, 1);
    const buf = this.#tx.buf[0];
    const off = this.#tx.off[0];
    const f = this.#f;
    const payload = s.payload ?? new Uint8Array(0);
    f.srcPort = s.srcPort ?? 40000;
    f.dstPort = s.dstPort ?? 80;
    f.seq = asSeq(s.seq ?? 0);
    f.ack = asSeq(s.ack ?? 0);
    f.flags = s.flags ?? 0;
    f.window = s.win ?? 65535;
    f.urgent = 0;
    f.mss = s.mss ?? -1;
    f.wscale = s.wscale ?? -1;
    f.sackPermitted = s.sackPermitted ?? false;
    f.hasTimestamp = s.ts != null;
    f.tsVal = asTsVal(s.ts ? s.ts[0] : 0);
    f.tsEcr = asTsVal(s.ts ? s.ts[1] : 0);
    const sack = s.sack ?? [];
    f.sackCount = sack.length;
    sack.forEach(([l, r], k) => {
      f.sackLeft[k] = asSeq(l);
      f.sackRight[k] = asSeq(r);
    });
    const tcpOff = off + ETH_HLEN + IPV4_HLEN;
    const hlen = tcpHeaderLen(f);
    buf.set(payload, tcpOff + hlen);
    emitTcp(buf, tcpOff, f, PEER_IP, STACK_IP, payload.length);
    if (s.badChecksum) buf[tcpOff + 17] ^= 0xff;
    emitIpv4(buf, off + ETH_HLEN, PEER_IP, STACK_IP, IPPROTO_TCP, hlen + payload.length, 1, 64);
    emitEthernet(buf, off, STACK_MAC, PEER_MAC, ETHERTYPE_IPV4);
    this.#tx.len[0] = ETH_HLEN + IPV4_HLEN + hlen + payload.length;
    this.peer.txBurst(0, this.#tx, 1);
    this.poll();
  }

  /** Every TCP segment the stack sent since the last call (pending output is flushed first, as the loop does before it sleeps). */
  recv(): Seg[] {
    this.ctx.flushOutput(this.now);
    const out: Seg[] = [];
    for (;;) {
      const n = this.peer.rxBurst(0, this.#rx, 64);
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        const buf = this.#rx.buf[i];
        const off = this.#rx.off[i];
        const len = this.#rx.len[i];
        if (((buf[off + 12] << 8) | buf[off + 13]) !== ETHERTYPE_IPV4) continue;
        if (parseIpv4(buf, off + ETH_HLEN, len - ETH_HLEN, this.#ipf) !== 0 || this.#ipf.proto !== IPPROTO_TCP) continue;
        const f = this.#f;
        const r = parseTcp(buf, this.#ipf.payloadOff, this.#ipf.payloadLen, this.#ipf.src, this.#ipf.dst, f, this.#signed);
        if (r !== 0) throw new Error(`stack sent a malformed segment (drop reason ${r})`);
        out.push({
          flags: f.flags, seq: seqValue(f.seq), ack: seqValue(f.ack), win: f.window, srcPort: f.srcPort, dstPort: f.dstPort,
          payload: buf.slice(f.payloadOff, f.payloadOff + f.payloadLen), mss: f.mss, wscale: f.wscale,
          sackPermitted: f.sackPermitted, ts: f.hasTimestamp ? [seqValue(f.tsVal), seqValue(f.tsEcr)] : null,
          sack: Array.from({ length: f.sackCount }, (_, k): [number, number] => [seqValue(f.sackLeft[k]) >>> 0, seqValue(f.sackRight[k]) >>> 0]),
        });
      }
      this.peer.rxRelease(0, this.#rx);
    }
    return out;
  }

  /** Exactly one segment was sent; return it. */
  recvOne(): Seg {
    const s = this.recv();
    if (s.length !== 1) throw new Error(`expected one segment, got ${s.length}: ${JSON.stringify(s.map(describe))}`);
    return s[0];
  }
}

export function describe(s: Seg): string {
  const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK'];
  const flags = names.filter((_, i) => s.flags & (1 << i)).join('|');
  return `${flags} seq=${s.seq} ack=${s.ack} win=${s.win} len=${s.payload.length}`;
}

/** The scripted peer's initial sequence number in established(). */
export const PEER_ISS = 5000;
/** The socket id of the listener established() opens on port 80. */
export const LISTEN_SOCK = 100;

/**
 * A stack listening on port 80 and a peer that has completed the handshake
 * (SYN with MSS 1460, window scale 0, no timestamps unless `syn` says
 * otherwise; its ACK repeats the SYN's window and echoes the timestamp),
 * accepted as socket 1. `iss` is the stack's initial sequence number.
 */
export function established(
  tcp: Partial<TcpConfig> = {}, syn: Partial<Seg> = {}, opts: HarnessOptions = {},
): { h: Harness; tcb: ConnView; iss: number } {
  const h = new Harness(tcp, opts);
  h.tcp.sockets.listen(LISTEN_SOCK, 0, 80, 16);
  h.send({ flags: TCP_SYN, seq: PEER_ISS, mss: 1460, wscale: 0, ts: null, ...syn });
  const synAck = h.recvOne();
  h.send({ flags: TCP_ACK, seq: PEER_ISS + 1, ack: synAck.seq + 1, win: syn.win, ts: syn.ts ? [syn.ts[0] + 1, synAck.ts![0]] : null });
  return { h, tcb: h.view(h.tcp.sockets.accept(h.tcp.sockets.listener(80)!, 1)), iss: synAck.seq };
}
