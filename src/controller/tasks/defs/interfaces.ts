/**
 * Interface attach and detach (os-interface): one port more or less on a running server. Attach binds the port
 * passed in, or makes one on the network asked for (the id chosen by the API, so a re-driven step finds it), makes
 * sure the host carries its network, then plugs the NIC; a failure gives the port back (deleted when made here,
 * unbound when passed in). Detach unplugs the NIC, then deletes or unbinds the port. Both raise the server's
 * revision (its addresses change with the ports).
 */
import type { ActionRule } from '../../compute/states.js';
import { HostCallError } from '../../hosts/transport.js';
import type { Port } from '../../../store/index.js';
import type { TaskCtx, TaskDef } from '../types.js';
import { ensureHostNetworks } from './host-networks.js';

/** Nova: attach/detach interface is allowed when active, paused or stopped (refused while locked) */
export const ATTACH_RULE: ActionRule = {
  name: 'attach_interface', instanceAction: 'attach_interface', vmStates: ['active', 'paused', 'stopped'], taskStates: [null], lock: true,
  task: 'interface_attaching', event: 'compute_attach_interface',
};
export const DETACH_RULE: ActionRule = { ...ATTACH_RULE, name: 'detach_interface', instanceAction: 'detach_interface', task: 'interface_detaching', event: 'compute_detach_interface' };

export interface AttachParams { portId?: string; networkId?: string; fixedIps?: string[]; newPortId: string; }

/** the server's addresses from its ports, keeping the order the NICs were plugged in */
async function addressesOf(t: TaskCtx<unknown>): Promise<Awaited<ReturnType<TaskCtx['svc']['net']['addresses']>>> {
  const s = await t.server();
  const order = s.addresses.map((a) => a.mac);
  const rank = (p: Port) => { const i = order.indexOf(p.macAddress); return i < 0 ? Number.MAX_SAFE_INTEGER : i; };
  const ports = (await t.svc.net.portsOf(s.id)).sort((a, b) => rank(a) - rank(b) || a.createdAt.localeCompare(b.createdAt));
  return t.svc.net.addresses(ports);
}

export const attachInterface: TaskDef<AttachParams> = {
  kind: 'attach_interface', action: 'attach_interface', event: 'compute_attach_interface', taskState: ATTACH_RULE.task, rule: ATTACH_RULE,
  steps: [
    {
      name: 'port',
      run: async (t) => {
        const s = await t.server();
        if (!s.host) throw new HostCallError('invalid_state', `Instance ${s.id} has no host`);
        const port = await t.svc.net.attach(s, s.host, t.params, t.params.newPortId);
        await t.save({ portId: port.id });
        await ensureHostNetworks(t, [port], s.host);
      },
    },
    {
      name: 'attach_nic',
      run: async (t) => {
        const [nic] = await t.svc.net.nics([t.data.portId as string]);
        if (!nic) throw new HostCallError('not_found', `Port ${String(t.data.portId)} could not be found.`);
        await t.call('attach_nic', { nic });
      },
    },
  ],
  success: async (t) => ({ addresses: await addressesOf(t) }),
  undo: async (t) => { if (t.data.portId) await t.svc.net.detach(t.data.portId as string); },
};

export const detachInterface: TaskDef<{ portId: string; networkId?: string }> = {
  kind: 'detach_interface', action: 'detach_interface', event: 'compute_detach_interface', taskState: DETACH_RULE.task, rule: DETACH_RULE,
  steps: [
    {
      name: 'detach_nic',
      run: async (t) => {
        try {
          await t.call('detach_nic', { portId: t.params.portId });
        } catch (err) {
          // already gone from the guest (a re-driven step, or never plugged): the port is released all the same
          if (!(err instanceof HostCallError && (err.code === 'invalid_state' || err.code === 'unknown_server'))) throw err;
        }
      },
    },
    {
      name: 'release',
      run: async (t) => {
        const s = await t.server();
        const port = (await t.svc.net.portsOf(s.id)).find((p) => p.id === t.params.portId);
        // deleted in the network API already (network-vif-deleted): the host forgets it all the same
        if (!port) { if (t.params.networkId && s.host) await t.svc.net.portsLeft([t.params.networkId], s.host, t.task.requestId); return; }
        await t.svc.net.detach(port.id);
        // the host's DHCP entry for the port goes (the network too when it was the last); the other hosts' peers follow
        if (s.host) await t.svc.net.portsLeft([port.networkId], s.host, t.task.requestId);
      },
    },
  ],
  success: async (t) => ({ addresses: await addressesOf(t) }),
};
