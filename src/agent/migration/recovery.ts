/**
 * Recovery of a live_migrate the source agent died in (reconcile/table.ts). The migration itself is libvirtd's:
 * a peer-to-peer job goes on without the agent that asked for it, so libvirt decides the outcome:
 *  - the domain is gone from this host: it completed -> forget the server here, succeeded
 *  - a job still runs on the domain: wait for it to end (reading it every monitor interval), then decide again
 *  - the domain is here and idle: it failed or never started -> unpause if force-complete paused it, rolled_back
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Outcome } from '../ops/runner.js';
import type { OpExec } from '../ops/types.js';
import { forgetOnSource } from '../ops/live-migrate.js';
import { powerOf, recordPower } from '../ops/helpers.js';

/** the longest a recovered agent waits for an orphaned migration job to end before it leaves it to the next reconcile */
const WAIT_JOB_MS = 60 * 60_000;

export async function recoverLiveMigrate(x: OpExec<unknown>): Promise<Outcome> {
  const { hv, config } = x.deps;
  const uuid = x.op.serverUuid;
  const shared = (x.params as { sharedInstancePath?: boolean }).sharedInstancePath === true;
  const deadline = Date.now() + WAIT_JOB_MS;
  for (;;) {
    const d = await hv.getDomain(uuid);
    if (!d) {
      const deletedFiles = await forgetOnSource(x, shared);
      return { state: 'succeeded', result: { recovered: true, deletedFiles } };
    }
    const job = await hv.migrationStats(uuid).catch(() => null);
    if (job?.active && Date.now() < deadline) {
      await sleep(config.liveMigrationMonitorIntervalMs);
      continue;
    }
    if (x.data()['pausedByUs'] === true && x.data()['wasPaused'] !== true && powerOf(d) === 'paused') {
      x.step('unpause');
      await hv.unpause(uuid);
    }
    await recordPower(x);
    return { state: 'rolled_back', error: { code: 'internal', message: 'agent restarted during live migration; the guest is still on this host' } };
  }
}
