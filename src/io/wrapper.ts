/**
 * The base of driver wrappers (impair.ts, capture.ts): everything passes
 * through to the wrapped driver, its capabilities too; a wrapper overrides
 * what it changes, and declares what stops being true through it.
 */
import type { DriverStats, FrameBatch, PacketDriver, PortCapabilities } from '../stack/port.ts';

export abstract class DriverWrapper implements PacketDriver {
  readonly name: string;

  constructor(readonly inner: PacketDriver, suffix: string) {
    this.name = `${inner.name}+${suffix}`;
  }

  get mac(): number {
    return this.inner.mac;
  }

  get capabilities(): PortCapabilities {
    return this.inner.capabilities;
  }

  get stats(): DriverStats {
    return this.inner.stats;
  }

  rxBurst(queue: number, out: FrameBatch, max: number): number {
    return this.inner.rxBurst(queue, out, max);
  }

  rxRelease(queue: number, batch: FrameBatch): void {
    this.inner.rxRelease(queue, batch);
  }

  txAlloc(queue: number, out: FrameBatch, max: number): number {
    return this.inner.txAlloc(queue, out, max);
  }

  txBurst(queue: number, batch: FrameBatch, count: number): void {
    this.inner.txBurst(queue, batch, count);
  }

  waitRx(queue: number, timeoutMs: number): Promise<void> {
    return this.inner.waitRx(queue, timeoutMs);
  }

  wakeRx(queue: number): void {
    this.inner.wakeRx(queue);
  }

  stopTxChecksumOffload(): void {
    this.inner.stopTxChecksumOffload();
  }

  close(): void {
    this.inner.close();
  }
}

/**
 * One context's use of a port that several contexts of one thread share, each
 * on its own queue (a multi-queue sim port): closing it gives the port back,
 * and the last one to close closes the port.
 */
export class PortShare extends DriverWrapper {
  #closed = false;

  constructor(inner: PacketDriver, readonly release: () => void) {
    super(inner, 'share');
  }

  override close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.release();
  }
}
