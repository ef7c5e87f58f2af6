/** SQLite repository of quota limits and usage. */
import type { QuotaRepo } from '../repos/quotas.js';
import type { QuotaLimits, QuotaUsage } from '../types.js';
import type { Row } from './columns.js';
import { SqliteRepository } from './repository.js';

export class SqliteQuotas extends SqliteRepository implements QuotaRepo {
  async getQuotaLimits(projectId: string): Promise<QuotaLimits> {
    const out: QuotaLimits = {};
    for (const r of this.db.prepare('SELECT resource, hard_limit FROM quota_limits WHERE project_id = ?').all(projectId) as Row[]) out[r.resource as string] = r.hard_limit as number;
    return out;
  }
  async setQuotaLimits(projectId: string, limits: QuotaLimits): Promise<void> {
    const st = this.db.prepare('INSERT OR REPLACE INTO quota_limits (project_id, resource, hard_limit) VALUES (?, ?, ?)');
    this.db.transaction(() => { for (const [k, v] of Object.entries(limits)) st.run(projectId, k, v); })();
  }
  async getQuotaUsage(projectId: string, userId: string): Promise<QuotaUsage> {
    const u = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(vcpus), 0) AS c, COALESCE(SUM(memory_mb), 0) AS m FROM servers WHERE project_id = ? AND deleted = 0').get(projectId) as Row;
    const instances = u.n as number; const cores = u.c as number; const ram = u.m as number;
    const kp = (this.db.prepare('SELECT COUNT(*) AS n FROM keypairs WHERE user_id = ?').get(userId) as Row).n as number;
    return { instances, cores, ram, keyPairs: kp };
  }
}
