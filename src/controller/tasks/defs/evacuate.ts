/**
 * Evacuation (Nova's rebuild_instance with recreate=True): the server's host is down (or forced down), so the
 * server is rebuilt on another host. The migration record (type `evacuation`, created by the API as `accepted`) is
 * what fencing reads: when the old host's agent comes back, every guest with such a record is destroyed there
 * before the host counts as up (host-monitor/fencing.ts), and the record ends `completed`.
 *
 * `schedule`: the scheduler's host or the admin's (with `force`, no limits); the record becomes the consumer of the
 * source's claim (held until the source is fenced) and the server's claim moves to the target; `pre-migrating`.
 * `fence_storage`: the source is cut off the storage of the server's volumes before the target opens them (rbd:
 * `ceph osd blocklist add <source address>:0/0`, so the stale QEMU can no longer write and the target gets the
 * image's exclusive lock at once; file: nothing, QEMU's image locks do it). Recorded as the instance action's event
 * `compute_fence_volume_host` (once, also when re-driven: the blocklist entry is idempotent). The entry goes when
 * the source comes back and its stale guests are destroyed (host-monitor/fencing.ts).
 * `networks`: the server keeps its ports and addresses; the target is told about their networks.
 * `spawn`: on the target (tag `evacuate`): the spec with the server's attached volumes as disks given by path (their
 * data kept). The root disk is made only if the target does not have it: on shared instance storage the server's
 * own disk is used (data kept), on local storage a new one from the image (Nova: local disk data is lost).
 * A server that was stopped is stopped again (tag `evacuate-stop`). Record `done`.
 *
 * Every host call is tagged and carries the task's request id, so a re-driven step (controller crash) gets the
 * operation the agent already ran: one copy runs. A failure: the target's spawn was rolled back by its agent, the
 * claims go back to the source, the record `failed`, the server ERROR on its old host (evacuate may be retried).
 */
import { ensureHostNetworks } from './host-networks.js';
import { adminPassOf } from './admin-pass.js';
import { RULES } from '../../compute/states.js';
import { novaPower, vmStateFor } from '../../compute/power.js';
import { serverClaimOf } from '../../../store/index.js';
import { HostCallError } from '../../hosts/transport.js';
import type { TaskCtx, TaskDef } from '../types.js';

export interface EvacuateParams {
  /** the record's uuid, created `accepted` by the API */
  migrationId: string;
  /** an admin's target host */
  requestedHost?: string;
  /** with requestedHost: no scheduler limits (Nova's force, 2.29..2.67) */
  force?: boolean;
  /** what the admin said (before 2.14) about the instance files; from 2.14 the target decides */
  onSharedStorage?: boolean;
  /** 2.95+: the server ends stopped, whatever it was */
  targetStopped?: boolean;
  /** the rebuilt server's admin password (config drive); none on shared storage (the disk is kept, Nova's 400) */
  adminPass?: string;
}

/** statuses of an evacuation whose source must be fenced (Nova's _destroy_evacuated_instances filter) */
export const FENCE_STATUSES = ['accepted', 'pre-migrating', 'done'] as const;
const MOVING = ['accepted', 'pre-migrating'];

const mid = (t: TaskCtx<EvacuateParams>) => t.params.migrationId;

export const FENCE_EVENT = 'compute_fence_volume_host';

/** an extra finished event of the task's instance action (once: a re-driven step finds it there) */
async function recordEvent(t: TaskCtx<EvacuateParams>, event: string, host: string): Promise<void> {
  const store = t.svc.store;
  if ((await store.listActionEvents(t.task.actionId)).some((e) => e.event === event)) return;
  const now = new Date().toISOString();
  const e = await store.startActionEvent(t.task.actionId, event, now, host);
  await store.finishActionEvent(e.id, now, 'Success', null);
}
const target = (t: TaskCtx<EvacuateParams>) => t.data.target as string;

export const evacuate: TaskDef<EvacuateParams> = {
  kind: 'evacuate', rule: RULES.evacuate, action: RULES.evacuate.instanceAction, event: RULES.evacuate.event, taskState: RULES.evacuate.task,
  steps: [
    {
      name: 'schedule',
      run: async (t) => {
        const s = await t.server();
        const source = (t.data.source as string | undefined) ?? s.host;
        if (!source) throw new Error(`Instance ${s.id} is not on any host.`);
        await t.save({ source, wasStopped: t.data.wasStopped ?? s.vmState === 'stopped' });
        await t.svc.store.createMigration({
          uuid: mid(t), serverId: s.id, sourceCompute: source, sourceNode: s.node ?? source, destCompute: null, destNode: null,
          destHost: null, oldFlavorId: s.flavor.id, newFlavorId: s.flavor.id, status: 'accepted', migrationType: 'evacuation',
          projectId: t.task.projectId, userId: t.task.userId,
        });
        let host = t.data.target as string | undefined;
        if (!host) {
          if (t.params.requestedHost && t.params.force) {
            const claimed = await t.svc.store.claimMigration(s.id, mid(t), t.params.requestedHost, serverClaimOf(s), null);
            if (!claimed) throw new Error(`the claim on ${t.params.requestedHost} was refused`);
            host = t.params.requestedHost;
          } else {
            host = await t.svc.placement.placeMigration({ ...s, host: source }, s.flavor, mid(t), {
              ...(t.params.requestedHost ? { requestedHost: t.params.requestedHost } : {}), allowSource: false,
            });
          }
          await t.save({ target: host });
        }
        const h = await t.svc.store.getHost(host);
        await t.svc.store.updateMigration(mid(t), { destCompute: host, destNode: host, destHost: h?.hostIp ?? null, status: 'pre-migrating' }, MOVING);
      },
    },
    {
      name: 'fence_storage',
      run: async (t) => {
        if (!t.svc.volumeFencing) return;
        const source = t.data.source as string;
        const fenced = await t.svc.volumeFencing.fenceFor(t.task.serverId, source);
        if (fenced.length === 0) return;
        await recordEvent(t, FENCE_EVENT, source);
        await t.save({ storageFenced: fenced });
      },
    },
    {
      name: 'networks',
      run: async (t) => { await ensureHostNetworks(t, await t.svc.net.portsOf(t.task.serverId), target(t)); },
    },
    {
      name: 'spawn',
      run: async (t) => {
        const s = await t.server();
        const ports = await t.svc.net.portsOf(s.id);
        // the spec carries the server's volumes (its root volume too): on shared storage, they come along as they are
        const spec = await t.svc.specs.spec(s, target(t), await t.svc.net.nics(ports.map((p) => p.id)));
        const r = await t.call('spawn', { spec, ...adminPassOf(t.params) }, { host: target(t), tag: 'evacuate' });
        // the attachments now name the host that has the volumes attached (Cinder's attachment host)
        await t.svc.bootVolumes?.moved(s.id, target(t));
        let power = r.power;
        if (t.data.wasStopped === true || t.params.targetStopped) {
          try { power = (await t.call('stop', {}, { host: target(t), tag: 'evacuate-stop' })).power; } catch (err) {
            if (!(err instanceof HostCallError && err.code === 'invalid_state')) throw err;
            power = 'shutdown';
          }
        }
        await t.save({ power });
      },
    },
    {
      name: 'done',
      run: async (t) => { await t.svc.store.updateMigration(mid(t), { status: 'done' }, MOVING); },
    },
  ],
  success: (t) => {
    const power = novaPower(t.data.power ?? 'running');
    return { vmState: vmStateFor(power), powerState: power, host: target(t), node: target(t), launchedAt: new Date().toISOString() };
  },
  failure: { vmState: 'error' },
  undo: async (t) => {
    // Nova: `error` when the scheduler found no host (conductor), `failed` when the rebuild on the target failed
    await t.svc.store.updateMigration(mid(t), { status: t.data.target ? 'failed' : 'error' }, MOVING);
    if (t.data.target) await t.svc.store.revertMigrationClaim(t.task.serverId, mid(t));
  },
};

