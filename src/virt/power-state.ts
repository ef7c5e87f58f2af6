/**
 * libvirt domain state -> Nova power state (nova.virt.libvirt.driver LIBVIRT_POWER_STATE). Shared by the
 * libvirt implementation and the fake so that both report the same thing for the same libvirt state.
 */
import type { PowerState } from './hypervisor.js';

const BY_STATE: Record<string, PowerState> = {
  nostate: 'nostate',
  running: 'running',
  // a vCPU waiting on a resource is still a running guest
  blocked: 'running',
  paused: 'paused',
  // 'shutdown' = being shut down; Nova reports SHUTDOWN for it and for SHUTOFF alike
  shutdown: 'shutdown',
  shutoff: 'shutdown',
  crashed: 'crashed',
  pmsuspended: 'suspended',
};

export function powerStateOf(libvirtState: string): PowerState {
  return BY_STATE[libvirtState] ?? 'nostate';
}

/** Whether QEMU runs for the domain (libvirt's "active"): running, blocked, paused, shutdown, pmsuspended. */
export function isActiveState(libvirtState: string): boolean {
  return libvirtState !== 'shutoff' && libvirtState !== 'crashed' && libvirtState !== 'nostate';
}

/**
 * Power state announced by a lifecycle event (events are hints; the agent re-reads the state when it matters).
 * undefined for events that do not change power (defined, undefined, shutdown-in-progress).
 */
export function powerStateOfEvent(event: string, _detail?: string): PowerState | undefined {
  switch (event) {
    case 'started':
    case 'resumed':
      return 'running';
    case 'suspended':
      return 'paused';
    // the domain is shut off whatever stopped it (detail 'crashed'/'failed' says why): same as powerStateOf
    case 'stopped':
      return 'shutdown';
    case 'crashed':
      return 'crashed';
    case 'pmsuspended':
      return 'suspended';
    default:
      return undefined;
  }
}
