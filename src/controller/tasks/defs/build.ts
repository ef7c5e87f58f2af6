/**
 * Create: claim a host (in the database), allocate the server's ports (fixed IPs and MACs, one transaction) and
 * make sure the host carries their networks, spawn on the host. Each step is checkpointed, so a
 * controller that dies anywhere re-drives from that step: the claim and the addresses are found again (both are
 * idempotent per server), and the spawn goes to the same host under the same request id, which the agent dedupes.
 * A spawn the host failed and rolled back is rescheduled to another host (Nova's max_attempts, the failed hosts
 * excluded; never for an admin's requested host, and never when the outcome on the host is unknown, so that a
 * server never runs on two hosts). A failed build gives its claim back and leaves the server in ERROR with the
 * fault (Nova's "No valid host was found." is a 400 fault).
 */
import { adminPassOf } from './admin-pass.js';
import { POWER, novaPower } from '../../compute/power.js';
import { HostCallError } from '../../hosts/transport.js';
import { ApiError } from '../../errors.js';
import { GoTo } from '../engine.js';
import type { TaskDef } from '../types.js';
import type { PlacementHints } from '../../scheduler/placement.js';
import { ensureHostNetworks } from './host-networks.js';
import { attachBuiltVolumes, prepareVolumes } from './boot-volumes.js';
import type { AttachedVolume } from '../../../store/index.js';
import { heldFlavor } from '../../../store/index.js';

/** an admin's requested host, and the scheduler hints (a server group, same_host / different_host servers) */
export interface BuildParams extends PlacementHints {
  requestedHost?: string;
  /** the admin password for the config drive (admin-pass.ts) */
  adminPass?: string;
}

export const build: TaskDef<BuildParams> = {
  kind: 'create', action: 'create', event: 'compute__do_build_and_run_instance', taskState: 'scheduling',
  steps: [
    {
      name: 'schedule',
      run: async (t) => {
        const s = await t.server();
        const tried = (t.data.tried as string[] | undefined) ?? [];
        // a re-driven schedule after a reschedule has no host yet: the server's row still names the failed one
        const redriven = !t.params.requestedHost && !tried.length && !!s.host;
        const requested = t.params.requestedHost ?? (redriven ? s.host! : undefined);
        try {
          // a re-driven step keeps the host decided before (not filtered again)
          await t.save({ host: await t.svc.placement.place(s, requested, tried, redriven ? { ...t.params, forceHost: true } : t.params) });
        } catch (err) {
          // no other host for a rescheduled build: it fails with what its last host said
          const last = t.data.lastError as { code: string; message: string } | undefined;
          if (last && err instanceof ApiError && err.code === 'no_valid_host') throw new HostCallError(last.code, last.message);
          throw err;
        }
      },
    },
    {
      name: 'networks',
      run: async (t) => {
        const s = await t.server();
        const host = t.data.host as string;
        const ports = await t.svc.net.allocate(s, host);
        await t.save({ ports: ports.map((p) => p.id) });
        await ensureHostNetworks(t, ports, host);
      },
    },
    prepareVolumes,
    {
      name: 'spawn',
      run: async (t) => {
        const host = t.data.host as string;
        const s = await t.server();
        const spec = await t.svc.specs.spec(s, host, await t.svc.net.nics(t.data.ports as string[]));
        try {
          await t.save({ power: (await t.call('spawn', { spec, ...adminPassOf(t.params) })).power });
        } catch (err) {
          const tried = [...((t.data.tried as string[] | undefined) ?? []), host];
          if (!(err instanceof HostCallError && err.rolledBack) || t.params.requestedHost || tried.length >= t.svc.placement.maxAttempts) throw err;
          await t.svc.placement.unclaim(s.id, host, heldFlavor(s, s.flavor));
          await t.save({ tried, host: null, lastError: { code: err.code, message: err.message } });
          throw new GoTo('schedule');
        }
      },
    },
    attachBuiltVolumes,
  ],
  success: async (t) => ({
    ...(t.data.volumesAttached ? { volumesAttached: t.data.volumesAttached as AttachedVolume[] } : {}),
    vmState: 'active', powerState: novaPower(t.data.power), host: t.data.host as string, node: t.data.host as string,
    addresses: await t.svc.net.addresses((await t.svc.net.portsOf(t.task.serverId)).filter((p) => (t.data.ports as string[]).includes(p.id))
      .sort((a, b) => (t.data.ports as string[]).indexOf(a.id) - (t.data.ports as string[]).indexOf(b.id))),
    launchedAt: new Date().toISOString(), progress: 100,
  }),
  failure: { vmState: 'error', powerState: POWER.NOSTATE },
  // Nova deallocates a failed build's network: ports it made are deleted, ports passed in unbound
  undo: async (t) => {
    await t.svc.net.release(t.task.serverId);
    await t.svc.volumes?.releaseServer(t.task.serverId);
  },
  releasesClaimOnFailure: true,
};
