/** /servers/{id}/metadata: list, replace (PUT), merge (POST), show/set/delete one key. Writes obey the lock. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import { check } from '../../validate.js';
import { serverId } from './servers.js';
import { Metadata } from '../schemas/server-create.js';
import { badRequest, notFound, instanceLocked, invalidState } from '../../../controller/errors.js';
import { isAdmin, type RequestContext } from '../../../controller/context.js';

const MetaBody = Type.Object({ metadata: Metadata }, { additionalProperties: false });
const MetaItem = Type.Object({ meta: Metadata }, { additionalProperties: false });
type P = { Params: { id: string; key: string } };

export function registerServerMetadataRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const writable = async (ctx: RequestContext, id: string, action: string) => {
    const s = await d.compute.servers.get(ctx, id);
    if (s.locked && !isAdmin(ctx)) throw instanceLocked(id);
    // Nova refuses metadata changes while building or deleting
    if (s.vmState === 'building' || s.taskState === 'deleting') throw invalidState(action, id, 'vm_state', s.vmState);
    return s;
  };
  const write = async (req: FastifyRequest<P>, md: Record<string, string>, replace: boolean) => {
    const id = serverId(req);
    const s = await writable(req.ctx, id, replace ? 'update_all_metadata' : 'update_metadata');
    const total = replace ? Object.keys(md).length : new Set([...Object.keys(s.metadata), ...Object.keys(md)]).size;
    await d.compute.quotas.checkMetadata(req.ctx.projectId, total);
    return d.store.setServerMetadata(id, md, replace);
  };
  app.get<P>('/v2.1/servers/:id/metadata', async (req) => ({ metadata: (await d.compute.servers.get(req.ctx, serverId(req))).metadata }));
  app.put<P>('/v2.1/servers/:id/metadata', async (req) => ({ metadata: await write(req, check(MetaBody, req.body).metadata, true) }));
  app.post<P>('/v2.1/servers/:id/metadata', async (req) => ({ metadata: await write(req, check(MetaBody, req.body).metadata, false) }));
  app.get<P>('/v2.1/servers/:id/metadata/:key', async (req) => {
    const s = await d.compute.servers.get(req.ctx, serverId(req));
    const v = s.metadata[req.params.key];
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
    const id = serverId(req);
    await writable(req.ctx, id, 'delete_instance_metadata');
    if (!(await d.store.deleteServerMetadataKey(id, req.params.key))) throw notFound('Metadata item was not found');
    return reply.code(204).send();
  });
}
