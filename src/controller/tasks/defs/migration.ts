/**
 * Resize and cold migration (Nova's prep_resize / resize_instance / finish_resize, confirm_resize, revert_resize),
 * across hosts or, when allowed (allowResizeToSameHost), on the server's own host. Every run writes a migration
 * record (os-migrations).
 *
 * Across hosts: `schedule` claims the target while the migration record keeps the source's claim (resources held
 * on both hosts until confirm or revert) -> `stop_source` -> `transfer` (the target's agent pulls the instance
 * files from the source's, defines with the new flavor and starts if the server ran) -> VERIFY_RESIZE on the
 * target, migration "finished". The source keeps its stopped guest and its files: confirm destroys them there and
 * drops the source's claim ("confirmed"); revert destroys the target's copy, gives the claims back and starts the
 * untouched source guest with its old flavor and disk ("reverted").
 *
 * Every host call carries a tag (source / target), so a step re-driven after a controller crash gets the agent's
 * recorded operation instead of a second one. A failure before VERIFY_RESIZE puts the server back on its source.
 */
import { leftHost, moveBindings } from './host-networks.js';
import { claimOf, heldFlavor, type FlavorSnapshot, type Migration, type MigrationType } from '../../../store/index.js';
import { RULES } from '../../compute/states.js';
import { POWER, novaPower, vmStateFor } from '../../compute/power.js';
import { HostCallError } from '../../hosts/transport.js';
import type { StepDef, TaskCtx, TaskDef } from '../types.js';

export interface MigrateParams {
  /** the flavor after the move (a cold migration keeps the server's) */
  flavor: FlavorSnapshot;
  /** the migration record's uuid, chosen by the API (the record is created idempotently by the first step) */
  migrationId?: string;
  migrationType?: Extract<MigrationType, 'resize' | 'migration'>;
  /** an admin's target (migrate from 2.56) */
  requestedHost?: string;
  /** the source host may be the target (resize with allowResizeToSameHost); absent: a task from before (same host) */
  allowSameHost?: boolean;
}

/** the statuses of a cold migration on its way to VERIFY_RESIZE */
const MOVING = ['pre-migrating', 'migrating', 'post-migrating'];

const isCode = (err: unknown, ...codes: string[]) => err instanceof HostCallError && codes.includes(err.code);

/** a host call whose work may already be done (a stop of a stopped guest, a destroy of a gone one) */
async function tolerate(p: Promise<Record<string, unknown>>, ...codes: string[]): Promise<Record<string, unknown> | null> {
  try { return await p; } catch (err) { if (isCode(err, ...codes)) return null; throw err; }
}

const crossHost = (t: TaskCtx<unknown>) => t.data.sameHost === false;

/**
 * the record's uuid: the API's, or for a resize task persisted before migration records existed (a controller
 * upgraded mid-resize: params {flavor} only, always on its own host) the task's id
 */
const mid = (t: TaskCtx<MigrateParams>) => t.params.migrationId ?? t.task.id;

function moveSteps(): StepDef<MigrateParams>[] {
  return [
    {
      name: 'schedule',
      run: async (t) => {
        const s = await t.server();
        if (!s.host) throw new Error(`Instance ${s.id} is not on any host.`);
        const source = (t.data.source as string | undefined) ?? s.host;
        await t.save({ oldFlavor: t.data.oldFlavor ?? s.flavor, source, wasRunning: t.data.wasRunning ?? s.powerState === POWER.RUNNING, migrationId: mid(t) });
        await t.svc.store.createMigration({
          uuid: mid(t), serverId: s.id, sourceCompute: source, sourceNode: s.node ?? source, destCompute: null,
          destNode: null, destHost: null, oldFlavorId: s.flavor.id, newFlavorId: t.params.flavor.id, status: 'pre-migrating',
          migrationType: t.params.migrationType ?? 'resize', projectId: t.task.projectId, userId: t.task.userId,
        });
        const target = await t.svc.placement.placeMigration({ ...s, host: source }, t.params.flavor, mid(t), {
          ...(t.params.requestedHost ? { requestedHost: t.params.requestedHost } : {}), allowSource: t.params.allowSameHost ?? true,
        });
        // at once: a failure from here on must know what to give back
        await t.save({ target, sameHost: target === source });
        const h = await t.svc.store.getHost(target);
        await t.svc.store.updateMigration(mid(t), { destCompute: target, destNode: target, destHost: h?.hostIp ?? null, status: 'migrating' }, MOVING);
      },
    },
    {
      name: 'stop_source',
      run: async (t) => {
        if (!crossHost(t)) return;
        await tolerate(t.call('stop', {}, { host: t.data.source as string, tag: 'source' }), 'invalid_state');
      },
    },
    {
      name: 'transfer',
      run: async (t) => {
        if (!crossHost(t)) return;
        const s = await t.server();
        const target = t.data.target as string;
        // the server keeps its ports (and addresses), bound to the target before its guest is defined there (Nova's
        // migrate_instance_finish): the target carries their networks and DHCP entries, the source keeps what others use
        await moveBindings(t, t.data.source as string, target);
        const ports = await t.svc.net.portsOf(s.id);
        const spec = await t.svc.specs.spec({ ...s, flavor: t.params.flavor }, target, await t.svc.net.nics(ports.map((p) => p.id)));
        await t.svc.store.updateMigration(mid(t), { status: 'post-migrating' }, MOVING);
        const r = await t.call('migrate_receive', { spec, sourceUrl: t.svc.hosts.agentUrl(t.data.source as string), start: t.data.wasRunning === true }, { host: target, tag: 'target' });
        await t.save({ power: r.power });
      },
    },
    {
      name: 'resize_local',
      run: async (t) => {
        if (crossHost(t)) return;
        const f = t.params.flavor;
        await t.save({ power: (await t.call('resize', { vcpus: f.vcpus, memoryMiB: f.ram, rootGiB: f.disk }, { host: t.data.source as string })).power });
      },
    },
    {
      name: 'finish',
      run: async (t) => {
        await t.svc.store.updateMigration(mid(t), { status: 'finished' }, MOVING);
        // the volumes stayed on shared storage: only their attachments' host changes
        if (crossHost(t)) await t.svc.bootVolumes?.moved(t.task.serverId, t.data.target as string);
      },
    },
  ];
}

/** a failed move: the target's copy and claim go, the source's guest runs again as before */
async function undoMove(t: TaskCtx<MigrateParams>): Promise<void> {
  const store = t.svc.store;
  await store.updateMigration(mid(t), { status: 'error' }, MOVING);
  const source = t.data.source as string | undefined;
  const target = t.data.target as string | undefined;
  // on its own host, or nothing placed yet (a same-host grow is given back; otherwise this changes nothing)
  if (t.data.sameHost !== false) {
    const old = t.data.oldFlavor as FlavorSnapshot | undefined;
    if (old) await store.resizeClaim(t.task.serverId, claimOf(heldFlavor(await t.server(), old)), null);
    return;
  }
  // host calls are best effort (a delete may have cancelled the task: it destroys what is left)
  const attempt = async (p: () => Promise<unknown>) => { try { await p(); } catch { /* reported by the task's fault */ } };
  if (target) await attempt(() => t.call('destroy', {}, { host: target, tag: 'target-undo' }));
  // the ports are the source's again (and the target keeps no network only they needed)
  if (source && target) await attempt(() => moveBindings(t, target, source));
  await store.revertMigrationClaim(t.task.serverId, mid(t));
  if (source && t.data.wasRunning === true) {
    await attempt(async () => {
      const r = await tolerate(t.call('start', {}, { host: source, tag: 'source-undo' }), 'invalid_state');
      await store.updateServerIf(t.task.serverId, { taskState: [t.task.kind === 'migrate' ? RULES.migrate.task : RULES.resize.task] }, { powerState: novaPower(r?.power ?? 'running') });
    });
  }
}

function moveTask(kind: 'resize' | 'migrate'): TaskDef<MigrateParams> {
  const rule = kind === 'resize' ? RULES.resize : RULES.migrate;
  return {
    kind, rule, action: rule.instanceAction, event: rule.event, taskState: rule.task,
    steps: moveSteps(),
    success: (t) => ({
      vmState: 'resized', flavor: t.params.flavor, oldFlavor: t.data.oldFlavor as FlavorSnapshot, powerState: novaPower(t.data.power),
      host: t.data.target as string, node: t.data.target as string,
    }),
    undo: undoMove,
  };
}

export const resize = moveTask('resize');
export const migrate = moveTask('migrate');

/** the server's resize or cold migration awaiting confirm or revert (or being confirmed / reverted) */
export async function pendingMigration(t: TaskCtx<unknown>, statuses: string[]): Promise<Migration | null> {
  const id = t.data.migrationId as string | undefined;
  if (id) return t.svc.store.getMigration(id);
  const [m] = await t.svc.store.listMigrations({ serverId: t.task.serverId, statuses, limit: 1 });
  if (m && (m.migrationType === 'resize' || m.migrationType === 'migration')) {
    await t.save({ migrationId: m.uuid });
    return m;
  }
  return null;
}

const acrossHosts = (m: Migration | null): m is Migration => !!m && !!m.destCompute && m.sourceCompute !== m.destCompute;

export const confirmResize: TaskDef = {
  kind: 'confirm_resize', rule: RULES.confirmResize, action: RULES.confirmResize.instanceAction, event: RULES.confirmResize.event,
  taskState: RULES.confirmResize.task,
  steps: [
    {
      name: 'resize_confirm',
      run: async (t) => {
        const m = await pendingMigration(t, ['finished', 'confirming']);
        if (m) await t.svc.store.updateMigration(m.uuid, { status: 'confirming' }, ['finished']);
        if (!acrossHosts(m)) { await t.call('resize_confirm', {}); return; }
        // the source's guest and files go; the target runs the server
        const s = await t.server();
        await tolerate(t.call('destroy', {}, { host: m.sourceCompute!, tag: 'source' }), 'unknown_server');
        await leftHost(t, m.sourceCompute!);
        await t.svc.store.releaseClaim(m.uuid);
        await t.save({ freed: { host: m.sourceCompute, flavor: s.oldFlavor ?? s.flavor } });
      },
    },
    {
      name: 'confirmed',
      run: async (t) => {
        const id = t.data.migrationId as string | undefined;
        if (id) await t.svc.store.updateMigration(id, { status: 'confirmed' }, ['confirming']);
      },
    },
  ],
  success: async (t) => ({ vmState: vmStateFor((await t.server()).powerState), oldFlavor: null }),
  failure: { vmState: 'error' },
  undo: async (t) => {
    const id = t.data.migrationId as string | undefined;
    if (id) await t.svc.store.updateMigration(id, { status: 'error' }, ['confirming']);
  },
  finished: freed,
};

/** the scheduler's view counts the room a confirm or revert gave back at once */
function freed(t: TaskCtx<unknown>): void {
  const f = t.data.freed as { host: string; flavor: FlavorSnapshot } | undefined;
  if (f) t.svc.placement.freed(f.host, f.flavor);
}

export const revertResize: TaskDef = {
  kind: 'revert_resize', rule: RULES.revertResize, action: RULES.revertResize.instanceAction, event: RULES.revertResize.event,
  taskState: RULES.revertResize.task,
  steps: [
    {
      name: 'resize_revert',
      run: async (t) => {
        const s = await t.server();
        const m = await pendingMigration(t, ['finished', 'reverting']);
        if (m) await t.svc.store.updateMigration(m.uuid, { status: 'reverting' }, ['finished']);
        if (!acrossHosts(m)) {
          await t.save({ power: (await t.call('resize_revert', {})).power });
          if (s.oldFlavor) await t.svc.store.resizeClaim(s.id, claimOf(heldFlavor(s, s.oldFlavor)), null);
          return;
        }
        await t.save({ source: m.sourceCompute, wasRunning: t.data.wasRunning ?? s.powerState === POWER.RUNNING });
        await tolerate(t.call('destroy', {}, { host: m.destCompute!, tag: 'target' }), 'unknown_server');
        await moveBindings(t, m.destCompute!, m.sourceCompute!);
        await t.svc.store.revertMigrationClaim(s.id, m.uuid);
        // the server is the source's again at once: a revert failing after this leaves it there (in ERROR)
        await t.svc.store.updateServerIf(s.id, { taskState: RULES.revertResize.task }, { host: m.sourceCompute!, node: m.sourceCompute! });
        await t.save({ freed: { host: m.destCompute, flavor: s.flavor } });
      },
    },
    {
      name: 'start_source',
      run: async (t) => {
        const source = t.data.source as string | undefined;
        if (!source) return;
        if (t.data.wasRunning !== true) { await t.save({ power: 'shutdown' }); return; }
        const r = await tolerate(t.call('start', {}, { host: source, tag: 'source' }), 'invalid_state');
        await t.save({ power: r?.power ?? 'running' });
      },
    },
    {
      name: 'reverted',
      run: async (t) => {
        const id = t.data.migrationId as string | undefined;
        if (id) await t.svc.store.updateMigration(id, { status: 'reverted' }, ['reverting']);
        const source = t.data.source as string | undefined;
        if (source) await t.svc.bootVolumes?.moved(t.task.serverId, source);
      },
    },
  ],
  success: async (t) => {
    const s = await t.server();
    const power = novaPower(t.data.power);
    const source = t.data.source as string | undefined;
    return {
      vmState: vmStateFor(power), flavor: s.oldFlavor ?? s.flavor, oldFlavor: null, powerState: power,
      ...(source ? { host: source, node: source } : {}),
    };
  },
  failure: { vmState: 'error' },
  undo: async (t) => {
    const id = t.data.migrationId as string | undefined;
    if (id) await t.svc.store.updateMigration(id, { status: 'error' }, ['reverting']);
  },
  finished: freed,
};
