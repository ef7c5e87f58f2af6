/**
 * /os-server-groups: list (all_projects for admins, limit/offset), create (200), show, delete (204). Versions: 2.13
 * project_id/user_id in the view; 2.15 the soft policies; 2.64 `policy` + `rules` instead of `policies` + `metadata`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { badRequest } from '../../../controller/errors.js';
import type { ServerGroup, ServerGroupPolicy } from '../../../store/index.js';

const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '^(?! )[\\S ]*(?<! )$' });
const HARD = ['affinity', 'anti-affinity'] as const;
const ALL = [...HARD, 'soft-affinity', 'soft-anti-affinity'] as const;
const policies = (names: readonly string[]) => Type.Array(Type.Union(names.map((p) => Type.Literal(p))), { minItems: 1, maxItems: 1 });
const Before215 = Type.Object({ server_group: Type.Object({ name: Name, policies: policies(HARD) }, { additionalProperties: false }) }, { additionalProperties: false });
const Before264 = Type.Object({ server_group: Type.Object({ name: Name, policies: policies(ALL) }, { additionalProperties: false }) }, { additionalProperties: false });
const From264 = Type.Object({
  server_group: Type.Object({
    name: Name, policy: Type.Union(ALL.map((p) => Type.Literal(p))),
    rules: Type.Optional(Type.Object({ max_server_per_host: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[1-9][0-9]*$' })])) }, { additionalProperties: false })),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

type P = { Params: { id: string } };

export function registerServerGroupRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const groups = d.compute.serverGroups;
  const view = async (req: FastifyRequest, g: ServerGroup) => {
    const v: Record<string, unknown> = { id: g.id, name: g.name };
    if (atLeast(req, '2.64')) Object.assign(v, { policy: g.policy, rules: g.rules });
    else Object.assign(v, { policies: [g.policy], metadata: {} });
    v.members = await groups.members(g.id);
    if (atLeast(req, '2.13')) Object.assign(v, { project_id: g.projectId, user_id: g.userId });
    return v;
  };

  app.get('/v2.1/os-server-groups', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const all = await groups.list(req.ctx, q.all_projects !== undefined);
    const num = (name: string, dflt: number) => {
      const v = q[name];
      if (v === undefined) return dflt;
      if (!/^\d+$/.test(v)) throw badRequest(`${name} param must be an integer`);
      return Number(v);
    };
    const offset = num('offset', 0);
    const limit = Math.min(num('limit', d.cfg.maxLimit), d.cfg.maxLimit);
    return { server_groups: await Promise.all(all.slice(offset, offset + limit).map((g) => view(req, g))) };
  });

  app.post('/v2.1/os-server-groups', async (req) => {
    let g: ServerGroup;
    if (atLeast(req, '2.64')) {
      const b = check(From264, req.body).server_group;
      const max = b.rules?.max_server_per_host;
      g = await groups.create(req.ctx, b.name, b.policy as ServerGroupPolicy, max !== undefined ? { max_server_per_host: Number(max) } : {});
    } else {
      const b = check(atLeast(req, '2.15') ? Before264 : Before215, req.body).server_group;
      g = await groups.create(req.ctx, b.name, b.policies[0] as ServerGroupPolicy);
    }
    return { server_group: await view(req, g) };
  });

  app.get<P>('/v2.1/os-server-groups/:id', async (req) => ({ server_group: await view(req, await groups.get(req.ctx, req.params.id)) }));

  app.delete<P>('/v2.1/os-server-groups/:id', async (req, reply) => {
    await groups.delete(req.ctx, req.params.id);
    return reply.code(204).send();
  });
}
