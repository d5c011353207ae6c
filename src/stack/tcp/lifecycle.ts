/**
 * A connection's life: its control block taken and given back, its 4-tuple
 * in the flow table, its state changes, and its ends (failure, TIME_WAIT,
 * termination). A block that still owes the peer a segment when it ends (the
 * last ACK of a TIME_WAIT that lasts 0 s, the RST of an abort) is given back
 * by the output pass once that segment is out.
 */
import { ECONNRESET } from '../errno.ts';
import { FlowTable } from '../flow-table.ts';
import { READY_ERR, READY_HUP, READY_IN, READY_OUT } from '../readiness.ts';
import type { Stats } from '../stats.ts';
import type { Lifecycle, OutputQueue, SocketEvents, TcpClock } from './contracts.ts';
import type { Listeners } from './listeners.ts';
import type { RecvBuffers } from './recv-buffer.ts';
import type { RecoveryState } from './recovery-state.ts';
import type { RttEstimators } from './rtt.ts';
import type { SendBuffers } from './send-buffer.ts';
import { State } from './state.ts';
import type { TcbTable } from './tcb.ts';
import type { ConnTimers } from './timers.ts';

export class ConnectionLife implements Lifecycle {
  /** The 4-tuple demultiplexer: connection id by (local, remote) address and port. */
  readonly flows: FlowTable;
  constructor(
    readonly tcb: TcbTable,
    readonly timers: ConnTimers,
    readonly rtt: RttEstimators,
    readonly sendBuffers: SendBuffers,
    readonly recvBuffers: RecvBuffers,
    readonly recovery: RecoveryState,
    readonly listeners: Listeners,
    readonly clock: TcpClock,
    readonly output: OutputQueue,
    readonly events: SocketEvents,
    readonly stats: Stats,
    /** Flow-table hash key. */
    flowSeed: number,
  ) {
    this.flows = new FlowTable(tcb.capacity, flowSeed);
  }

  allocate(): number {
    const t = this.tcb.allocate();
    if (t < 0) return -1;
    this.timers.reset(t);
    this.rtt.reset(t);
    this.recovery.reset(t);
    this.sendBuffers.reset(t);
    this.recvBuffers.reset(t, this.clock.now);
    this.tcb.setRtoTsFloor(t, this.clock.tsNow());
    return t;
  }

  bind(t: number, localIp: number, localPort: number, remoteIp: number, remotePort: number): boolean {
    const tcb = this.tcb;
    if (!this.flows.insert(localIp, localPort, remoteIp, remotePort, t)) return false;
    tcb.setLocalIp(t, localIp);
    tcb.setLocalPort(t, localPort);
    tcb.setRemoteIp(t, remoteIp);
    tcb.setRemotePort(t, remotePort);
    return true;
  }

  setState(t: number, s: State): void {
    this.tcb.setState(t, s);
    // Nobody holds the socket and the peer may never send its FIN (Linux's tcp_fin_timeout).
    if (s === State.FinWait2 && this.tcb.sockid(t) < 0) this.timers.startFinWait2Timeout(t);
  }

  established(t: number): void {
    const tcb = this.tcb;
    if (tcb.listenerSockid(t) >= 0) {
      const l = this.listeners.enqueue(t);
      if (!l) this.fail(t, ECONNRESET, true); // its listener is gone
      else this.events.wake(l.sockid, READY_IN);
    } else if (tcb.sockid(t) >= 0) {
      this.events.wake(tcb.sockid(t), READY_OUT);
    }
  }

  fail(t: number, errno: number, sendRst: boolean): void {
    const tcb = this.tcb;
    if (sendRst) {
      tcb.setRstOwed(t, 1);
      this.output.schedule(t);
    }
    tcb.setError(t, errno);
    tcb.setFailed(t, 1);
    this.stats.tcpFailed++;
    if (tcb.sockid(t) >= 0) this.events.wake(tcb.sockid(t), READY_IN | READY_OUT | READY_ERR | READY_HUP);
    this.terminate(t);
  }

  terminate(t: number): void {
    this.#unlink(t);
    this.setState(t, State.Closed);
    if (this.tcb.sockid(t) < 0) this.free(t);
  }

  enterTimeWait(t: number): void {
    this.setState(t, State.TimeWait);
    if (this.timers.timeWaitMs <= 0) this.terminate(t);
    else this.timers.startTimeWait(t);
  }

  /**
   * Give the block back: no table entry, timer or buffer is left behind. A
   * block that still owes a segment waits for the output pass, which calls
   * this again once it is out.
   */
  free(t: number): void {
    const tcb = this.tcb;
    if (tcb.inUse(t) === 0) return;
    if (tcb.rstOwed(t) !== 0 || tcb.ackNow(t) !== 0) {
      this.output.schedule(t);
      return;
    }
    this.#unlink(t);
    this.sendBuffers.reset(t);
    this.recvBuffers.reset(t, this.clock.now);
    this.recovery.release(t);
    tcb.release(t);
    this.stats.tcpClosed++;
  }

  /** Out of the flow table, the timers and its listener's accounting. */
  #unlink(t: number): void {
    const tcb = this.tcb;
    // Only t's own entry: a block waiting for the output pass was unlinked already, and a new connection may hold its 4-tuple now.
    if (tcb.localPort(t) !== 0) this.flows.remove(tcb.localIp(t), tcb.localPort(t), tcb.remoteIp(t), tcb.remotePort(t), t);
    this.timers.cancelAll(t);
    this.listeners.forget(t);
  }
}
