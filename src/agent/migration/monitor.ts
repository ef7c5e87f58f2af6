/**
 * The live migration monitor (Nova's _live_migration_monitor): while the migration call blocks on its own thread,
 * read the job every `intervalMs` (~0.5 s) and
 *  - raise the allowed downtime in Nova's steps (policy.ts),
 *  - after `postCopyAfterIterations` memory passes in a row that each sent less than 10 % of what was left, switch
 *    to post-copy when permitted (auto-converge, when permitted and post-copy is not, is a start flag: QEMU then
 *    throttles the vCPUs by itself once it sees no convergence; libvirt cannot turn it on mid-way),
 *  - on the completion timeout (per GiB) abort, or force completion (timeoutAction), never once in post-copy,
 *  - abort when the data remaining has made no new low for `progressTimeoutSec`.
 * abort() and forceComplete() are also what the agent's RPC calls for the controller (DELETE migration, force-complete).
 * A migration in post-copy cannot be aborted: the guest already runs on the destination (Nova refuses it too).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { AgentError } from '../../rpc/errors.js';
import { isVirtError, NO_MIGRATION_JOB, type Hypervisor, type MigrationStats } from '../../virt/index.js';
import { completionTimeoutMs, downtimeSteps, type MigrationPolicy } from './policy.js';

/** how long a migration that succeeded before any reading waits for libvirt's JOB_COMPLETED event */
const FINAL_STATS_WAIT_MS = 1000;

export type MonitorPhase = 'starting' | 'running' | 'postcopy' | 'paused' | 'aborting';

export interface MonitorOptions {
  hv: Hypervisor;
  uuid: string;
  policy: MigrationPolicy;
  /** GiB the migration moves (policy.ts dataGiB): scales the downtime delay and the completion timeout */
  gib: number;
  intervalMs: number;
  log: Logger;
  /** after every reading (progress recording) */
  onSample?: (m: MigrationMonitor) => void;
  now?: () => number;
}

export class MigrationMonitor {
  phase: MonitorPhase = 'starting';
  stats: MigrationStats = { ...NO_MIGRATION_JOB };
  maxDowntimeMs = 0;
  /** what the monitor (or a caller) did and why, in order */
  readonly events: string[] = [];
  /** set when the migration was aborted on purpose: the operation's error says why */
  abortReason: string | undefined;
  /** 'aborted' (asked for), 'completion_timeout' or 'no_progress': the operation error's cause */
  abortCause: 'aborted' | 'completion_timeout' | 'no_progress' | undefined;
  /** force-complete paused the guest: a failed migration unpauses it again (Nova's on_migration_failure) */
  pausedByUs = false;
  private abortPending = false;
  private readonly now: () => number;
  private startedAt = 0;

  constructor(private readonly o: MonitorOptions) {
    this.now = o.now ?? Date.now;
  }

  get elapsedMs(): number {
    return this.startedAt ? this.now() - this.startedAt : 0;
  }

  /**
   * Watches until `job` (the migration call) settles; never rejects. libvirt's JOB_COMPLETED event carries the
   * job's final numbers: they replace the last reading when the job succeeded, so a migration over before the first
   * reading (a small guest on shared storage takes well under an interval) still leaves its record its numbers.
   */
  async watch(job: Promise<unknown>): Promise<void> {
    const { hv, uuid } = this.o;
    let final: MigrationStats | null = null;
    let seen: () => void = () => {};
    const finalSeen = new Promise<void>((r) => { seen = r; });
    const off = hv.onEvent((e) => {
      if (e.type === 'jobCompleted' && e.uuid.toLowerCase() === uuid.toLowerCase()) { final = e.stats; seen(); }
    });
    try {
      const succeeded = await this.poll(job);
      // the event may come just after the call returns: waited for only when there is no reading at all
      if (succeeded && !final && this.stats.memoryTotal === 0) await Promise.race([finalSeen, sleep(FINAL_STATS_WAIT_MS)]);
      const f = final as MigrationStats | null;
      if (succeeded && f && f.memoryTotal > 0) {
        this.stats = { ...f, active: false };
        this.o.onSample?.(this);
      }
    } finally {
      off();
    }
  }

  /** Reads the job every interval until `job` settles; true when it succeeded. */
  private async poll(job: Promise<unknown>): Promise<boolean> {
    const { hv, uuid, policy, gib, intervalMs, log } = this.o;
    let settled = false;
    let succeeded = false;
    const ended = job.then(() => { settled = true; succeeded = true; }, () => { settled = true; });
    this.startedAt = this.now();
    const steps = downtimeSteps(policy, gib);
    const timeoutMs = completionTimeoutMs(policy, gib);
    let watermark = Number.POSITIVE_INFINITY;
    let lastProgressAt = this.startedAt;
    let lastIteration = 0;
    let iterationStartRemaining = 0;
    let stuck = 0;
    let forced = false;
    while (!settled) {
      let s: MigrationStats;
      try {
        if (this.abortPending) await this.sendAbort();
        s = await hv.migrationStats(uuid);
      } catch (err) {
        // the domain leaves this host when the migration completes; anything else is retried next tick
        log.debug({ err }, 'migration monitor: job stats unavailable');
        await Promise.race([sleep(intervalMs), ended]);
        continue;
      }
      if (settled) break;
      if (s.active) {
        if (this.phase === 'starting') this.phase = 'running';
        this.stats = s;
        const elapsed = this.elapsedMs;
        // Nova's downtime steps: the latest step whose delay has passed
        let target = this.maxDowntimeMs;
        for (const [after, ms] of steps) if (elapsed >= after) target = ms;
        if (target !== this.maxDowntimeMs) {
          try {
            await hv.setMigrationMaxDowntime(uuid, target);
            this.maxDowntimeMs = target;
          } catch (err) {
            log.debug({ err }, 'migration monitor: could not set max downtime');
          }
        }
        if (this.phase !== 'postcopy' && this.phase !== 'aborting') {
          if (timeoutMs > 0 && elapsed > timeoutMs) {
            const why = `completion timeout: not done after ${Math.round(elapsed / 1000)} s (${policy.completionTimeoutPerGiBSec} s per GiB x ${round(gib)} GiB)`;
            if (policy.timeoutAction === 'abort') {
              await this.abort(why, 'completion_timeout').catch((err: unknown) => log.warn({ err }, 'migration monitor: abort failed'));
            } else if (!forced) {
              forced = true;
              this.note(`${why}: forcing completion`);
              await this.forceComplete().catch((err: unknown) => log.warn({ err }, 'migration monitor: force complete failed'));
            }
          }
          if (s.dataRemaining < watermark) {
            watermark = s.dataRemaining;
            lastProgressAt = this.now();
          } else if (policy.progressTimeoutSec > 0 && this.now() - lastProgressAt > policy.progressTimeoutSec * 1000 && (this.phase as MonitorPhase) !== 'aborting') {
            await this.abort(`no progress: the data remaining (${s.dataRemaining} bytes) made no new low for ${policy.progressTimeoutSec} s`, 'no_progress')
              .catch((err: unknown) => log.warn({ err }, 'migration monitor: abort failed'));
          }
          if (s.iterations > lastIteration) {
            if (lastIteration > 0) stuck = iterationStartRemaining > 0 && s.dataRemaining > 0.9 * iterationStartRemaining ? stuck + 1 : 0;
            lastIteration = s.iterations;
            iterationStartRemaining = s.dataRemaining;
            if (policy.permitPostCopy && this.phase === 'running' && stuck >= policy.postCopyAfterIterations) {
              this.note(`${stuck} memory passes in a row sent less than 10 % of what was left: switching to post-copy`);
              await this.switchToPostCopy().catch((err: unknown) => log.warn({ err }, 'migration monitor: post-copy switch failed'));
            }
          }
        }
        this.o.onSample?.(this);
      }
      await Promise.race([sleep(intervalMs), ended]);
    }
    return succeeded;
  }

  /** Aborts the migration (the guest stays here). Refused in post-copy. */
  async abort(reason = 'aborted on request', cause: 'aborted' | 'completion_timeout' | 'no_progress' = 'aborted'): Promise<void> {
    if (this.phase === 'postcopy') throw new AgentError('invalid_state', 'the migration is in post-copy: the guest already runs on the destination, it cannot be aborted');
    if (this.phase === 'aborting') return;
    this.abortReason = reason;
    this.abortCause = cause;
    this.phase = 'aborting';
    this.note(`abort: ${reason}`);
    this.abortPending = true;
    await this.sendAbort().catch((err: unknown) => this.o.log.debug({ err }, 'abort not sent yet; retried at the next reading'));
  }

  /** Nova's force complete: post-copy when permitted, else pause the guest so that its memory stops changing. */
  async forceComplete(): Promise<'postcopy' | 'pause'> {
    if (this.phase === 'aborting') throw new AgentError('invalid_state', 'the migration is being aborted');
    if (this.phase === 'postcopy') return 'postcopy';
    if (this.phase === 'paused') return 'pause';
    if (this.o.policy.permitPostCopy) {
      this.note('force complete: switching to post-copy');
      await this.switchToPostCopy();
      return 'postcopy';
    }
    this.note('force complete: pausing the guest until it arrives');
    const before = (await this.o.hv.getDomain(this.o.uuid))?.power;
    await this.o.hv.pause(this.o.uuid);
    this.pausedByUs = before === 'running';
    this.phase = 'paused';
    return 'pause';
  }

  private async switchToPostCopy(): Promise<void> {
    await this.o.hv.startPostCopy(this.o.uuid);
    this.phase = 'postcopy';
  }

  private async sendAbort(): Promise<void> {
    try {
      await this.o.hv.abortJob(this.o.uuid);
      this.abortPending = false;
    } catch (err) {
      // no job yet (the call is still setting it up): try again at the next reading
      if (isVirtError(err, 'invalid_state')) throw err;
      this.abortPending = false;
      throw err;
    }
  }

  private note(msg: string): void {
    this.events.push(msg);
    this.o.log.info({ server: this.o.uuid }, `live migration: ${msg}`);
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;
