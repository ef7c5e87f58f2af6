/**
 * FakeHypervisor's live migration: a migration is an object the test drives. By default it completes on the
 * next tick; `FakeHypervisor.nextMigration({script, hold})` gives the next one a list of job readings (one per
 * migrationStats call, the last one repeating) and/or holds it open until `complete()` / `fail()`. Completion
 * moves the domain to the FakeHost registered for the destination URI (`FakeHost.peers`), with the request's
 * path rewrites applied, in the power it had (a paused guest arrives paused), as libvirt's UNDEFINE_SOURCE +
 * PERSIST_DEST leave it.
 */
import { VirtError } from '../errors.js';
import { NO_MIGRATION_JOB, type MigrateRequest, type MigrationStats } from '../migration.js';

export interface FakeMigrationPlan {
  /** job readings, one per migrationStats call; the last one repeats while the migration is held */
  script?: Partial<MigrationStats>[];
  /** stay open after the script (or at once without one) until complete(), fail(), abortJob, post-copy or a pause */
  hold?: boolean;
  /** even post-copy or a paused guest do not finish it (a migration that never ends by itself) */
  stuck?: boolean;
  /** the job's final numbers, sent as libvirt's JOB_COMPLETED event when it succeeds (none: no event) */
  final?: Partial<MigrationStats>;
}

export class FakeMigration {
  /** max downtime values the agent set, in order */
  readonly downtimes: number[] = [];
  postCopy = false;
  reads = 0;
  /** @internal */ settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  /** @internal called by the hypervisor when the migration ends (moves the domain, or nothing on failure) */
  onDone: (ok: boolean) => void = () => undefined;
  private ended = false;

  /**
   * @param startedPaused the guest was paused when the migration began: it arrives paused (libvirt adds
   * VIR_MIGRATE_PAUSED); a guest paused later (force complete) is resumed on the destination
   */
  constructor(readonly uuid: string, readonly req: MigrateRequest, readonly plan: FakeMigrationPlan, readonly startedPaused = false) {}

  get finished(): boolean { return this.ended; }

  /** @internal one reading: the next scripted one */
  read(): MigrationStats {
    const script = this.plan.script ?? [];
    const step = script[Math.min(this.reads, script.length - 1)] ?? {};
    this.reads++;
    const stats = { ...NO_MIGRATION_JOB, ...step, active: true };
    if (!this.plan.hold && this.reads >= script.length) setImmediate(() => this.complete());
    return stats;
  }

  /** The guest now runs on the destination. */
  complete(): void {
    this.end(true);
  }

  /** The migration fails (QEMU or the destination refused); the guest keeps running on the source. */
  fail(error: unknown = new VirtError('operation_failed', 'injected: migration failed')): void {
    this.end(false, error);
  }

  /** @internal */
  abort(): void {
    this.end(false, new VirtError('aborted', 'operation aborted: migration out job: canceled by client', { libvirtCode: 'VIR_ERR_OPERATION_ABORTED' }));
  }

  /** @internal a post-copy switch or a paused guest lets a held migration finish (unless stuck) */
  nudge(): void {
    if (!this.plan.stuck) setImmediate(() => this.complete());
  }

  private end(ok: boolean, error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.onDone(ok);
    if (ok) this.settle?.resolve();
    else this.settle?.reject(error);
  }
}
