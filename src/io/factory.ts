/**
 * How the runtime opens drivers: every driver module exports a DriverFactory, and src/mtcp/drivers.ts
 * lists them by the config's `io` name. The factory hides what differs between drivers: whether a
 * port is opened once and shared by the cores (tap, dpdk, sim) or opened per core (netmap, shm), what a
 * worker thread needs to use a port the main thread opened, and when the port closes.
 */
import type { PacketDriver } from '../stack/port.ts';

/** What a driver may need from mtcp.conf (MtcpConfig has these fields: the runtime passes its config). */
export interface DriverSettings {
  /** The config file, for messages. */
  readonly file: string;
  /** Cores: one context, and one queue of the port, each. */
  readonly numCores: number;
  /** CPUs the cores may use (`core_mask`). */
  readonly coreMask: number;
  /** Memory channels per socket (`num_mem_ch`). */
  readonly numMemCh: number;
  /** Link MTU, bytes. */
  readonly mtu: number;
  /** shm ring slots per queue. */
  readonly shmSlots: number;
  /** The ports in `port` order; drivers use the first. */
  readonly ports: readonly PortSettings[];
}

/** One port of mtcp.conf (PortConfig has these fields). */
export interface PortSettings {
  /** The port's name (an interface name for tap and netmap). */
  readonly name: string;
  /** Its MAC, 48 bits: given as `<port>.mac` or derived from its address. */
  readonly mac: number;
  /** Whether `<port>.mac` was given (dpdk and netmap keep the device's own MAC otherwise). */
  readonly macGiven: boolean;
  /** `<port>.device`: what the driver opens when the port's name does not say it ('' when not given). */
  readonly device: string;
}

/**
 * A driver module's entry in the runtime's registry. `Attach` is what lets one runtime use a port
 * another opened: what a worker thread receives from the main thread's share() (structured-cloneable),
 * or what the application hands mtcp_init for this io (sim's wire, shm's wire end).
 */
export interface DriverFactory<Attach> {
  /**
   * One runtime's use of this driver. `attach`: from MtcpInitOptions[io] (another runtime's share(), or
   * the application's wire); undefined when this runtime opens the port itself. Throws for settings the
   * driver cannot use; a port that can wait opens with the first driver or share().
   */
  forRuntime(settings: DriverSettings, attach: Attach | undefined): RuntimePort<Attach>;
}

/** A runtime's port: drivers for its cores, and what other threads need to use it. */
export interface RuntimePort<Attach> {
  /** The clock that drives this port's stacks when the port keeps its own time (sim's virtual clock); else real time. */
  readonly clock: { now(): number } | null;
  /**
   * A driver on `core`'s queue for a new context. Closing it gives the queue back; the port closes with
   * its last driver unless other threads were lent it (share) or it belongs to another runtime.
   */
  driver(core: number): PacketDriver;
  /**
   * What a worker thread needs to make contexts on this port (MtcpShared[io]), lending the port to it;
   * undefined when a worker opens its own (netmap). Throws when the port cannot leave this thread (sim).
   */
  share(): Attach | undefined;
  /** The runtime is destroyed: close what it opened and no driver uses (a port opened only to lend to workers). */
  destroy(): void;
}
