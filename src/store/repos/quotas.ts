/** Quota limits per project, and the usage they are checked against. */
import type { QuotaLimits, QuotaUsage } from '../types.js';

export interface QuotaRepo {
  getQuotaLimits(projectId: string): Promise<QuotaLimits>;
  setQuotaLimits(projectId: string, limits: QuotaLimits): Promise<void>;
  /** usage of non-deleted servers (soft-deleted servers still count, as in Nova) and key pairs of the user */
  getQuotaUsage(projectId: string, userId: string): Promise<QuotaUsage>;
}
