/**
 * Neutron's quotas (network, subnet, port, security_group, security_group_rule) with Neutron's defaults; limits set
 * by an admin live in the store's quota table under `neutron:<resource>` so they never mix with Nova's.
 */
import type { Store } from '../../store/index.js';
import { overQuota } from './errors.js';

export const NEUTRON_QUOTA_DEFAULTS: Record<string, number> = {
  network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, security_group: 10, security_group_rule: 100, rbac_policy: 10,
};

const KEY = 'neutron:';

export class NetworkQuotas {
  constructor(private readonly store: Store) {}

  async limits(projectId: string): Promise<Record<string, number>> {
    const set = await this.store.getQuotaLimits(projectId);
    return Object.fromEntries(Object.entries(NEUTRON_QUOTA_DEFAULTS).map(([k, v]) => [k, set[KEY + k] ?? v]));
  }

  async set(projectId: string, changes: Record<string, number>): Promise<void> {
    const next: Record<string, number> = {};
    for (const [k, v] of Object.entries(changes)) if (k in NEUTRON_QUOTA_DEFAULTS) next[KEY + k] = v;
    await this.store.setQuotaLimits(projectId, next);
  }

  /** one more `resource` for the project, which holds `used` now; -1 = unlimited */
  async check(projectId: string, resource: string, used: number): Promise<void> {
    const limit = (await this.limits(projectId))[resource] ?? -1;
    if (limit >= 0 && used + 1 > limit) throw overQuota(resource);
  }
}
