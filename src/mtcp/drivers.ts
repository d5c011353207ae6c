/**
 * The drivers, by the config's `io` name. A driver is one module in src/io that implements the port
 * contract (src/stack/port.ts) and exports a DriverFactory (src/io/factory.ts); registering it is one
 * line here. The table must name exactly the io names mtcp.conf accepts (IO_NAMES in
 * src/config/mtcp-conf.ts): TypeScript refuses a name without a factory and a factory without a name.
 */
import type { IoName } from '../config/mtcp-conf.ts';
import { dpdkFactory } from '../io/dpdk.ts';
import type { DriverFactory } from '../io/factory.ts';
import { netmapFactory } from '../io/netmap.ts';
import { shmFactory } from '../io/shm.ts';
import { simFactory } from '../io/sim.ts';
import { tapFactory } from '../io/tap.ts';

export const DRIVERS = {
  sim: simFactory,
  shm: shmFactory,
  tap: tapFactory,
  dpdk: dpdkFactory,
  netmap: netmapFactory,
} as const satisfies Record<IoName, DriverFactory<unknown>>;

/** What lets a runtime use a port another opened, for a driver (its factory's Attach). */
type AttachOf<F> = F extends DriverFactory<infer A> ? A : never;

/**
 * Per io name, what lets a runtime use a port another runtime opened, or that the application made:
 * MtcpInitOptions and MtcpShared carry it under the io's name (`sim`: a SimWire; `shm`: a wire end;
 * `tap`, `dpdk`: the port the main thread opened, for worker threads; `netmap`: nothing).
 */
export type PortAttachments = { [K in IoName]?: AttachOf<(typeof DRIVERS)[K]> };
