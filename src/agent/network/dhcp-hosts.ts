/**
 * Fixed addresses by DHCP: a NIC attached to a libvirt network with a given `ip` gets a DHCP host entry
 * mac -> ip in that network (live + config) before the domain starts or the NIC is hot-plugged, and loses it
 * when the NIC is detached or the server destroyed (or its spawn rolled back). The reconcile pass removes
 * entries of servers that are gone, in case the agent died between the two. Entries go through the
 * hypervisor (Hypervisor.setDhcpHost / removeDhcpHost), so unit tests run against the fake.
 */
import type { DhcpHost, Hypervisor } from '../../virt/hypervisor.js';
import type { NicSpec } from '../../rpc/protocol/server-spec.js';
import type { ServerRow } from '../journal/journal.js';
import type { AgentDeps } from '../ops/types.js';

export interface DhcpEntry {
  network: string;
  host: DhcpHost;
}

/** The DHCP host entries these NICs need (a network attachment with a fixed ip). */
export function dhcpEntries(nics: readonly NicSpec[] | undefined): DhcpEntry[] {
  const out: DhcpEntry[] = [];
  for (const n of nics ?? []) {
    if (n.ip && n.attachment.type === 'network') out.push({ network: n.attachment.network, host: { mac: n.mac.toLowerCase(), ip: n.ip } });
  }
  return out;
}

/** every entry's call is made at once (the hypervisor serialises the calls on one network in this order) */
export async function addDhcpEntries(hv: Hypervisor, entries: DhcpEntry[]): Promise<void> {
  await Promise.all(entries.map((e) => hv.setDhcpHost(e.network, e.host)));
}

export async function removeDhcpEntries(hv: Hypervisor, entries: DhcpEntry[]): Promise<void> {
  await Promise.all(entries.map((e) => hv.removeDhcpHost(e.network, e.host)));
}

const key = (e: DhcpEntry): string => `${e.network}\u0000${e.host.mac}\u0000${e.host.ip}`;

/**
 * Removes the entries of servers that are gone (deleted, or in error without a domain: a rolled-back
 * spawn) unless a live server claims the same mac -> ip. Returns what it removed. A network that cannot be
 * read (removed by the operator) is skipped.
 */
export async function pruneDhcpEntries(deps: Pick<AgentDeps, 'hv' | 'journal' | 'log'>): Promise<DhcpEntry[]> {
  const servers = deps.journal.listServers(true);
  const withEntries = servers.filter((s) => dhcpEntries(s.spec.nics).length > 0);
  if (withEntries.length === 0) return [];
  const domains = new Set((await deps.hv.listDomains()).map((d) => d.uuid.toLowerCase()));
  const gone = (s: ServerRow): boolean => !s.opId && (s.status === 'deleted' || (s.status === 'error' && !domains.has(s.uuid.toLowerCase())));
  const claimed = new Set(withEntries.filter((s) => !gone(s)).flatMap((s) => dhcpEntries(s.spec.nics)).map(key));
  const stale = new Map<string, DhcpEntry>();
  for (const s of withEntries.filter(gone)) for (const e of dhcpEntries(s.spec.nics)) if (!claimed.has(key(e))) stale.set(key(e), e);
  const removed: DhcpEntry[] = [];
  const byNetwork = new Map<string, DhcpHost[] | null>();
  for (const e of stale.values()) {
    if (!byNetwork.has(e.network)) {
      byNetwork.set(e.network, await deps.hv.listDhcpHosts(e.network).catch((err: unknown) => {
        deps.log.debug({ err, network: e.network }, 'dhcp prune: network unreadable, skipped');
        return null;
      }));
    }
    const present = byNetwork.get(e.network);
    if (!present?.some((h) => h.mac === e.host.mac && h.ip === e.host.ip)) continue;
    await deps.hv.removeDhcpHost(e.network, e.host);
    removed.push(e);
  }
  if (removed.length) deps.log.info({ removed }, 'dhcp prune: removed host entries of servers that are gone');
  return removed;
}
