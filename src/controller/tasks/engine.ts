/**
 * The task engine: starts persisted tasks, drives their steps, and takes over tasks whose owner died.
 *
 * - begin(): the server write (insert or compare-and-swap), the instance action, its event and the task row are
 *   one transaction, owned by this controller with a lease.
 * - drive(): before each step its index is checkpointed (conditional on still owning the task), then the step
 *   runs; the end (server CAS, claim, event, action, task row deleted) is one transaction again.
 * - Leases: every `leaseMs / 3` this controller renews the leases of all its tasks in one UPDATE. Every
 *   `leaseMs / 2` (and at start) it looks for tasks whose lease ran out, or that it held itself before a restart
 *   (its id is stable across restarts), takes each over with one conditional UPDATE and re-drives it from its
 *   recorded step with the same request id. A live controller's task is never taken: its lease is fresh.
 */
import { randomUUID } from 'node:crypto';
import type { BeginTask, TaskRow } from '../../store/index.js';
import type { OperationKind, ParamsOf } from '../../rpc/protocol/operations.js';
import { instanceNotFound } from '../errors.js';
import { faultDetail, faultOf } from './faults.js';
import type { AnyTaskDef, TaskCtx, TaskServices } from './types.js';

export interface TaskLogger { error(obj: object, msg: string): void; info?(obj: object, msg: string): void }

export interface EngineOptions {
  /** this controller's id: stable across its restarts, distinct between controllers sharing a database */
  owner: string;
  leaseMs: number;
  log?: TaskLogger;
  /**
   * Fault injection for crash tests (NOVALET_FAILPOINTS="create.networks:before,create.spawn:after"): the drive
   * of a task hangs right before (after the checkpoint) or right after the named step, so that a test can kill
   * the process at exactly that point. Empty in production.
   */
  failpoints?: ReadonlyMap<string, 'before' | 'after'>;
  /**
   * Observer of every drive that ended (metrics): the task's kind, whether it succeeded, and how long this
   * controller drove it (a task taken over counts from the takeover). Not called for a drive that lost its task.
   */
  onFinished?: (kind: string, result: 'success' | 'error', ms: number) => void;
}

/** parses NOVALET_FAILPOINTS: comma-separated `<task kind>.<step name>:before|after` */
export function parseFailpoints(spec: string | undefined): Map<string, 'before' | 'after'> {
  const out = new Map<string, 'before' | 'after'>();
  for (const item of (spec ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const [name, when] = item.split(':');
    if (!name || (when !== 'before' && when !== 'after')) throw new Error(`NOVALET_FAILPOINTS: expected <kind>.<step>:before|after, got ${item}`);
    out.set(name, when);
  }
  return out;
}

export interface BeginOptions {
  def: AnyTaskDef;
  serverId: string;
  requestId: string;
  userId: string;
  projectId: string;
  params?: Record<string, unknown>;
  /** BeginTask's server write: insert, or CAS with expect/changes */
  newServer?: BeginTask['newServer'];
  expect?: BeginTask['expect'];
  changes?: BeginTask['changes'];
  message?: string | null;
  actionId?: number;
  eventHost?: string | null;
}

/** thrown inside a drive when this controller no longer owns the task: stop without writing anything */
class LostTask extends Error {}
/** thrown by a step to continue at another step of its task (a build retried on another host) */
export class GoTo extends Error {
  constructor(readonly step: string) { super(`go to step ${step}`); }
}

/** thrown by a host call of a task that a delete cancelled */
export class TaskCancelled extends Error {}

export class TaskEngine {
  private readonly running = new Map<string, Promise<void>>();
  private renewTimer: NodeJS.Timeout | null = null;
  private adoptTimer: NodeJS.Timeout | null = null;
  private adopting: Promise<number> | null = null;
  private closed = false;

  constructor(
    private readonly registry: Readonly<Record<string, AnyTaskDef>>,
    private readonly svc: TaskServices,
    readonly opts: EngineOptions,
  ) {}

  get owner(): string { return this.opts.owner; }

  /** creates the task (one transaction) and drives it in the background; null when the server CAS lost */
  async begin(o: BeginOptions): Promise<TaskRow | null> {
    const row = await this.svc.store.beginTask({
      ...(o.newServer ? { newServer: o.newServer } : {}),
      serverId: o.serverId,
      ...(o.expect ? { expect: o.expect } : {}),
      ...(o.changes ? { changes: o.changes } : {}),
      action: { action: o.def.action, requestId: o.requestId, userId: o.userId, projectId: o.projectId, message: o.message ?? null },
      ...(o.actionId !== undefined ? { actionId: o.actionId } : {}),
      event: o.def.event, eventHost: o.eventHost ?? null,
      task: { id: randomUUID(), kind: o.def.kind, params: o.params ?? {}, owner: this.owner, leaseUntil: Date.now() + this.opts.leaseMs },
    });
    if (row) this.launch(row);
    return row;
  }

  /** starts lease renewal and the periodic takeover of orphaned tasks */
  start(): void {
    if (this.renewTimer || this.closed) return;
    this.renewTimer = setInterval(() => { void this.renew(); }, Math.max(50, Math.floor(this.opts.leaseMs / 3)));
    this.adoptTimer = setInterval(() => { void this.adopt(); }, Math.max(50, Math.floor(this.opts.leaseMs / 2)));
    this.renewTimer.unref();
    this.adoptTimer.unref();
  }

  private async renew(): Promise<void> {
    if (this.running.size === 0) return;
    try { await this.svc.store.renewTaskLeases(this.owner, Date.now() + this.opts.leaseMs); } catch (err) {
      this.opts.log?.error({ err }, 'renewing task leases failed');
    }
  }

  /** takes over every orphaned task (and this controller's own from before a restart); returns how many */
  adopt(): Promise<number> {
    this.adopting ??= this.adoptAll().finally(() => { this.adopting = null; });
    return this.adopting;
  }

  private async adoptAll(): Promise<number> {
    let n = 0;
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const now = Date.now();
      const page = await this.svc.store.listAdoptableTasks(this.owner, now, 200, after);
      if (page.length === 0 || this.closed) return n;
      after = { createdAt: page[page.length - 1]!.createdAt, id: page[page.length - 1]!.id };
      for (const t of page) {
        if (this.running.has(t.id)) continue; // ours, being driven (its lease is renewed by this process)
        const mine = await this.svc.store.takeOverTask(t.id, this.owner, now + this.opts.leaseMs, now);
        if (!mine || this.running.has(t.id)) continue;
        this.opts.log?.info?.({ taskId: t.id, serverId: t.serverId, kind: t.kind, step: t.step, requestId: t.requestId, from: t.owner }, 'task taken over');
        this.launch(mine);
        n++;
      }
    }
  }

  /** resolves when every task this process drives has settled (tests, graceful shutdown) */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  /** stops timers; running drives finish on their own (their leases lapse if the process exits) */
  async close(): Promise<void> {
    this.closed = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.adoptTimer) clearInterval(this.adoptTimer);
    this.renewTimer = this.adoptTimer = null;
    await this.idle();
  }

  private launch(row: TaskRow): void {
    // begin and a concurrent takeover round may both reach here for a task just created: one drive only
    if (this.running.has(row.id)) return;
    const p = this.drive(row)
      .catch((err: unknown) => this.opts.log?.error({ err, taskId: row.id, serverId: row.serverId }, 'task bookkeeping failed'))
      .finally(() => this.running.delete(row.id));
    this.running.set(row.id, p);
  }

  private async drive(row: TaskRow): Promise<void> {
    const t0 = performance.now();
    const def = this.registry[row.kind];
    const store = this.svc.store;
    const data: Record<string, unknown> = { ...row.data };
    let step = row.step;
    const x: TaskCtx = {
      task: row, params: row.params, data, svc: this.svc,
      server: async () => {
        const s = await store.getServer(row.serverId, { includeDeleted: true });
        if (!s) throw instanceNotFound(row.serverId);
        return s;
      },
      // kept with the next step's checkpoint: a step re-driven after a crash recomputes what it had not saved yet
      // (steps are idempotent: claims, addresses and host calls all are), so a save costs no write of its own
      save: async (patch) => { Object.assign(data, patch); },
      call: async <K extends OperationKind>(kind: K, params: ParamsOf<K>, o: { host?: string; tag?: string } = {}) => {
        const cur = await store.getTask(row.id);
        if (!cur || cur.owner !== this.owner) throw new LostTask();
        if (cur.cancelled) throw new TaskCancelled(`${def?.kind ?? row.kind} of ${row.serverId} was cancelled by a delete`);
        const host = o.host ?? (data.host as string | undefined) ?? (await x.server()).host;
        if (!host) throw new Error(`Instance ${row.serverId} is not on any host.`);
        return this.svc.hosts.call({ host, kind, serverId: row.serverId, params, requestId: row.requestId, ...(o.tag ? { tag: o.tag } : {}) });
      },
    };
    if (!def) return this.end(row, x, null, new Error(`unknown task kind ${row.kind}`), t0);
    try {
      let recorded = row.step;
      while (step < def.steps.length) {
        // the step is recorded before it acts (the first one by begin, or by the drive that was interrupted)
        if (step !== recorded) {
          if (!(await store.checkpointTask(row.id, this.owner, step, data))) throw new LostTask();
          recorded = step;
        }
        const s = def.steps[step]!;
        await this.failpoint(row, s.name, 'before');
        try {
          await s.run(x);
        } catch (err) {
          if (!(err instanceof GoTo)) throw err;
          step = def.steps.findIndex((d) => d.name === err.step);
          if (step < 0) throw new Error(`task ${def.kind} has no step ${err.step}`);
          continue;
        }
        await this.failpoint(row, s.name, 'after');
        step++;
      }
      await this.end(row, x, def, null, t0);
    } catch (err) {
      if (err instanceof LostTask) return;
      await this.end(row, x, def, err, t0);
    }
  }

  private async failpoint(row: TaskRow, step: string, when: 'before' | 'after'): Promise<void> {
    if (this.opts.failpoints?.get(`${row.kind}.${step}`) !== when) return;
    this.opts.log?.info?.({ taskId: row.id, serverId: row.serverId, failpoint: `${row.kind}.${step}:${when}` }, 'failpoint reached: task hangs here');
    await new Promise(() => {});
  }

  private async end(row: TaskRow, x: TaskCtx, def: AnyTaskDef | null, err: unknown, t0: number): Promise<void> {
    await this.settle(row, x, def, err);
    const result = err === null && def ? 'success' : 'error';
    try { this.opts.onFinished?.(row.kind, result, performance.now() - t0); } catch (e) {
      this.opts.log?.error({ err: e, taskId: row.id }, 'task observer failed');
    }
  }

  private async settle(row: TaskRow, x: TaskCtx, def: AnyTaskDef | null, err: unknown): Promise<void> {
    const store = this.svc.store;
    const base = { taskId: row.id, serverId: row.serverId, expectTaskState: def?.taskStates ?? def?.taskState ?? '', eventId: row.eventId, actionId: row.actionId };
    if (err === null && def) {
      const changes = await def.success(x);
      // a server that moved is in its new host's availability zone (the view and the list filter read the column)
      if (changes.host) { const zone = this.svc.placement.zoneOf(changes.host); if (zone) changes.availabilityZone = zone; }
      const r = await store.finishTask({
        ...base, changes: { ...changes, taskState: changes.taskState ?? null }, result: 'Success', detail: null, message: null,
        ...(def.deletesServer ? { deleteServer: true } : {}),
        ...(def.releasesClaimOnSuccess?.(x) ? { releaseClaim: true } : {}),
      }, this.owner);
      if (r.owned && r.won) def.finished?.(x);
      return;
    }
    const f = faultOf(err);
    if (def?.undo) {
      try { await def.undo(x, err); } catch (e) { this.opts.log?.error({ err: e, taskId: row.id }, 'undoing a failed task failed'); }
    }
    const cancelled = err instanceof TaskCancelled;
    await store.finishTask({
      ...base, result: 'Error', detail: faultDetail(f), message: 'Error',
      changes: { ...(def?.failure ?? {}), taskState: null, ...(cancelled ? {} : { fault: { code: f.code, message: f.message, created: new Date().toISOString() } }) },
      ...(def?.releasesClaimOnFailure ? { releaseClaim: true } : {}),
    }, this.owner);
    if (!cancelled) this.opts.log?.error({ code: f.kind, message: f.message, serverId: row.serverId, requestId: row.requestId, task: row.kind }, `task ${row.kind} failed`);
  }
}

