/**
 * Before a NIC on a tenant network is plugged on a host, the host must carry the network: the controller sends
 * the network's spec there (PUT /v1/networks/:id: subnets, VXLAN peers, this host's DHCP entries); when the host
 * joins the network, the other hosts that carry it are told of their new peer by delta (peer-sync.ts).
 * Idempotent: a re-driven step sends the same spec and delta again.
 */
import type { Port } from '../../../store/index.js';
import type { TaskCtx } from '../types.js';

export async function ensureHostNetworks(t: TaskCtx<unknown>, ports: Port[], host: string): Promise<void> {
  const mine = new Set(ports.map((p) => p.id));
  const joinedNets: string[] = [];
  for (const networkId of [...new Set(ports.map((p) => p.networkId))]) {
    // the other hosts' specs change only when this host joins the network (their VXLAN peers)
    const joined = !(await t.svc.net.livePorts(networkId)).some((p) => p.hostId === host && !mine.has(p.id));
    // computed and sent under the network/host lock (server-ports.ts serial): no older view overtakes it
    const sent = await t.svc.net.serial(`${networkId}/${host}`, async () => {
      const spec = await t.svc.net.hostSpec(networkId, host, `${t.task.requestId}.net.${networkId}.${host}`);
      if (!spec) return false; // a seeded network: the host has its bridge already
      await t.svc.hosts.ensureNetwork(host, networkId, spec);
      return true;
    });
    if (sent && joined) joinedNets.push(networkId);
  }
  // all at once: a host carrying several of these networks is told of them in one call (peer-sync.ts coalesces)
  await Promise.all(joinedNets.map((n) => refreshPeers(t, n, host)));
}

/** the other hosts of a network learn that `host` joined it (their VXLAN peers: a delta, coalesced per host) */
export async function refreshPeers(t: TaskCtx<unknown>, networkId: string, host: string): Promise<void> {
  await t.svc.net.peersChanged(networkId, host, `${t.task.requestId}.net.${networkId}`);
}

/**
 * A server moved from `from` to `to` (a cold migration's transfer, a live migration's end, or their undo and
 * revert): its ports are bound to `to`, which carries their networks with their DHCP entries, and `from` keeps a
 * network only while other ports of it are bound there (else the bridge, VXLAN device and dnsmasq go); the other
 * hosts' VXLAN peers follow. A host refuses to drop a network while a guest of its own (a cold migration's stopped
 * source, until the confirm) still has a NIC on it: `leftHost` after that guest is destroyed. Idempotent.
 */
export async function moveBindings(t: TaskCtx<unknown>, from: string, to: string): Promise<void> {
  const ports = await t.svc.net.portsOf(t.task.serverId);
  if (!ports.length || from === to) return;
  await t.svc.net.bind(ports, to);
  const bound = await t.svc.net.portsOf(t.task.serverId);
  await ensureHostNetworks(t, bound, to);
  await t.svc.net.portsLeft(bound.map((p) => p.networkId), from, `${t.task.requestId}.left.${from}`);
}

/** the server's guest is gone from `host` (a confirmed cold migration's source): the networks only it used there go */
export async function leftHost(t: TaskCtx<unknown>, host: string): Promise<void> {
  const ports = await t.svc.net.portsOf(t.task.serverId);
  await t.svc.net.portsLeft(ports.map((p) => p.networkId), host, `${t.task.requestId}.left.${host}`);
}
