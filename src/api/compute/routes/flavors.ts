/**
 * /flavors: list/detail (is_public incl. the literal "None" that openstackclient sends), show, admin create and
 * delete, description update (2.55), and os-extra_specs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import { lastParam, parseLimit } from '../../query.js';
import { check } from '../../validate.js';
import { atLeast, requireVersion } from '../microversion.js';
import { flavorBasic, flavorDetail } from '../views/flavor.js';
import { isAdmin } from '../../../controller/context.js';
import { badRequest } from '../../../controller/errors.js';
import { parseIsPublic as bool } from '../../../controller/compute/flavors.js';
import { metadataOf } from '../schemas/strings.js';
import { enforce } from '../../../controller/policy/policy.js';

type P = { Params: { id: string; key: string } };
const Int = (min: number, max = 2147483647) => Type.Union([Type.Integer({ minimum: min, maximum: max }), Type.String({ pattern: '^[0-9]+$' })]);

const FlavorCreate = Type.Object({
  flavor: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255 }),
    // Nova: string, number or null; a number becomes its string form (nova/compute/flavors.py create)
    id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' }), Type.Number(), Type.Null()])),
    ram: Int(1), vcpus: Int(1), disk: Int(0),
    'OS-FLV-EXT-DATA:ephemeral': Type.Optional(Int(0)),
    swap: Type.Optional(Type.Union([Int(0), Type.Literal('')])),
    rxtx_factor: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.String()])),
    'os-flavor-access:is_public': Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 65535 }), Type.Null()])),
  }, { additionalProperties: false }),
}, { additionalProperties: false });
const FlavorUpdate = Type.Object({ flavor: Type.Object({ description: Type.Union([Type.String({ maxLength: 65535 }), Type.Null()]) }, { additionalProperties: false }) }, { additionalProperties: false });
// Nova's flavors_extraspecs schema: metadata whose values may also be numbers
const ExtraSpecs = Type.Object({ extra_specs: metadataOf(Type.Union([Type.String({ maxLength: 255 }), Type.Number()])) }, { additionalProperties: false });


export function registerFlavorRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const adminOnly = (req: FastifyRequest, rule: string) => enforce(req.ctx, `os_compute_api:${rule}`);
  const find = (id: string) => d.flavors.get(id);

  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const q = req.query as Record<string, unknown>;
    // is_public: non-admins only see public flavors; admins see public by default, all with is_public=None
    const ip = lastParam(q.is_public);
    let includePrivate = false;
    if (isAdmin(req.ctx)) includePrivate = ip !== undefined && (ip.toLowerCase() === 'none' || !bool(ip, true));
    else if (ip !== undefined && ip.toLowerCase() !== 'none') bool(ip, true);
    const num = (k: string) => {
      const v = lastParam(q[k]);
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw badRequest(`Invalid ${k} filter [${v}]`);
      return Number(v);
    };
    const limit = parseLimit(q.limit, d.cfg.maxLimit);
    const marker = lastParam(q.marker);
    await d.flavors.checkMarker(marker);
    const sd = lastParam(q.sort_dir);
    const flavors = await d.flavors.list({
      includePrivate, ...(num('minRam') !== undefined ? { minRam: num('minRam')! } : {}), ...(num('minDisk') !== undefined ? { minDisk: num('minDisk')! } : {}),
      ...(lastParam(q.sort_key) ? { sortKey: lastParam(q.sort_key)! } : {}), ...(sd === 'asc' || sd === 'desc' ? { sortDir: sd } : {}),
      limit: limit ?? d.cfg.maxLimit, ...(marker !== undefined ? { marker } : {}),
    });
    const body: Record<string, unknown> = { flavors: flavors.map((f) => (detail ? flavorDetail(req, d.urls, f) : flavorBasic(req, d.urls, f))) };
    if (limit !== undefined && flavors.length === limit && limit > 0) {
      body.flavors_links = [{ rel: 'next', href: `${d.urls.versioned}/flavors${detail ? '/detail' : ''}?limit=${limit}&marker=${encodeURIComponent(flavors[flavors.length - 1]!.id)}` }];
    }
    return body;
  };
  app.get('/v2.1/flavors', list(false));
  app.get('/v2.1/flavors/detail', list(true));
  app.get<P>('/v2.1/flavors/:id', async (req) => ({ flavor: flavorDetail(req, d.urls, await find(req.params.id)) }));

  app.post('/v2.1/flavors', async (req) => {
    adminOnly(req, 'os-flavor-manage:create');
    const f = check(FlavorCreate, req.body).flavor;
    if (f.description !== undefined && !atLeast(req, '2.55')) throw badRequest("Invalid input for field/attribute flavor. Additional properties are not allowed ('description' was unexpected)");
    const flavor = await d.flavors.create({
      id: typeof f.id === 'number' ? String(f.id) : f.id, name: f.name, ram: f.ram, vcpus: f.vcpus, disk: f.disk, ephemeral: f['OS-FLV-EXT-DATA:ephemeral'], swap: f.swap,
      rxtxFactor: f.rxtx_factor, isPublic: f['os-flavor-access:is_public'], description: f.description,
    });
    return { flavor: flavorDetail(req, d.urls, flavor) };
  });

  app.put<P>('/v2.1/flavors/:id', async (req) => {
    requireVersion(req, '2.55');
    adminOnly(req, 'os-flavor-manage:update');
    const b = check(FlavorUpdate, req.body);
    return { flavor: flavorDetail(req, d.urls, await d.flavors.updateDescription(req.params.id, b.flavor.description)) };
  });

  app.delete<P>('/v2.1/flavors/:id', async (req, reply) => {
    adminOnly(req, 'os-flavor-manage:delete');
    await d.flavors.delete(req.params.id);
    return reply.code(202).send();
  });

  // extra specs
  app.get<P>('/v2.1/flavors/:id/os-extra_specs', async (req) => ({ extra_specs: (await find(req.params.id)).extraSpecs }));
  const asStrings = (o: Record<string, string | number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
  app.post<P>('/v2.1/flavors/:id/os-extra_specs', async (req) => {
    adminOnly(req, 'os-flavor-extra-specs:create');
    const b = check(ExtraSpecs, req.body);
    await d.flavors.setExtraSpecs(req.params.id, asStrings(b.extra_specs));
    // Nova answers the body as sent (numbers stay numbers), stores strings
    return b;
  });
  app.get<P>('/v2.1/flavors/:id/os-extra_specs/:key', async (req) => {
    return { [req.params.key]: await d.flavors.extraSpec(req.params.id, req.params.key) };
  });
  app.put<P>('/v2.1/flavors/:id/os-extra_specs/:key', async (req) => {
    adminOnly(req, 'os-flavor-extra-specs:update');
    const body = req.body as Record<string, unknown> | undefined;
    const keys = body && typeof body === 'object' ? Object.keys(body) : [];
    if (keys.length !== 1) throw badRequest('Request body contains too many items');
    if (keys[0] !== req.params.key) throw badRequest('Request body and URI mismatch');
    const specs = check(ExtraSpecs, { extra_specs: body }).extra_specs;
    await d.flavors.setExtraSpecs(req.params.id, asStrings(specs));
    return specs;
  });
  app.delete<P>('/v2.1/flavors/:id/os-extra_specs/:key', async (req, reply) => {
    adminOnly(req, 'os-flavor-extra-specs:delete');
    await d.flavors.deleteExtraSpec(req.params.id, req.params.key);
    return reply.code(202).send();
  });
}
