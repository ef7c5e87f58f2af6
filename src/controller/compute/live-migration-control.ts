/**
 * Acting on a running live migration (Nova's live_migrate_abort / live_migrate_force_complete): the migration's
 * task (tasks/defs/live-migration.ts) holds the server; these ask the source host's monitor to abort or to force
 * completion and record their own instance action. The task then ends as it would: an abort makes live_migrate
 * fail rolled back (record 'cancelled', server still on its source), force-complete makes it converge.
 *
 * Nova's rules: the server must be in task_state 'migrating' (409; force-complete also vm_state active); abort
 * takes a 'running' migration (from 2.65 also 'queued' / 'preparing': the task sees 'cancelled' at its next step
 * and stops), anything else is a 400; an unknown migration is a 404 for abort and a 400 for force-complete.
 */
import type { Migration, Server, Store } from '../../store/index.js';
import type { RequestContext } from '../context.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { HostCallError, type HostTransport } from '../hosts/transport.js';
import { enforce } from '../policy/policy.js';
import { serverFor } from './access.js';
import { checkLock, checkState } from './gate.js';

export class LiveMigrationControl {
  constructor(private readonly store: Store, private readonly hosts: HostTransport) {}

  /** DELETE /servers/{id}/migrations/{mid} (2.24); `queuedToo` from 2.65 */
  async abort(ctx: RequestContext, serverId: string, migrationId: string, queuedToo: boolean): Promise<void> {
    const s = await this.gate(ctx, serverId, 'delete', 'abort live migration', null);
    const m = await this.migration(s, migrationId);
    if (!m) throw notFound(`Migration ${migrationId} not found for instance ${serverId}`);
    const allowed = queuedToo ? ['running', 'queued', 'preparing'] : ['running'];
    if (m.migrationType !== 'live-migration' || !allowed.includes(m.status)) throw invalidMigrationState(m, serverId, 'abort live migration');
    if (m.status !== 'running') {
      // not on a host yet: the task stops at its next step (a lost race with the step that starts it: the host abort below)
      if (await this.store.updateMigration(m.uuid, { status: 'cancelled' }, ['queued', 'preparing'])) {
        await this.record(ctx, serverId, 'live_migration_cancel');
        return;
      }
    }
    await this.onSource(m, serverId, 'abort');
    await this.record(ctx, serverId, 'live_migration_cancel');
  }

  /** POST /servers/{id}/migrations/{mid}/action {"force_complete": null} (2.22) */
  async forceComplete(ctx: RequestContext, serverId: string, migrationId: string): Promise<void> {
    const s = await this.gate(ctx, serverId, 'force_complete', 'force complete', ['active']);
    const m = await this.migration(s, migrationId);
    if (!m) throw badRequest(`Migration ${migrationId} not found for instance ${serverId}`);
    if (m.migrationType !== 'live-migration' || m.status !== 'running') throw invalidMigrationState(m, serverId, 'force complete');
    await this.onSource(m, serverId, 'force-complete');
    await this.record(ctx, serverId, 'live_migration_force_complete');
  }

  private async gate(ctx: RequestContext, serverId: string, policy: 'delete' | 'force_complete', name: string, vmStates: string[] | null): Promise<Server> {
    const s = await serverFor(this.store, ctx, serverId);
    enforce(ctx, `os_compute_api:servers:migrations:${policy}`, s.projectId);
    checkLock(ctx, s, { lock: true });
    checkState(s, { name, vmStates, taskStates: ['migrating'] });
    return s;
  }

  private async migration(s: Server, id: string): Promise<Migration | null> {
    return /^\d{1,15}$/.test(id) ? this.store.getServerMigration(s.id, Number(id)) : null;
  }

  private async onSource(m: Migration, serverId: string, action: 'abort' | 'force-complete'): Promise<void> {
    try {
      await this.hosts.liveMigrationAction(m.sourceCompute!, serverId, action);
    } catch (err) {
      // no migration runs there (it just ended), or an abort in post-copy: Nova's 409
      if (err instanceof HostCallError && err.code === 'invalid_state') throw conflict(err.message);
      if (err instanceof HostCallError) throw new Error(`${action} of live migration ${m.id} failed: ${err.message}`);
      throw err;
    }
  }

  private async record(ctx: RequestContext, serverId: string, action: string): Promise<void> {
    const t = new Date().toISOString();
    const a = await this.store.createInstanceAction({ serverId, action, requestId: ctx.requestId, userId: ctx.userId, projectId: ctx.projectId, startTime: t, message: null });
    await this.store.finishInstanceAction(a.id, t, null);
  }
}

/** Nova's InvalidMigrationState (400) */
const invalidMigrationState = (m: Migration, serverId: string, method: string) =>
  badRequest(`Migration ${m.id} state of instance ${serverId} is ${m.status}. Cannot ${method} while the migration is in this state.`);
