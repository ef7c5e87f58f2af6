/**
 * /servers/{id}/os-volume_attachments: list, show, attach (200 with the attachment), detach (202). Versions: 2.49
 * `tag`, 2.79 `delete_on_termination`, 2.89 `attachment_id` + `bdm_uuid` instead of `id`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { badRequest } from '../../../controller/errors.js';
import type { VolumeAttachment } from '../../../store/index.js';

const Uuid = Type.String({ format: 'uuid' });
const body = (withTag: boolean, withDot: boolean) => Type.Object({
  volumeAttachment: Type.Object({
    volumeId: Uuid,
    device: Type.Optional(Type.Union([Type.Null(), Type.String({ pattern: '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$' })])),
    ...(withTag ? { tag: Type.Optional(Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' })) } : {}),
    ...(withDot ? { delete_on_termination: Type.Optional(Type.Boolean()) } : {}),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

type P = { Params: { id: string; volumeId: string } };

export function view(req: FastifyRequest, a: VolumeAttachment): Record<string, unknown> {
  const v: Record<string, unknown> = { device: a.device, serverId: a.serverId, volumeId: a.volumeId };
  if (!atLeast(req, '2.89')) v.id = a.volumeId;
  if (atLeast(req, '2.70')) v.tag = a.tag;
  if (atLeast(req, '2.79')) v.delete_on_termination = a.deleteOnTermination;
  if (atLeast(req, '2.89')) { v.attachment_id = a.id; v.bdm_uuid = a.id; }
  return v;
}

export function registerVolumeAttachmentRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const sv = d.compute.serverVolumes;
  app.get<P>('/v2.1/servers/:id/os-volume_attachments', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const offset = q.offset !== undefined ? Number(q.offset) : 0;
    const limit = q.limit !== undefined ? Number(q.limit) : d.cfg.maxLimit;
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 0) throw badRequest('limit and offset must be non-negative integers');
    const all = await sv.list(req.ctx, req.params.id);
    return { volumeAttachments: all.slice(offset, offset + Math.min(limit, d.cfg.maxLimit)).map((a) => view(req, a)) };
  });
  app.get<P>('/v2.1/servers/:id/os-volume_attachments/:volumeId', async (req) => ({
    volumeAttachment: view(req, await sv.show(req.ctx, req.params.id, req.params.volumeId)),
  }));
  app.post<P>('/v2.1/servers/:id/os-volume_attachments', async (req) => {
    const b = check(body(atLeast(req, '2.49'), atLeast(req, '2.79')), req.body).volumeAttachment as {
      volumeId: string; device?: string | null; tag?: string; delete_on_termination?: boolean;
    };
    const a = await sv.attach(req.ctx, req.params.id, {
      volumeId: b.volumeId, device: b.device ?? null, tag: b.tag ?? null, deleteOnTermination: b.delete_on_termination ?? false,
    });
    return { volumeAttachment: view(req, a) };
  });
  app.put<P>('/v2.1/servers/:id/os-volume_attachments/:volumeId', async () => {
    throw badRequest('Swapping volumes is not supported.');
  });
  app.delete<P>('/v2.1/servers/:id/os-volume_attachments/:volumeId', async (req, reply) => {
    await sv.detach(req.ctx, req.params.id, req.params.volumeId);
    return reply.code(202).send();
  });
}
