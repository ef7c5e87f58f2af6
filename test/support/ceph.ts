/**
 * Whether the rbd tests run here: Ceph's packages (ceph-mon, rbd) are opt-in for a developer (scripts/install.sh
 * with NOVALET_WITH_CEPH=1), so a suite is skipped without them; in CI (`CI=true`, or NOVALET_REQUIRE_CEPH=1 which
 * scripts/test.sh sets after installing them) a missing Ceph is a failure, not a skip.
 */
import { execa } from 'execa';

export const haveCeph = (await execa('sh', ['-c', 'command -v ceph-mon && command -v rbd && command -v ceph'], { reject: false })).exitCode === 0;

export const cephRequired = process.env.CI === 'true' || process.env.NOVALET_REQUIRE_CEPH === '1';

/** the `skip` of an rbd suite: false (run) when Ceph is here or required; the reason otherwise */
export function cephSkip(): false | string {
  if (haveCeph || cephRequired) return false;
  return 'Ceph not installed (NOVALET_WITH_CEPH=1 scripts/install.sh installs it)';
}

/** first thing in a required suite's `before`: a clear failure instead of a confusing one when Ceph is missing */
export function assertCeph(): void {
  if (!haveCeph) throw new Error('Ceph is required here (CI=true or NOVALET_REQUIRE_CEPH=1) but ceph-mon/rbd are not installed: NOVALET_WITH_CEPH=1 bash scripts/install.sh');
}
