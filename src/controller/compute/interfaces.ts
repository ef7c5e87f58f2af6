/**
 * os-interface: a server's ports as Nova shows them, attach (waited for, as Nova's API waits for the compute
 * call) and detach (answered at once) as persisted tasks (tasks/defs/interfaces.ts).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Port, Store } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { ApiError, badRequest, conflict, notFound } from '../errors.js';
import { serverFor } from './access.js';
import type { ServerActions } from './actions.js';
import type { ServerPorts } from '../network/server-ports.js';
import { TASKS } from '../tasks/registry.js';
import { dhcpServerAddress, ipVersion, parseCidr, usable } from '../network/ip-math.js';

export interface InterfaceAttachment { net_id: string; port_id: string; mac_addr: string; port_state: string; fixed_ips: Array<{ subnet_id: string; ip_address: string }>; tag?: string | null }

export const interfaceView = (p: Port): InterfaceAttachment => ({
  net_id: p.networkId, port_id: p.id, mac_addr: p.macAddress, port_state: p.hostId ? 'ACTIVE' : 'DOWN',
  fixed_ips: p.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.address })),
});

export class InterfaceService {
  constructor(private readonly store: Store, private readonly actions: ServerActions, private readonly net: ServerPorts) {}

  async list(ctx: RequestContext, serverId: string): Promise<Port[]> {
    const s = await serverFor(this.store, ctx, serverId);
    return this.net.portsOf(s.id);
  }

  async show(ctx: RequestContext, serverId: string, portId: string): Promise<Port> {
    const p = (await this.list(ctx, serverId)).find((x) => x.id === portId);
    if (!p) throw notFound(`Port ${portId} is not attached`);
    return p;
  }

  async attach(ctx: RequestContext, serverId: string, o: { portId?: string; networkId?: string; fixedIps?: string[] }): Promise<Port> {
    const s = await serverFor(this.store, ctx, serverId);
    if (o.portId && o.networkId) throw badRequest('Must not input both network_id and port_id');
    if (o.portId) {
      const p = await this.store.getPort(o.portId);
      if (!p || (!isAdmin(ctx) && p.projectId !== s.projectId)) throw notFound(`Port ${o.portId} could not be found.`);
      if (p.deviceId) throw conflict(`Port ${o.portId} is still in use.`);
    } else {
      if (!o.networkId) {
        const d = await this.net.networks.defaultNetwork();
        if (!d) throw badRequest('Unable to automatically allocate a network for project');
        o = { ...o, networkId: d.id };
      }
      const n = (await this.net.networks.networks(ctx)).find((x) => x.id === o.networkId);
      if (!n) throw notFound(`Network ${o.networkId} could not be found.`);
      const subnets = await this.store.listSubnets(n.id);
      const used = new Set((await this.store.listPorts({ networkId: n.id })).flatMap((p) => p.fixedIps.map((f) => f.address)));
      for (const ip of o.fixedIps ?? []) {
        if (!ipVersion(ip) || !subnets.some((k) => usable(parseCidr(k.cidr)!, ip))) throw badRequest(`Invalid fixed IP address (${ip})`);
        if (used.has(ip) || subnets.some((k) => dhcpServerAddress(k) === ip)) throw conflict(`Fixed IP address ${ip} is already in use on instance ${s.id}.`);
      }
    }
    const newPortId = randomUUID();
    await this.actions.perform(ctx, s.id, TASKS.attach_interface, { params: { ...o, newPortId } });
    // Nova's API waits for the compute service's answer; so does this one (for the task)
    for (let wait = 10; (await this.store.listServerTasks(s.id)).some((t) => t.kind === 'attach_interface'); wait = Math.min(wait * 2, 250)) await sleep(wait);
    const port = (await this.net.portsOf(s.id)).find((p) => p.id === (o.portId ?? newPortId));
    if (port) return port;
    const fault = (await this.store.getServer(s.id))?.fault;
    if (fault && fault.code >= 400 && fault.code < 500) throw new ApiError(fault.code === 409 ? 'conflict' : fault.code === 404 ? 'not_found' : 'bad_request', fault.message);
    throw new ApiError('bad_request', `Failed to attach network adapter device to ${s.id}`, 500);
  }

  /**
   * Nova's network-vif-deleted: a port of the server was deleted in the network API, so its NIC leaves the guest and
   * the host (a detach_interface task, recorded under the server's own user and project). A server busy with
   * another task is tried again every `retryMs` for a while; a server without a host has nothing to unplug.
   */
  async vifDeleted(p: Port, o: { retryMs?: number; tries?: number } = {}): Promise<void> {
    const s = await this.store.getServer(p.deviceId);
    if (!s || s.deleted || !s.host) return;
    const ctx: RequestContext = {
      requestId: `req-${randomUUID()}`, userId: s.userId, userName: '', projectId: s.projectId, projectName: '', domainId: 'default',
      roles: ['admin'], tokenId: '',
    };
    const tries = o.tries ?? 60;
    for (let i = 0; i < tries; i++) {
      try {
        await this.actions.perform(ctx, s.id, TASKS.detach_interface, { params: { portId: p.id, networkId: p.networkId } });
        return;
      } catch (err) {
        const now = await this.store.getServer(s.id);
        if (!(err instanceof ApiError) || !now || now.deleted || !now.host || err.status !== 409) return;
        await sleep(o.retryMs ?? 2000);
      }
    }
  }

  async detach(ctx: RequestContext, serverId: string, portId: string): Promise<void> {
    const s = await serverFor(this.store, ctx, serverId);
    if (!(await this.net.portsOf(s.id)).some((p) => p.id === portId)) throw notFound(`Port ${portId} is not attached`);
    await this.actions.perform(ctx, s.id, TASKS.detach_interface, { params: { portId } });
  }
}
