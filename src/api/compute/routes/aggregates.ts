/**
 * /os-aggregates (admin): list, create, show, update, delete and the actions add_host, remove_host, set_metadata,
 * as Nova (aggregates.py): `uuid` from 2.41; create answers without hosts and metadata; errors from the service
 * (controller/compute/aggregates.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import type { Aggregate } from '../../../store/index.js';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { ApiError, badRequest } from '../../../controller/errors.js';
import { zoneOfAggregate } from '../../../controller/compute/aggregates.js';
import { Name, metadataOf } from '../schemas/strings.js';

/** Nova's availability_zone of aggregates: 1-255, no ':' (it would read as "az:host" at create) */
const Zone = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^:]*$' });
const Create = Type.Object({
  aggregate: Type.Object({ name: Name, availability_zone: Type.Optional(Type.Union([Zone, Type.Null()])) }, { additionalProperties: false }),
}, { additionalProperties: false });
const Update = Type.Object({
  aggregate: Type.Object({ name: Type.Optional(Name), availability_zone: Type.Optional(Type.Union([Zone, Type.Null()])) }, { additionalProperties: false, minProperties: 1 }),
}, { additionalProperties: false });
const Host = Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9][a-zA-Z0-9.:_-]*$' });
const AddHost = Type.Object({ add_host: Type.Object({ host: Host }, { additionalProperties: false }) }, { additionalProperties: false });
const RemoveHost = Type.Object({ remove_host: Type.Object({ host: Host }, { additionalProperties: false }) }, { additionalProperties: false });
const SetMetadata = Type.Object({
  set_metadata: Type.Object({ metadata: metadataOf(Type.Union([Type.String({ maxLength: 255, pattern: '^[^\\u0000]*$' }), Type.Null()])) }, { additionalProperties: false }),
}, { additionalProperties: false });

/** Nova's datetimes in aggregates: ISO without zone, microseconds */
const usec = (t: string | null) => (t ? t.replace(/Z$/, '').replace(/\.(\d{3})$/, '.$1000') : null);

type P = { Params: { id: string } };

export function registerAggregateRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const aggs = d.compute.aggregates;
  const view = (req: FastifyRequest, a: Aggregate, full = true) => ({
    availability_zone: zoneOfAggregate(a), created_at: usec(a.createdAt), deleted: false, deleted_at: null,
    ...(full ? { hosts: a.hosts } : {}), id: a.id, ...(full ? { metadata: a.metadata } : {}), name: a.name,
    updated_at: usec(a.updatedAt), ...(atLeast(req, '2.41') ? { uuid: a.uuid } : {}),
  });

  app.get('/v2.1/os-aggregates', async (req) => ({ aggregates: (await aggs.list(req.ctx)).map((a) => view(req, a)) }));

  app.post('/v2.1/os-aggregates', async (req) => {
    const b = check(Create, req.body).aggregate;
    return { aggregate: view(req, await aggs.create(req.ctx, b.name, b.availability_zone ?? null), false) };
  });

  app.get<P>('/v2.1/os-aggregates/:id', async (req) => ({ aggregate: view(req, await aggs.get(req.ctx, req.params.id)) }));

  app.put<P>('/v2.1/os-aggregates/:id', async (req) => {
    const b = check(Update, req.body).aggregate;
    return {
      aggregate: view(req, await aggs.update(req.ctx, req.params.id, {
        ...(b.name !== undefined ? { name: b.name } : {}), ...(b.availability_zone !== undefined ? { zone: b.availability_zone } : {}),
      })),
    };
  });

  app.delete<P>('/v2.1/os-aggregates/:id', async (req, reply) => {
    await aggs.delete(req.ctx, req.params.id);
    return reply.code(200).send();
  });

  app.post<P>('/v2.1/os-aggregates/:id/action', async (req) => {
    const body = req.body as Record<string, unknown> | null | undefined;
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError('malformed_body', 'Malformed request body');
    let a: Aggregate;
    if ('add_host' in body) a = await aggs.addHost(req.ctx, req.params.id, check(AddHost, body).add_host.host);
    else if ('remove_host' in body) a = await aggs.removeHost(req.ctx, req.params.id, check(RemoveHost, body).remove_host.host);
    else if ('set_metadata' in body) a = await aggs.setMetadata(req.ctx, req.params.id, check(SetMetadata, body).set_metadata.metadata);
    else throw badRequest('There is no such action: ' + (Object.keys(body)[0] ?? ''));
    return { aggregate: view(req, a) };
  });
}
