/**
 * /v3/{project}/attachments (3.27+): list (+detail), show, create (reserve a volume for a server), complete
 * (os-complete: in-use), delete (the volume is available again). Records only: the compute side's
 * os-volume_attachments drives the hosts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { badRequest } from '../../controller/errors.js';
import { check } from '../validate.js';
import { requireVersion } from './microversion.js';
import type { VolumeApi } from './routes.js';
import { attachmentView } from './views.js';

const Create = Type.Object({
  attachment: Type.Object({
    volume_uuid: Type.String({ format: 'uuid' }), instance_uuid: Type.Optional(Type.Union([Type.Null(), Type.String({ format: 'uuid' })])),
    connector: Type.Optional(Type.Union([Type.Null(), Type.Object({}, { additionalProperties: true })])),
    mode: Type.Optional(Type.Union([Type.Literal('rw'), Type.Literal('ro')])),
  }, { additionalProperties: false }),
});

type P = { Params: { p: string; id: string } };

export function registerAttachmentRoutes(app: FastifyInstance, api: VolumeApi): void {
  const attachments = api.compute.volumeAttachments;
  const list = (detail: boolean) => async (req: FastifyRequest) => {
    requireVersion(req, '3.27');
    const q = req.query as Record<string, string | undefined>;
    const all = await attachments.list(req.ctx, { ...(q.volume_id ? { volumeId: q.volume_id } : {}), ...(q.instance_id ? { serverId: q.instance_id } : {}), allTenants: q.all_tenants !== undefined });
    return { attachments: all.map((a) => attachmentView(a, detail)) };
  };
  app.get('/v3/:p/attachments', list(false));
  app.get('/v3/:p/attachments/detail', list(true));
  app.get<P>('/v3/:p/attachments/:id', async (req) => {
    requireVersion(req, '3.27');
    return { attachment: attachmentView(await attachments.get(req.ctx, req.params.id), true) };
  });
  app.post('/v3/:p/attachments', async (req) => {
    requireVersion(req, '3.27');
    const b = check(Create, req.body).attachment;
    if (!b.instance_uuid) throw badRequest('Invalid input received: instance_uuid is required.');
    const a = await attachments.reserve(req.ctx, b.volume_uuid, b.instance_uuid);
    return { attachment: attachmentView(a, true) };
  });
  app.post<P>('/v3/:p/attachments/:id/action', async (req, reply) => {
    requireVersion(req, '3.44');
    const body = req.body as Record<string, unknown> | null;
    if (!body || typeof body !== 'object' || !('os-complete' in body)) throw badRequest(`There is no such action: ${Object.keys(body ?? {})[0] ?? ''}`);
    const a = await attachments.get(req.ctx, req.params.id);
    await attachments.finish(a.id);
    return reply.code(204).send();
  });
  app.delete<P>('/v3/:p/attachments/:id', async (req) => {
    requireVersion(req, '3.27');
    const a = await attachments.get(req.ctx, req.params.id);
    await attachments.remove(a.id);
    return { attachments: [] };
  });
}
