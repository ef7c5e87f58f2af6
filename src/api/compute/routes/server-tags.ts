/** /servers/{id}/tags (2.26+): list, replace, check, add, delete one, delete all. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import { check } from '../../validate.js';
import { serverId } from './servers.js';
import { requireVersion } from '../microversion.js';
import { badRequest, notFound } from '../../../controller/errors.js';

const Tag = Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' });
const Tags = Type.Object({ tags: Type.Array(Tag, { maxItems: 50 }) }, { additionalProperties: false });
const MAX_TAGS = 50;
type P = { Params: { id: string; tag: string } };

export function registerServerTagRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const get = async (req: FastifyRequest<P>) => { requireVersion(req, '2.26'); return d.compute.servers.get(req.ctx, serverId(req)); };
  app.get<P>('/v2.1/servers/:id/tags', async (req) => ({ tags: (await get(req)).tags }));
  app.put<P>('/v2.1/servers/:id/tags', async (req) => {
    const s = await get(req);
    const b = check(Tags, req.body);
    await d.store.setServerTags(s.id, [...new Set(b.tags)]);
    return { tags: (await d.store.getServer(s.id))!.tags };
  });
  app.delete<P>('/v2.1/servers/:id/tags', async (req, reply) => {
    const s = await get(req);
    await d.store.setServerTags(s.id, []);
    return reply.code(204).send();
  });
  app.get<P>('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    const s = await get(req);
    if (!s.tags.includes(req.params.tag)) throw notFound(`Tag ${req.params.tag} could not be found.`);
    return reply.code(204).send();
  });
  app.put<P>('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    const s = await get(req);
    check(Tag, req.params.tag);
    if (s.tags.includes(req.params.tag)) return reply.code(204).send();
    if (s.tags.length >= MAX_TAGS) throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
    await d.store.addServerTag(s.id, req.params.tag);
    reply.header('Location', `${d.urls.versioned}/servers/${s.id}/tags/${encodeURIComponent(req.params.tag)}`);
    return reply.code(201).send();
  });
  app.delete<P>('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    const s = await get(req);
    if (!(await d.store.deleteServerTag(s.id, req.params.tag))) throw notFound(`Tag ${req.params.tag} could not be found.`);
    return reply.code(204).send();
  });
}
