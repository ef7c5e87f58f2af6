/**
 * A server's NICs on this host, as every operation that brings a guest here needs them (spawn, a cold migration's
 * target, a live migration's destination) and every undo of those removes them: DHCP host entries for fixed
 * addresses, and for tenant NICs the network checked and each port's filter in place before the guest can send
 * (rules match the tap by name, so they can exist before libvirt creates the tap).
 */
import type { NicSpec } from '../../rpc/protocol/server-spec.js';
import { addDhcpEntries, dhcpEntries, removeDhcpEntries } from '../network/dhcp-hosts.js';
import type { OpExec } from './types.js';

/**
 * With `dhcpLater` the DHCP host entries are only started (each `virsh net-update` round is ~0.2-1 s, and the
 * guest needs its entry only when it renews its lease): the returned promise settles when they are in, and the
 * caller awaits it before the guest can ask (a live migration's finish). Port filters are always in place first.
 */
export async function plugNics(x: OpExec<unknown>, nics: NicSpec[] | undefined, o: { dhcpLater?: boolean } = {}): Promise<{ dhcp: Promise<void> }> {
  const dhcp = dhcpEntries(nics);
  let pending: Promise<void> = Promise.resolve();
  if (dhcp.length) {
    x.step('network', o.dhcpLater ? { dhcp: 'background' } : undefined);
    pending = addDhcpEntries(x.deps.hv, dhcp);
    if (!o.dhcpLater) await pending;
  }
  if ((nics ?? []).some((n) => n.attachment.type === 'tenant')) {
    x.step('port_filters');
    x.deps.networks.checkNics(nics);
    for (const n of nics ?? []) await x.deps.networks.applyPortFilter(n);
  }
  return { dhcp: pending };
}

/**
 * last in an undo: if it fails, the reconcile's prune removes what is left of a server without a guest. With
 * `dhcpLater` (the guest already left this host) the DHCP entries' removal is only queued: the calls on one
 * network run in the order they were made, so an entry added back later (the server returning) stays; an agent
 * that dies first leaves it to the prune.
 */
export async function unplugNics(x: OpExec<unknown>, nics: NicSpec[] | undefined, o: { dhcpLater?: boolean } = {}): Promise<void> {
  for (const n of nics ?? []) await x.deps.networks.removePortFilter(n);
  const removal = removeDhcpEntries(x.deps.hv, dhcpEntries(nics));
  if (!o.dhcpLater) return removal;
  removal.catch((err: unknown) => x.log.warn({ err }, 'removing DHCP host entries failed; the reconcile prunes them'));
}
