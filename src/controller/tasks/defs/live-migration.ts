/**
 * Live migration (Nova's conductor LiveMigrationTask + compute manager live_migration / post_live_migration /
 * rollback_live_migration), across hosts, the guest running (or paused) all along. One migration record
 * ('live-migration'): accepted -> queued (target claimed) -> preparing -> running (progress recorded) ->
 * post-migrating -> completed; a failure: error, or cancelled after an abort.
 *
 * Steps (the host calls in the order src/agent/README.md "Live migration" gives):
 * - `schedule`: the admin's host (with `force`, Nova 2.30..2.67: no fit check) or the scheduler's, never the source;
 *   `store.claimMigration` makes the record the consumer of the source's claim and claims the flavor on the target
 *   for the server (resources held on both hosts until the end).
 * - `check_storage`: Nova's check_can_live_migrate: do the hosts share their instances dir? block_migration "auto"
 *   = not shared; false without shared storage and true with it are Nova's 400s.
 * - `prepare`: live_migrate_prepare on the target (the spec as for a spawn there).
 * - `migrate`: live_migrate on the source; while it runs the task reads the source's monitor every second and
 *   records memory / disk progress into the record. An abort (DELETE /servers/{id}/migrations/{mid}) makes it
 *   fail rolled back; force-complete makes it converge.
 * - `finish`: live_migrate_finish on the target, the source's claim (the record's) released.
 * The end moves the server to the target with the power the target reports. A failure: live_migrate_rollback on
 * the target, the target's claim given back; the server never left its source.
 *
 * Every call has its own tag, so a re-driven step (controller crash) gets the agent's operation, finished or still
 * running, instead of a second one.
 */
import { heldFlavor, serverClaimOf } from '../../../store/index.js';
import { RULES } from '../../compute/states.js';
import { POWER, novaPower, vmStateFor } from '../../compute/power.js';
import { LIVE_IN_PROGRESS } from '../../compute/migrations.js';
import { ApiError, badRequest } from '../../errors.js';
import { HostCallError, type LiveMigrationProgress } from '../../hosts/transport.js';
import type { TaskCtx, TaskDef } from '../types.js';
import { ensureHostNetworks, moveBindings } from './host-networks.js';
import type { LiveMigrationPolicy } from '../../config.js';

export interface LiveMigrateParams {
  /** the migration record's uuid, chosen by the API (created idempotently by the first step) */
  migrationId: string;
  /** the admin's target host */
  requestedHost?: string;
  /** Nova 2.30..2.67 `force`: the requested host is taken without the scheduler's checks */
  force?: boolean;
  blockMigration: boolean | 'auto';
  /** the controller's liveMigration config when the migration was asked for (the source monitor's policy) */
  policy?: LiveMigrationPolicy;
}

/** how often the task reads the source's monitor into the migration record */
export const PROGRESS_POLL_MS = 1000;

const RULE = RULES.liveMigrate;
const UNFINISHED = ['accepted', ...LIVE_IN_PROGRESS];

/** the migration was aborted before or while it ran (the record ends 'cancelled') */
class LiveMigrationAborted extends ApiError {
  constructor(id: string) { super('conflict', `Live migration of instance ${id} was aborted.`); }
}

/** aborted on request (the agent's error cause); a monitor's abort on timeout or no progress is an error */
const isAbort = (err: unknown) => err instanceof LiveMigrationAborted || (err instanceof HostCallError && err.agentCause === 'aborted');

/** moves the record to `status` unless it was cancelled meanwhile (an abort of a queued / preparing migration) */
async function advance(t: TaskCtx<LiveMigrateParams>, status: string, from: string[]): Promise<void> {
  if (await t.svc.store.updateMigration(t.params.migrationId, { status }, [status, ...from])) return;
  const m = await t.svc.store.getMigration(t.params.migrationId);
  if (m?.status === 'cancelled') throw new LiveMigrationAborted(t.task.serverId);
  throw new Error(`live migration ${t.params.migrationId} is ${m?.status ?? 'gone'}, expected ${from.join(' or ')}`);
}

/** the monitor's reading into the record (only readings of this task's migration) */
async function recordProgress(t: TaskCtx<LiveMigrateParams>, p: LiveMigrationProgress | null): Promise<void> {
  if (!p || !p.requestId.startsWith(t.task.requestId)) return;
  await t.svc.store.updateMigration(t.params.migrationId, {
    memoryTotal: p.memoryTotal, memoryProcessed: p.memoryProcessed, memoryRemaining: p.memoryRemaining,
    diskTotal: p.diskTotal, diskProcessed: p.diskProcessed, diskRemaining: p.diskRemaining,
  }, ['running', 'post-migrating']);
}

/** reads the source's monitor every PROGRESS_POLL_MS until stopped (a failed read is skipped: the next one may work) */
function pollProgress(t: TaskCtx<LiveMigrateParams>, source: string): () => Promise<void> {
  let busy: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    busy = busy.then(async () => {
      try { await recordProgress(t, await t.svc.hosts.liveMigrationProgress(source, t.task.serverId)); } catch { /* next round */ }
    });
  }, PROGRESS_POLL_MS);
  return async () => {
    clearInterval(timer);
    await busy;
    try { await recordProgress(t, await t.svc.hosts.liveMigrationProgress(source, t.task.serverId)); } catch { /* best effort */ }
  };
}

/** the source's last reading says this task's migration succeeded */
async function arrived(t: TaskCtx<LiveMigrateParams>, source: string): Promise<boolean> {
  try {
    const p = await t.svc.hosts.liveMigrationProgress(source, t.task.serverId);
    return !!p && p.requestId.startsWith(t.task.requestId) && p.phase === 'succeeded';
  } catch {
    return false;
  }
}

const vmStateOf = (power: number) => (power === POWER.PAUSED ? 'paused' : vmStateFor(power));

export const liveMigrate: TaskDef<LiveMigrateParams> = {
  kind: 'live_migrate', rule: RULE, action: RULE.instanceAction, event: RULE.event, taskState: RULE.task,
  steps: [
    {
      name: 'schedule',
      run: async (t) => {
        const s = await t.server();
        if (!s.host) throw badRequest(`Instance ${s.id} is not on any host.`);
        const source = (t.data.source as string | undefined) ?? s.host;
        const mid = t.params.migrationId;
        await t.save({ source, migrationId: mid, power: t.data.power ?? s.powerState });
        const store = t.svc.store;
        await store.createMigration({
          uuid: mid, serverId: s.id, sourceCompute: source, sourceNode: s.node ?? source, destCompute: null, destNode: null,
          destHost: null, oldFlavorId: s.flavor.id, newFlavorId: s.flavor.id, status: 'accepted', migrationType: 'live-migration',
          projectId: t.task.projectId, userId: t.task.userId,
        });
        const server = { ...s, host: source };
        let target: string;
        const requested = t.params.requestedHost;
        if (requested && t.params.force) {
          // Nova's force: the host as given, no scheduler (the claim is recorded, not checked)
          if (!(await store.claimMigration(s.id, mid, requested, serverClaimOf(s), null))) throw badRequest(`Unable to claim resources on ${requested}.`);
          target = requested;
        } else {
          target = await t.svc.placement.placeMigration(server, s.flavor, mid, { ...(requested ? { requestedHost: requested } : {}), allowSource: false });
        }
        // at once: a failure from here on must know what to give back
        await t.save({ target });
        const h = await store.getHost(target);
        await store.updateMigration(mid, { destCompute: target, destNode: target, destHost: h?.hostIp ?? null }, UNFINISHED);
        await advance(t, 'queued', ['accepted']);
      },
    },
    {
      name: 'check_storage',
      run: async (t) => {
        const source = t.data.source as string;
        const target = t.data.target as string;
        const shared = (t.data.shared as boolean | undefined) ?? await t.svc.hosts.sharedInstancePath(source, target);
        const block = t.params.blockMigration === 'auto' ? !shared : t.params.blockMigration;
        // Nova's libvirt driver (check_can_live_migrate_source): InvalidSharedStorage / InvalidLocalStorage
        if (!block && !shared) throw badRequest(`${source} is not on shared storage: Shared storage live-migration requires either shared storage or boot-from-volume with no local disks.`);
        if (block && shared) throw badRequest(`${source} is not on local storage: Block migration can not be used with shared storage.`);
        await t.save({ shared, block });
      },
    },
    {
      name: 'prepare',
      run: async (t) => {
        await advance(t, 'preparing', ['queued']);
        const s = await t.server();
        const target = t.data.target as string;
        // the server keeps its ports (and addresses): the target host is told about their networks first
        const ports = await t.svc.net.portsOf(s.id);
        await ensureHostNetworks(t, ports, target);
        const spec = await t.svc.specs.spec({ ...s, host: target }, target, await t.svc.net.nics(ports.map((p) => p.id)));
        await t.save({ prepareSent: true });
        const r = await t.call('live_migrate_prepare', {
          spec, blockMigration: t.data.block === true, sharedInstancePath: t.data.shared === true, sourceUrl: t.svc.hosts.agentUrl(s.host!),
        }, { host: target, tag: 'dest-prepare' });
        await t.save({ prepared: { destUri: r.destUri, migrateUri: r.migrateUri, paths: r.paths, sharedInstancePath: r.sharedInstancePath } });
      },
    },
    {
      name: 'migrate',
      run: async (t) => {
        await advance(t, 'running', ['preparing']);
        const source = t.data.source as string;
        const p = t.data.prepared as { destUri: string; migrateUri?: string; paths?: { instances: string; images: string }; sharedInstancePath?: boolean };
        const stop = pollProgress(t, source);
        try {
          await t.call('live_migrate', {
            ...t.params.policy, destUri: p.destUri, ...(p.migrateUri ? { migrateUri: p.migrateUri } : {}), blockMigration: t.data.block === true,
            ...(p.paths ? { destPaths: p.paths } : {}), sharedInstancePath: p.sharedInstancePath ?? t.data.shared === true,
          }, { host: source, tag: 'source' });
        } catch (err) {
          // outcome unknown (the wait gave up, not rolled back): the source's monitor knows whether the guest left
          if (!(err instanceof HostCallError) || err.rolledBack || !(await arrived(t, source))) throw err;
        } finally {
          await stop();
        }
        await t.save({ migrated: true });
      },
    },
    {
      name: 'finish',
      run: async (t) => {
        const store = t.svc.store;
        await advance(t, 'post-migrating', ['running']);
        const r = await t.call('live_migrate_finish', {}, { host: t.data.target as string, tag: 'dest-finish' });
        await t.save({ power: novaPower(r.power ?? 'running') });
        // the ports' binding is the destination's now (Nova activates it after the switch-over): its DHCP entries
        // and VXLAN peers there, the source keeps a network only while other ports use it
        await moveBindings(t, t.data.source as string, t.data.target as string);
        // the source's claim (the record's) goes; the server's own claim is already on the target
        await store.releaseClaim(t.params.migrationId);
        await store.updateMigration(t.params.migrationId, { status: 'completed' }, ['post-migrating']);
        // the volumes were not copied (shared storage): their attachments now name the destination
        await t.svc.bootVolumes?.moved(t.task.serverId, t.data.target as string);
      },
    },
  ],
  success: (t) => {
    const power = t.data.power as number;
    const target = t.data.target as string;
    return { host: target, node: target, powerState: power, vmState: vmStateOf(power) };
  },
  undo: async (t, err) => {
    const store = t.svc.store;
    const mid = t.params.migrationId;
    const target = t.data.target as string | undefined;
    const attempt = async (p: () => Promise<unknown>) => { try { await p(); } catch { /* reported by the task's fault */ } };
    // the destination forgets what prepare made (refused by the agent if the guest runs there)
    if (target && t.data.prepareSent) await attempt(() => t.call('live_migrate_rollback', {}, { host: target, tag: 'dest-rollback' }));
    // the ports stay the source's; a network prepare gave the destination only for them goes again
    const source = t.data.source as string | undefined;
    if (target && source && t.data.prepareSent && !t.data.migrated) await attempt(() => moveBindings(t, target, source));
    if (target) await store.revertMigrationClaim(t.task.serverId, mid);
    await store.updateMigration(mid, { status: isAbort(err) ? 'cancelled' : 'error' }, UNFINISHED);
  },
  finished: (t) => {
    const source = t.data.source as string | undefined;
    if (!source) return;
    void t.server().then((s) => t.svc.placement.freed(source, heldFlavor(s, s.flavor)), () => undefined);
  },
};
