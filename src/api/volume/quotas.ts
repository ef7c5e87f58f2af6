/** /v3/{project}/limits and /os-quota-sets/{project} (+defaults, ?usage=True; update for admins). */
import type { FastifyInstance } from 'fastify';
import { isAdminOrOwner } from '../../controller/context.js';
import { badRequest, forbidden } from '../../controller/errors.js';
import { VOLUME_QUOTA_DEFAULTS, type VolumeQuotaSet } from '../../controller/volumes/config.js';
import type { VolumeApi } from './routes.js';

type P = { Params: { p: string; id: string } };

export function registerQuotaRoutes(app: FastifyInstance, api: VolumeApi): void {
  const volumes = api.compute.volumes;
  app.get('/v3/:p/limits', async (req) => {
    const lim = await volumes.quotaLimits(req.ctx.projectId);
    const use = await volumes.quotaUsage(req.ctx.projectId);
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: lim.volumes, maxTotalSnapshots: lim.snapshots, maxTotalVolumeGigabytes: lim.gigabytes,
          maxTotalBackups: lim.backups, maxTotalBackupGigabytes: lim.backup_gigabytes, totalVolumesUsed: use.volumes,
          totalSnapshotsUsed: use.snapshots, totalGigabytesUsed: use.gigabytes, totalBackupsUsed: 0, totalBackupGigabytesUsed: 0,
        },
      },
    };
  });
  app.get<P>('/v3/:p/os-quota-sets/:id/defaults', async (req) => ({ quota_set: { id: req.params.id, ...VOLUME_QUOTA_DEFAULTS } }));
  app.get<P>('/v3/:p/os-quota-sets/:id', async (req) => {
    if (!isAdminOrOwner(req.ctx, req.params.id)) throw forbidden("Policy doesn't allow volume_extension:quotas:show to be performed.");
    const lim = await volumes.quotaLimits(req.params.id);
    if (!/^(1|t|true|y|yes|on)$/i.test((req.query as Record<string, string | undefined>).usage ?? '')) return { quota_set: { id: req.params.id, ...lim } };
    const use = await volumes.quotaUsage(req.params.id);
    const used: Record<string, number> = { volumes: use.volumes, snapshots: use.snapshots, gigabytes: use.gigabytes };
    const out: Record<string, unknown> = { id: req.params.id };
    for (const [k, v] of Object.entries(lim)) out[k] = k === 'per_volume_gigabytes' ? { limit: v, in_use: 0, reserved: 0, allocated: 0 } : { limit: v, in_use: used[k] ?? 0, reserved: 0, allocated: 0 };
    return { quota_set: out };
  });
  app.put<P>('/v3/:p/os-quota-sets/:id', async (req) => {
    const b = (req.body as { quota_set?: Record<string, unknown> } | null)?.quota_set;
    if (!b || typeof b !== 'object') throw badRequest("Missing required element 'quota_set' in request body.");
    const changes: Partial<VolumeQuotaSet> = {};
    for (const [k, v] of Object.entries(b)) {
      if (k === 'tenant_id' || k === 'id') continue;
      if (!(k in VOLUME_QUOTA_DEFAULTS)) throw badRequest(`Bad key(s) in quota set: ${k}`);
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < -1) throw badRequest(`Invalid input received: Quota value ${String(v)} for ${k} must be an integer >= -1.`);
      changes[k as keyof VolumeQuotaSet] = n;
    }
    return { quota_set: await volumes.updateQuotas(req.ctx, req.params.id, changes) };
  });
}
