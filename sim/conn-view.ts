/**
 * A connection of a TcpEngine seen as one object, for tests and the simulator: the stack keeps
 * its control blocks as columns (src/stack/tcp/tcb.ts), and a test reads
 * `view.sndUna` where the stack reads `tcb.sndUna[t]`. Live: every getter
 * reads the current value; sequence numbers and timestamps come as their
 * int32 values (seqValue).
 */
import type { TcpEngine } from '../src/stack/tcp/engine.ts';
import type { State } from '../src/stack/tcp/state.ts';
import { seqValue } from '../src/stack/wire/seqnum.ts';

export class ConnView {
  constructor(readonly tcp: TcpEngine, readonly id: number) {}

  get state(): State {
    return this.tcp.tcb.state(this.id);
  }

  get inUse(): boolean {
    return this.tcp.tcb.inUse(this.id) !== 0;
  }

  get error(): number {
    return this.tcp.tcb.error(this.id);
  }

  get failed(): boolean {
    return this.tcp.tcb.failed(this.id) !== 0;
  }

  get sockid(): number {
    return this.tcp.tcb.sockid(this.id);
  }

  get localIp(): number {
    return this.tcp.tcb.localIp(this.id);
  }

  get localPort(): number {
    return this.tcp.tcb.localPort(this.id);
  }

  get remoteIp(): number {
    return this.tcp.tcb.remoteIp(this.id);
  }

  get remotePort(): number {
    return this.tcp.tcb.remotePort(this.id);
  }

  get iss(): number {
    return seqValue(this.tcp.tcb.iss(this.id));
  }

  get sndUna(): number {
    return seqValue(this.tcp.tcb.sndUna(this.id));
  }

  get sndNxt(): number {
    return seqValue(this.tcp.tcb.sndNxt(this.id));
  }

  get sndMax(): number {
    return seqValue(this.tcp.tcb.sndMax(this.id));
  }

  get sndWnd(): number {
    return this.tcp.tcb.sndWnd(this.id);
  }

  get maxSndWnd(): number {
    return this.tcp.tcb.maxSndWnd(this.id);
  }

  get rcvNxt(): number {
    return seqValue(this.tcp.tcb.rcvNxt(this.id));
  }

  get rcvAdvRight(): number {
    return seqValue(this.tcp.tcb.rcvAdvRight(this.id));
  }

  get sndMss(): number {
    return this.tcp.tcb.sndMss(this.id);
  }

  get sndWscale(): number {
    return this.tcp.tcb.sndWscale(this.id);
  }

  get rcvWscale(): number {
    return this.tcp.tcb.rcvWscale(this.id);
  }

  get tsOk(): boolean {
    return this.tcp.tcb.tsOk(this.id) !== 0;
  }

  get sackOk(): boolean {
    return this.tcp.tcb.sackOk(this.id) !== 0;
  }

  get tsRecent(): number {
    return seqValue(this.tcp.tcb.tsRecent(this.id));
  }

  get lastAckSent(): number {
    return seqValue(this.tcp.tcb.lastAckSent(this.id));
  }

  get finSent(): boolean {
    return this.tcp.tcb.finSent(this.id) !== 0;
  }

  /** A segment is being timed for an RTT sample (without timestamps). */
  get rttTiming(): boolean {
    return this.tcp.tcb.rttTiming(this.id) !== 0;
  }

  get noDelay(): boolean {
    return this.tcp.tcb.noDelay(this.id) !== 0;
  }

  /** Bytes sent and not yet acknowledged (sequence space). */
  get flightSize(): number {
    return this.tcp.sender.flightSize(this.id);
  }

  get inRecovery(): boolean {
    return this.tcp.recovery.inRecovery(this.id);
  }

  get dupAcks(): number {
    return this.tcp.recovery.state.dupAcks[this.id];
  }

  get rtoAt(): number {
    return this.tcp.timers.rtoAt[this.id];
  }

  get keepProbes(): number {
    return this.tcp.timers.keepProbes[this.id];
  }

  get rtt(): { rtoMs: number; samples: number; srtt: number; rttvar: number } {
    const r = this.tcp.rtt;
    const t = this.id;
    return { rtoMs: r.rtoMs(t), samples: r.samples(t), srtt: r.srtt(t), rttvar: r.rttvar(t) };
  }

  /** The controller's name, the window in flight congestion control and recovery allow (NewReno's inflation included), and ssthresh. */
  get cc(): { name: string; cwnd: number; ssthresh: number } {
    const r = this.tcp.recovery;
    return { name: r.cc.name, cwnd: r.window(this.id), ssthresh: r.cc.ssthresh(this.id) };
  }

  get sacked(): { count: number } {
    return { count: this.tcp.recovery.scoreboard.count(this.id) };
  }

  get sndBuf(): { length: number } {
    return { length: this.tcp.sendBuffers.length(this.id) };
  }

  get rcvBuf(): { readable: number } {
    return { readable: this.tcp.recvBuffers.readable(this.id) };
  }
}
