/**
 * A server's NICs on this host, as every operation that brings a guest here needs them (spawn, a cold migration's
 * target, a live migration's destination) and every undo of those removes them: DHCP host entries for fixed
 * addresses, and for tenant NICs the network checked and each port's filter in place before the guest can send
 * (rules match the tap by name, so they can exist before libvirt creates the tap).
 */
import type { NicSpec } from '../../rpc/protocol/server-spec.js';
import { addDhcpEntries, dhcpEntries, removeDhcpEntries } from '../network/dhcp-hosts.js';
import type { OpExec } from './types.js';

export async function plugNics(x: OpExec<unknown>, nics: NicSpec[] | undefined): Promise<void> {
  const dhcp = dhcpEntries(nics);
  if (dhcp.length) {
    x.step('network');
    await addDhcpEntries(x.deps.hv, dhcp);
  }
  if ((nics ?? []).some((n) => n.attachment.type === 'tenant')) {
    x.step('port_filters');
    x.deps.networks.checkNics(nics);
    for (const n of nics ?? []) await x.deps.networks.applyPortFilter(n);
  }
}

/** last in an undo: if it fails, the reconcile's prune removes what is left of a server without a guest */
export async function unplugNics(x: OpExec<unknown>, nics: NicSpec[] | undefined): Promise<void> {
  for (const n of nics ?? []) await x.deps.networks.removePortFilter(n);
  await removeDhcpEntries(x.deps.hv, dhcpEntries(nics));
}
