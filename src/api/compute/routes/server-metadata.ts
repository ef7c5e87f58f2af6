/** /servers/{id}/metadata: list, replace (PUT), merge (POST), show/set/delete one key (ServerMetaService: lock, state, quota). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import { check } from '../../validate.js';
import { serverId } from './servers.js';
import { Metadata } from '../schemas/strings.js';
import { badRequest, notFound } from '../../../controller/errors.js';

const MetaBody = Type.Object({ metadata: Metadata }, { additionalProperties: false });
const MetaItem = Type.Object({ meta: Metadata }, { additionalProperties: false });
type P = { Params: { id: string; key: string } };

export function registerServerMetadataRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const write = (req: FastifyRequest<P>, md: Record<string, string>, replace: boolean) => d.serverMeta.setMetadata(req.ctx, serverId(req), md, replace);
  app.get<P>('/v2.1/servers/:id/metadata', async (req) => ({ metadata: (await d.compute.servers.get(req.ctx, serverId(req))).metadata }));
  app.put<P>('/v2.1/servers/:id/metadata', async (req) => ({ metadata: await write(req, check(MetaBody, req.body).metadata, true) }));
  app.post<P>('/v2.1/servers/:id/metadata', async (req) => ({ metadata: await write(req, check(MetaBody, req.body).metadata, false) }));
  app.get<P>('/v2.1/servers/:id/metadata/:key', async (req) => {
    const s = await d.compute.servers.get(req.ctx, serverId(req));
    const v = Object.hasOwn(s.metadata, req.params.key) ? s.metadata[req.params.key] : undefined;
    if (v === undefined) throw notFound('Metadata item was not found');
    return { meta: { [req.params.key]: v } };
  });
  app.put<P>('/v2.1/servers/:id/metadata/:key', async (req) => {
    const b = check(MetaItem, req.body);
    const keys = Object.keys(b.meta);
    if (keys.length !== 1) throw badRequest('Request body contains too many items');
    if (keys[0] !== req.params.key) throw badRequest('Request body and URI mismatch');
    const md = await write(req, b.meta, false);
    return { meta: { [req.params.key]: md[req.params.key] } };
  });
  app.delete<P>('/v2.1/servers/:id/metadata/:key', async (req, reply) => {
    await d.serverMeta.deleteMetadataKey(req.ctx, serverId(req), req.params.key);
    return reply.code(204).send();
  });
}
