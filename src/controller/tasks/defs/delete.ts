/**
 * Delete (hard): first every other task of the server is cancelled and waited for — a build that has not reached
 * its host yet then never will, and one that has is destroyed after it — then the guest is destroyed on its host,
 * and the end marks the server deleted and gives back its claim and addresses in one transaction.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HostCallError } from '../../hosts/transport.js';
import type { StepDef, TaskDef } from '../types.js';

/**
 * every other task of the server is cancelled and waited for (its row goes when it stops); a live migration that
 * runs is aborted on its source first, or its task would only stop once the whole memory had been copied
 */
export const cancelOthers: StepDef<unknown> = {
  name: 'cancel_others',
  run: async (t) => {
    const store = t.svc.store;
    await store.cancelOtherTasks(t.task.serverId, t.task.id);
    const [live] = await store.listMigrations({ serverId: t.task.serverId, migrationType: 'live-migration', statuses: ['running'], limit: 1 });
    if (live?.sourceCompute) {
      // refused in post-copy (the guest already runs on the destination) or when it just ended: the wait covers both
      await t.svc.hosts.liveMigrationAction(live.sourceCompute, t.task.serverId, 'abort').catch(() => undefined);
    }
    // a cancelled task stops at its next host call, or finishes the one it is in; either way its row goes
    for (let wait = 5; (await store.listServerTasks(t.task.serverId)).some((o) => o.id !== t.task.id); wait = Math.min(wait * 2, 200)) await sleep(wait);
  },
};

export const hardDelete: TaskDef = {
  kind: 'delete', action: 'delete', event: 'compute_terminate_instance', taskState: 'deleting',
  steps: [
    cancelOthers,
    {
      name: 'destroy',
      run: async (t) => {
        const s = await t.server();
        // a shelved server's snapshot goes with it (Nova's _delete of a SHELVED / SHELVED_OFFLOADED instance)
        if (s.shelvedImageId) await t.svc.images.remove(s.shelvedImageId);
        const host = s.host ?? (await t.svc.store.getAllocation(s.id))?.host;
        if (!host) return; // never placed: nothing on any host
        await t.save({ host, flavor: s.flavor });
        try {
          await t.call('destroy', {}, { host });
        } catch (err) {
          // the agent never heard of it (a build that failed before reaching the host): nothing to destroy
          if (!(err instanceof HostCallError && err.code === 'unknown_server')) throw err;
        }
      },
    },
    {
      // a live migration the delete cut short: its task stopped without rolling back (its host calls are refused
      // once cancelled), so the destination may hold the prepared definition and files, or the guest itself when
      // the migration completed before the task could finish it
      name: 'live_migration_target',
      run: async (t) => {
        const [m] = await t.svc.store.listMigrations({ serverId: t.task.serverId, migrationType: 'live-migration', limit: 1 });
        const dest = m?.destCompute;
        if (!m || !dest || m.status === 'completed' || dest === t.data.host) return;
        try {
          await t.call('destroy', {}, { host: dest, tag: 'live-migration-target' });
        } catch (err) {
          // never prepared there, or already cleaned: nothing to do; an unreachable host is reaped on its return
          if (!(err instanceof HostCallError)) throw err;
        }
      },
    },
    {
      // a resize or cold migration awaiting confirm: the other host still has a stopped copy and the migration's
      // claim (Nova confirms the resize when such a server is deleted)
      name: 'migration_source',
      run: async (t) => {
        const store = t.svc.store;
        const [m] = await store.listMigrations({ serverId: t.task.serverId, statuses: ['finished', 'confirming', 'reverting'], limit: 1 });
        if (!m?.sourceCompute || !m.destCompute || m.sourceCompute === m.destCompute) return;
        const other = t.data.host === m.sourceCompute ? m.destCompute : m.sourceCompute;
        try {
          await t.call('destroy', {}, { host: other, tag: 'migration' });
        } catch (err) {
          // that host unreachable: the delete goes on; the heartbeat reaps the guest of the deleted server once
          // the host is back (agents/orphans.ts)
          if (!(err instanceof HostCallError)) throw err;
        }
        await store.releaseClaim(m.uuid);
        await store.updateMigration(m.uuid, { status: 'confirmed' }, ['finished', 'confirming', 'reverting']);
      },
    },
    {
      // the guest is gone: its host drops the server's DHCP entries (and the networks nothing else there uses);
      // the ports themselves go with the server in the delete's last transaction
      name: 'networks',
      run: async (t) => {
        const host = t.data.host as string | undefined;
        if (!host) return;
        const ports = await t.svc.net.portsOf(t.task.serverId);
        await t.svc.net.portsLeft(ports.map((p) => p.networkId), host, t.task.requestId, { withoutDevice: t.task.serverId });
      },
    },
    {
      // the guest is gone: its volumes are free again (or deleted, as their attachments asked)
      name: 'volumes',
      run: async (t) => { await t.svc.volumes?.releaseServer(t.task.serverId); },
    },
  ],
  success: () => ({ taskState: 'deleting', volumesAttached: [] }),
  deletesServer: true,
  finished: (t) => { if (t.data.host) t.svc.placement.freed(t.data.host as string, t.data.flavor as never); },
};
