/** /servers/{id}/tags (2.26+): list, replace, check, add, delete one, delete all. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import { check } from '../../validate.js';
import { Tag } from '../schemas/strings.js';
import { serverId } from './servers.js';
import { requireVersion } from '../microversion.js';
import { MAX_TAGS, tagNotFound } from '../../../controller/compute/server-meta.js';

const Tags = Type.Object({ tags: Type.Array(Tag, { maxItems: MAX_TAGS }) }, { additionalProperties: false });
type P = { Params: { id: string; tag: string } };

export function registerServerTagRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const get = async (req: FastifyRequest<P>) => { requireVersion(req, '2.26'); return d.compute.servers.get(req.ctx, serverId(req)); };
  app.get<P>('/v2.1/servers/:id/tags', async (req) => ({ tags: (await get(req)).tags }));
  app.put<P>('/v2.1/servers/:id/tags', async (req) => {
    const s = await get(req);
    const b = check(Tags, req.body);
    return { tags: await d.serverMeta.replaceTags(s, b.tags) };
  });
  app.delete<P>('/v2.1/servers/:id/tags', async (req, reply) => {
    const s = await get(req);
    await d.serverMeta.clearTags(s);
    return reply.code(204).send();
  });
  app.get<P>('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    const s = await get(req);
    if (!s.tags.includes(req.params.tag)) throw tagNotFound(req.params.tag);
    return reply.code(204).send();
  });
  app.put<P>('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    const s = await get(req);
    check(Tag, req.params.tag);
    if (!(await d.serverMeta.addTag(s, req.params.tag))) return reply.code(204).send();
    reply.header('Location', `${d.urls.versioned}/servers/${s.id}/tags/${encodeURIComponent(req.params.tag)}`);
    return reply.code(201).send();
  });
  app.delete<P>('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    const s = await get(req);
    await d.serverMeta.deleteTag(s, req.params.tag);
    return reply.code(204).send();
  });
}
