/**
 * NICs on tenant networks (issue 12) until this agent carries them: a spawn or attach that names one is refused
 * cleanly (409 invalid_state: "network not on this host"), so the controller's build fails with a clear fault
 * instead of a half-made guest. The agent side of networks.ts replaces this.
 */
import { AgentError } from '../../rpc/errors.js';
import type { NicSpec } from '../../rpc/protocol/server-spec.js';
import type { NicSpec as VirtNicSpec } from '../../virt/hypervisor.js';

export function refuseTenantNics(nics: NicSpec[] | undefined): void {
  const t = (nics ?? []).find((n) => n.attachment.type === 'tenant');
  if (t && t.attachment.type === 'tenant') throw new AgentError('invalid_state', `network ${t.attachment.network} is not on this host (tenant networks are not supported by this agent yet)`);
}

/** the NICs as libvirt plugs them (tenant NICs were refused before) */
export function virtNics(nics: NicSpec[] | undefined): VirtNicSpec[] {
  return (nics ?? []).filter((n): n is NicSpec & { attachment: VirtNicSpec['attachment'] } => n.attachment.type !== 'tenant');
}
