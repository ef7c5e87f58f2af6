/**
 * Nova's live migration policy, as numbers ([libvirt] options of nova.conf, same defaults):
 *   live_migration_downtime = 500 ms, live_migration_downtime_steps = 10, live_migration_downtime_delay = 75 s
 *   (per GiB), live_migration_completion_timeout = 800 s (per GiB; 0 = none), live_migration_timeout_action =
 *   abort, live_migration_permit_post_copy / live_migration_permit_auto_converge = false,
 *   live_migration_progress_timeout = 0 (off: Nova deprecated it and turned it off by default in Stein, after it
 *   aborted migrations that were converging; the testbed saw one aborted with 0.7 MB left).
 * The amount of data is Nova's too (_live_migration_data_gb): RAM in GiB (at least 2), plus the local disks when
 * they are copied (block migration).
 */
import type { ParamsOf } from '../../rpc/protocol/operations.js';
import type { ServerSpec } from '../../rpc/protocol/server-spec.js';

export interface MigrationPolicy {
  maxDowntimeMs: number;
  downtimeSteps: number;
  /** per GiB of data */
  downtimeDelaySec: number;
  /** per GiB of data; 0: no completion timeout */
  completionTimeoutPerGiBSec: number;
  timeoutAction: 'abort' | 'force_complete';
  /** no new low of the data remaining for this long: abort; 0: never */
  progressTimeoutSec: number;
  permitPostCopy: boolean;
  permitAutoConverge: boolean;
  /** memory passes in a row that sent less than 10 % of what was left before a switch to post-copy */
  postCopyAfterIterations: number;
}

export const NOVA_POLICY: MigrationPolicy = {
  maxDowntimeMs: 500, downtimeSteps: 10, downtimeDelaySec: 75, completionTimeoutPerGiBSec: 800, timeoutAction: 'abort',
  progressTimeoutSec: 0, permitPostCopy: false, permitAutoConverge: false, postCopyAfterIterations: 2,
};

export function policyOf(p: ParamsOf<'live_migrate'>): MigrationPolicy {
  return {
    maxDowntimeMs: p.maxDowntimeMs ?? NOVA_POLICY.maxDowntimeMs,
    downtimeSteps: p.downtimeSteps ?? NOVA_POLICY.downtimeSteps,
    downtimeDelaySec: p.downtimeDelaySec ?? NOVA_POLICY.downtimeDelaySec,
    completionTimeoutPerGiBSec: p.completionTimeoutPerGiBSec ?? NOVA_POLICY.completionTimeoutPerGiBSec,
    timeoutAction: p.timeoutAction ?? NOVA_POLICY.timeoutAction,
    progressTimeoutSec: p.progressTimeoutSec ?? NOVA_POLICY.progressTimeoutSec,
    permitPostCopy: p.permitPostCopy ?? NOVA_POLICY.permitPostCopy,
    permitAutoConverge: p.permitAutoConverge ?? NOVA_POLICY.permitAutoConverge,
    postCopyAfterIterations: p.postCopyAfterIterations ?? NOVA_POLICY.postCopyAfterIterations,
  };
}

/** GiB a migration moves: RAM (at least 2, as Nova counts it) plus the local disks when they are copied. */
export function dataGiB(spec: ServerSpec, blockMigration: boolean): number {
  const ram = Math.max(2, spec.memoryMiB / 1024);
  if (!blockMigration) return ram;
  const owned = (spec.disks ?? []).filter((d) => !d.path).reduce((n, d) => n + (d.sizeGiB ?? 1), 0);
  return ram + spec.rootGiB + (spec.ephemeralGiB ?? 0) + (spec.swapMiB ?? 0) / 1024 + owned;
}

/** Nova's downtime steps: [after ms, max downtime ms], from downtime/steps up to downtime, spread over delay x GiB. */
export function downtimeSteps(policy: MigrationPolicy, gib: number): [number, number][] {
  const steps = Math.max(1, Math.floor(policy.downtimeSteps));
  const delayMs = policy.downtimeDelaySec * Math.max(gib, 0) * 1000;
  const base = policy.maxDowntimeMs / steps;
  const offset = (policy.maxDowntimeMs - base) / steps;
  const out: [number, number][] = [];
  for (let i = 0; i <= steps; i++) out.push([Math.floor(delayMs * i), Math.floor(base + offset * i)]);
  return out;
}

export function completionTimeoutMs(policy: MigrationPolicy, gib: number): number {
  return policy.completionTimeoutPerGiBSec > 0 ? policy.completionTimeoutPerGiBSec * gib * 1000 : 0;
}
