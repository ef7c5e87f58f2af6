/** /v3/{project}/types: list, show (`default` too), and for admins create, update, delete, extra_specs. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { badRequest } from '../../controller/errors.js';
import { check } from '../validate.js';
import type { VolumeApi } from './routes.js';
import { typeView } from './views.js';

const Specs = Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }));
const Create = Type.Object({
  volume_type: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255 }), description: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 255 })])),
    'os-volume-type-access:is_public': Type.Optional(Type.Boolean()), extra_specs: Type.Optional(Specs),
  }, { additionalProperties: false }),
});
const Update = Type.Object({
  volume_type: Type.Object({
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), description: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 255 })])),
    is_public: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false }),
});

type P = { Params: { p: string; id: string } };
type K = { Params: { p: string; id: string; key: string } };

export function registerTypeRoutes(app: FastifyInstance, api: VolumeApi): void {
  const volumes = api.compute.volumes;
  app.get('/v3/:p/types', async (req) => ({ volume_types: (await volumes.listTypes(req.ctx)).map((t) => typeView(req, t)) }));
  app.get<P>('/v3/:p/types/:id', async (req) => ({ volume_type: typeView(req, await volumes.getType(req.ctx, req.params.id)) }));
  app.post('/v3/:p/types', async (req) => {
    const b = check(Create, req.body).volume_type;
    const t = await volumes.createType(req.ctx, {
      name: b.name, description: b.description ?? null, isPublic: b['os-volume-type-access:is_public'] ?? true, extraSpecs: b.extra_specs ?? {},
    });
    return { volume_type: typeView(req, t) };
  });
  app.put<P>('/v3/:p/types/:id', async (req) => {
    const b = check(Update, req.body).volume_type;
    if (b.name === undefined && b.description === undefined && b.is_public === undefined) throw badRequest('Specify volume type name, description, is_public or a combination thereof.');
    const t = await volumes.updateType(req.ctx, req.params.id, {
      ...(b.name !== undefined ? { name: b.name } : {}), ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.is_public !== undefined ? { isPublic: b.is_public } : {}),
    });
    return { volume_type: typeView(req, t) };
  });
  app.delete<P>('/v3/:p/types/:id', async (req, reply) => {
    await volumes.deleteType(req.ctx, req.params.id);
    return reply.code(202).send();
  });
  app.get<P>('/v3/:p/types/:id/extra_specs', async (req) => ({ extra_specs: (await volumes.getType(req.ctx, req.params.id)).extraSpecs }));
  app.post<P>('/v3/:p/types/:id/extra_specs', async (req) => {
    const specs = check(Type.Object({ extra_specs: Specs }), req.body).extra_specs;
    const t = await volumes.getType(req.ctx, req.params.id);
    const u = await volumes.updateType(req.ctx, t.id, { extraSpecs: { ...t.extraSpecs, ...specs } });
    return { extra_specs: u.extraSpecs };
  });
  app.delete<K>('/v3/:p/types/:id/extra_specs/:key', async (req, reply) => {
    const t = await volumes.getType(req.ctx, req.params.id);
    if (!(req.params.key in t.extraSpecs)) throw badRequest(`Volume Type ${t.id} has no extra specs with key ${req.params.key}.`);
    const rest = { ...t.extraSpecs };
    delete rest[req.params.key];
    await volumes.updateType(req.ctx, t.id, { extraSpecs: rest });
    return reply.code(202).send();
  });
}
