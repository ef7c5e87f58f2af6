/** Quota limits (project overrides over config defaults) and enforcement at create time. */
import type { Store, QuotaUsage } from '../../store/index.js';
import type { ControllerConfig } from '../config.js';
import { ApiError } from '../errors.js';

export type QuotaSet = ControllerConfig['quotaDefaults'];

export class QuotaService {
  constructor(private readonly store: Store, private readonly cfg: ControllerConfig) {}

  async limits(projectId: string): Promise<QuotaSet> {
    // other services' limits share the table under `<service>:<resource>` (network/quotas.ts)
    const own = Object.entries(await this.store.getQuotaLimits(projectId)).filter(([k]) => !k.includes(':'));
    return { ...this.cfg.quotaDefaults, ...Object.fromEntries(own) } as QuotaSet;
  }

  async update(projectId: string, changes: Partial<QuotaSet>): Promise<QuotaSet> {
    await this.store.setQuotaLimits(projectId, changes as Record<string, number>);
    return this.limits(projectId);
  }

  /** what the project (key pairs: the user) uses now */
  usage(projectId: string, userId: string): Promise<QuotaUsage> { return this.store.getQuotaUsage(projectId, userId); }

  /** Nova: 403 "Quota exceeded for <res>: Requested N, but already used U of L <res>" (-1 = unlimited) */
  async checkServers(projectId: string, userId: string, count: number, vcpus: number, ram: number): Promise<void> {
    const lim = await this.limits(projectId);
    const use = await this.usage(projectId, userId);
    const checks: Array<[string, number, number, number]> = [
      ['instances', count, use.instances, lim.instances],
      ['cores', count * vcpus, use.cores, lim.cores],
      ['ram', count * ram, use.ram, lim.ram],
    ];
    for (const [res, req, used, limit] of checks) {
      if (limit >= 0 && used + req > limit) {
        throw new ApiError('over_quota', `Quota exceeded for ${res}: Requested ${req}, but already used ${used} of ${limit} ${res}`);
      }
    }
  }

  /** growth of an existing server (resize): only the increase is checked */
  async checkGrowth(projectId: string, userId: string, cores: number, ram: number): Promise<void> {
    if (cores <= 0 && ram <= 0) return;
    const lim = await this.limits(projectId);
    const use = await this.usage(projectId, userId);
    for (const [res, req, used, limit] of [['cores', cores, use.cores, lim.cores], ['ram', ram, use.ram, lim.ram]] as Array<[string, number, number, number]>) {
      if (req > 0 && limit >= 0 && used + req > limit) {
        throw new ApiError('over_quota', `Quota exceeded for ${res}: Requested ${req}, but already used ${used} of ${limit} ${res}`);
      }
    }
  }

  async checkKeypairs(projectId: string, userId: string): Promise<void> {
    const lim = await this.limits(projectId);
    const use = await this.usage(projectId, userId);
    if (lim.key_pairs >= 0 && use.keyPairs + 1 > lim.key_pairs) throw new ApiError('over_quota', 'Quota exceeded, too many key pairs.');
  }

  async checkMetadata(projectId: string, items: number): Promise<void> {
    const lim = await this.limits(projectId);
    if (lim.metadata_items >= 0 && items > lim.metadata_items) throw new ApiError('over_quota', 'Quota exceeded for metadata_items: Requested ' + items + ', but already used 0 of ' + lim.metadata_items + ' metadata_items');
  }
}
