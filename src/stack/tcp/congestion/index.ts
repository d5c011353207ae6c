import type { CongestionController } from './controller.ts';
import { CubicController } from './cubic.ts';
import { RenoController } from './reno.ts';

export type { CongestionController } from './controller.ts';

/** Congestion control algorithms by their `cc` config name. */
const FACTORIES = {
  reno: (): CongestionController => new RenoController(),
  cubic: (): CongestionController => new CubicController(),
} as const;

export type CongestionControlName = keyof typeof FACTORIES;
export const CONGESTION_CONTROL_NAMES = Object.keys(FACTORIES) as CongestionControlName[];

export function createController(name: CongestionControlName): CongestionController {
  return FACTORIES[name]();
}
