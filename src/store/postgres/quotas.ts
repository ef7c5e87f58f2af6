/** PostgreSQL repository of quota limits and usage. */
import type { QuotaRepo } from '../repos/quotas.js';
import type { QuotaLimits, QuotaUsage } from '../types.js';
import { PgRepository } from './repository.js';

export class PgQuotas extends PgRepository implements QuotaRepo {
  async getQuotaLimits(projectId: string): Promise<QuotaLimits> {
    const out: QuotaLimits = {};
    for (const r of await this.all('SELECT resource, hard_limit FROM quota_limits WHERE project_id = ?', [projectId])) out[r.resource as string] = r.hard_limit as number;
    return out;
  }
  async setQuotaLimits(projectId: string, limits: QuotaLimits): Promise<void> {
    await this.db.tx(async (q) => {
      for (const [k, v] of Object.entries(limits)) {
        await q.query(`INSERT INTO quota_limits (project_id, resource, hard_limit) VALUES (?, ?, ?)
          ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit`, [projectId, k, v]);
      }
    });
  }
  async getQuotaUsage(projectId: string, userId: string): Promise<QuotaUsage> {
    const r = (await this.one(`SELECT (SELECT COUNT(*) FROM servers WHERE project_id = ? AND deleted = 0) AS n,
      (SELECT COALESCE(SUM(vcpus), 0) FROM servers WHERE project_id = ? AND deleted = 0) AS c,
      (SELECT COALESCE(SUM(memory_mb), 0) FROM servers WHERE project_id = ? AND deleted = 0) AS m,
      (SELECT COUNT(*) FROM keypairs WHERE user_id = ?) AS k`, [projectId, projectId, projectId, userId]))!;
    return { instances: r.n as number, cores: r.c as number, ram: r.m as number, keyPairs: r.k as number };
  }
}
