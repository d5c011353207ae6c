import type { CongestionControl } from './controller.ts';
import { Cubic } from './cubic.ts';
import { Reno } from './reno.ts';

export type { CongestionControl } from './controller.ts';

/** Congestion control algorithms by their `cc` config name. */
const FACTORIES = {
  reno: (connections: number): CongestionControl => new Reno(connections),
  cubic: (connections: number): CongestionControl => new Cubic(connections),
} as const;

export type CongestionControlName = keyof typeof FACTORIES;
export const CONGESTION_CONTROL_NAMES = Object.keys(FACTORIES) as CongestionControlName[];

/** The controller `name` for connection ids 0..connections-1. */
export function createCongestionControl(name: CongestionControlName, connections: number): CongestionControl {
  return FACTORIES[name](connections);
}
