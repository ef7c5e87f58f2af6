/** The agent's power-state names and Nova's numbers (nova.compute.power_state). */
import type { PowerState } from '../../rpc/protocol/common.js';
import { POWER } from '../compute/driver.js';

const TO_NOVA: Record<PowerState, number> = {
  nostate: POWER.NOSTATE, running: POWER.RUNNING, paused: POWER.PAUSED, shutdown: POWER.SHUTDOWN,
  crashed: POWER.CRASHED, suspended: POWER.SUSPENDED,
};

export function novaPower(p: unknown): number {
  return typeof p === 'string' && p in TO_NOVA ? TO_NOVA[p as PowerState] : POWER.NOSTATE;
}
