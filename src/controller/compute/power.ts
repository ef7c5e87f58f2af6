/** Power states as Nova numbers them (nova.compute.power_state), and the agent's names for them. */
import type { PowerState } from '../../rpc/protocol/common.js';

export const POWER = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;

const TO_NOVA: Record<PowerState, number> = {
  nostate: POWER.NOSTATE, running: POWER.RUNNING, paused: POWER.PAUSED, shutdown: POWER.SHUTDOWN,
  crashed: POWER.CRASHED, suspended: POWER.SUSPENDED,
};

export function novaPower(p: unknown): number {
  return typeof p === 'string' && p in TO_NOVA ? TO_NOVA[p as PowerState] : POWER.NOSTATE;
}

/** the vm_state a settled server has at this power (stopped when off, else active) */
export const vmStateFor = (power: number) => (power === POWER.SHUTDOWN ? 'stopped' : 'active');
