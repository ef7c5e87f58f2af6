/**
 * /limits and /os-quota-sets. Limits: absolute quota + usage (network-proxy fields before 2.36, maxImageMeta
 * before 2.39, personality fields before 2.57). Quota sets: show (own project, or any for admins), detail, defaults, admin update.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import { atLeast } from '../microversion.js';
import { check } from '../../validate.js';
import { isAdmin } from '../../../controller/context.js';
import type { QuotaSet } from '../../../controller/compute/quotas.js';
import { enforce } from '../../../controller/policy/policy.js';

const QInt = Type.Union([Type.Integer({ minimum: -1 }), Type.String({ pattern: '^-?[0-9]+$' })]);
const QuotaUpdate = Type.Object({
  quota_set: Type.Object({
    instances: Type.Optional(QInt), cores: Type.Optional(QInt), ram: Type.Optional(QInt), key_pairs: Type.Optional(QInt),
    metadata_items: Type.Optional(QInt), server_groups: Type.Optional(QInt), server_group_members: Type.Optional(QInt),
    force: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

export function registerLimitRoutes(app: FastifyInstance, d: ComputeDeps): void {
  app.get('/v2.1/limits', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const projectId = isAdmin(req.ctx) && q.tenant_id ? q.tenant_id : req.ctx.projectId;
    const lim = await d.compute.quotas.limits(projectId);
    const use = await d.compute.quotas.usage(projectId, req.ctx.userId);
    const absolute: Record<string, number> = {
      maxServerMeta: lim.metadata_items, maxTotalKeypairs: lim.key_pairs,
      maxTotalInstances: lim.instances, maxTotalCores: lim.cores, maxTotalRAMSize: lim.ram,
      maxServerGroups: lim.server_groups, maxServerGroupMembers: lim.server_group_members,
      totalCoresUsed: use.cores, totalInstancesUsed: use.instances, totalRAMUsed: use.ram, totalServerGroupsUsed: 0,
    };
    if (!atLeast(req, '2.39')) absolute.maxImageMeta = lim.metadata_items;
    if (!atLeast(req, '2.57')) Object.assign(absolute, { maxPersonality: 5, maxPersonalitySize: 10240 });
    if (!atLeast(req, '2.36')) {
      Object.assign(absolute, { maxSecurityGroups: 10, maxSecurityGroupRules: 20, maxTotalFloatingIps: 10, totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 1 });
    }
    return { limits: { rate: [], absolute } };
  });

  /** the quotas Nova still shows at the request's version beside novalet's own, at fixed values */
  const legacy = (req: FastifyRequest): Record<string, number> => ({
    ...(!atLeast(req, '2.57') ? { injected_files: 5, injected_file_content_bytes: 10240, injected_file_path_bytes: 255 } : {}),
    ...(!atLeast(req, '2.36') ? { fixed_ips: -1, floating_ips: -1, security_group_rules: -1, security_groups: -1 } : {}),
  });
  const view = (req: FastifyRequest, id: string, l: QuotaSet): Record<string, unknown> => ({ id, ...l, ...legacy(req) });
  const mayRead = (req: FastifyRequest<{ Params: { pid: string } }>) => {
    enforce(req.ctx, 'os_compute_api:os-quota-sets:show', req.params.pid);
  };
  type P = { Params: { pid: string } };
  app.get<P>('/v2.1/os-quota-sets/:pid', async (req) => { mayRead(req); return { quota_set: view(req, req.params.pid, await d.compute.quotas.limits(req.params.pid)) }; });
  app.get<P>('/v2.1/os-quota-sets/:pid/defaults', async (req) => ({ quota_set: view(req, req.params.pid, d.cfg.quotaDefaults) }));
  app.get<P>('/v2.1/os-quota-sets/:pid/detail', async (req) => {
    mayRead(req);
    const l = await d.compute.quotas.limits(req.params.pid);
    const use = await d.compute.quotas.usage(req.params.pid, req.ctx.userId);
    const used: Record<string, number> = { instances: use.instances, cores: use.cores, ram: use.ram, key_pairs: use.keyPairs };
    const out: Record<string, unknown> = { id: req.params.pid };
    for (const [k, v] of Object.entries({ ...l, ...legacy(req) })) out[k] = { limit: v, in_use: used[k] ?? 0, reserved: 0 };
    return { quota_set: out };
  });
  app.put<P>('/v2.1/os-quota-sets/:pid', async (req) => {
    enforce(req.ctx, 'os_compute_api:os-quota-sets:update');
    const b = check(QuotaUpdate, req.body).quota_set;
    const changes: Partial<QuotaSet> = {};
    for (const [k, v] of Object.entries(b)) if (k !== 'force' && v !== undefined) (changes as Record<string, number>)[k] = Number(v);
    const l = await d.compute.quotas.update(req.params.pid, changes);
    const v = view(req, req.params.pid, l);
    delete v.id;
    return { quota_set: v };
  });
}
