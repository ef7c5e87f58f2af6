/**
 * Before a NIC on a tenant network is plugged on a host, the host must carry the network: the controller sends
 * the network's spec there (PUT /v1/networks/:id: subnets, VXLAN peers, this host's DHCP entries), and refreshes it
 * on the other hosts that carry it, whose peers (and the DHCP entries, for a port that moved) may have changed.
 * Idempotent: a re-driven step sends the same specs again.
 */
import type { Port } from '../../../store/index.js';
import type { TaskCtx } from '../types.js';

export async function ensureHostNetworks(t: TaskCtx<unknown>, ports: Port[], host: string): Promise<void> {
  for (const networkId of [...new Set(ports.map((p) => p.networkId))]) {
    const spec = await t.svc.net.hostSpec(networkId, host, `${t.task.requestId}.net.${networkId}.${host}`);
    if (!spec) continue; // a seeded network: the host has its bridge already
    await t.svc.hosts.ensureNetwork(host, networkId, spec);
    await refreshPeers(t, networkId, host);
  }
}

/** the other hosts of a network get its spec again (their peers or DHCP entries changed) */
export async function refreshPeers(t: TaskCtx<unknown>, networkId: string, host: string): Promise<void> {
  for (const other of await t.svc.net.otherHosts(networkId, host)) {
    const spec = await t.svc.net.hostSpec(networkId, other, `${t.task.requestId}.net.${networkId}.${other}`);
    if (spec) await t.svc.hosts.ensureNetwork(other, networkId, spec);
  }
}
