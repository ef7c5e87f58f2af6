/**
 * /v3/{project}/volumes: list (+detail; filters name, status, all_tenants, project_id; limit/marker), create (202),
 * show, update (name, description, metadata), delete (202; cascade, force), and actions (202): os-extend,
 * os-reset_status (admin), os-force_delete (admin), os-set_bootable.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Volume } from '../../store/index.js';
import { badRequest } from '../../controller/errors.js';
import { check } from '../validate.js';
import type { VolumeApi } from './routes.js';
import { volumeDetail, volumeSummary } from './views.js';

const Text = Type.Union([Type.Null(), Type.String({ maxLength: 255 })]);
const Size = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]+$' }), Type.Null()]);
const Uuid = Type.Union([Type.Null(), Type.String({ format: 'uuid' })]);
const Meta = Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String({ maxLength: 255 }));
const Create = Type.Object({
  volume: Type.Object({
    name: Type.Optional(Text), description: Type.Optional(Type.Union([Type.Null(), Type.String()])),
    display_name: Type.Optional(Text), display_description: Type.Optional(Type.Union([Type.Null(), Type.String()])),
    size: Type.Optional(Size), availability_zone: Type.Optional(Text), source_volid: Type.Optional(Uuid),
    snapshot_id: Type.Optional(Uuid), imageRef: Type.Optional(Text), image_id: Type.Optional(Text),
    volume_type: Type.Optional(Text), metadata: Type.Optional(Meta), multiattach: Type.Optional(Type.Boolean()),
    consistencygroup_id: Type.Optional(Type.Null()), backup_id: Type.Optional(Type.Null()),
  }, { additionalProperties: false }),
  'OS-SCH-HNT:scheduler_hints': Type.Optional(Type.Unknown()),
});
const Update = Type.Object({
  volume: Type.Object({
    name: Type.Optional(Text), description: Type.Optional(Type.Union([Type.Null(), Type.String()])),
    display_name: Type.Optional(Text), display_description: Type.Optional(Type.Union([Type.Null(), Type.String()])),
    metadata: Type.Optional(Meta),
  }, { additionalProperties: false }),
});

type P = { Params: { p: string; id: string } };

const flag = (v: unknown): boolean => typeof v === 'string' ? /^(1|t|true|on|y|yes)$/i.test(v) : v === true;

export function registerVolumeRoutes(app: FastifyInstance, api: VolumeApi): void {
  const volumes = api.compute.volumes;
  const detail = async (req: FastifyRequest, v: Volume) => {
    const [type, atts] = await Promise.all([volumes.getType(req.ctx, v.volumeTypeId).catch(() => undefined), api.compute.volumeAttachments.list(req.ctx, { volumeId: v.id, allTenants: true })]);
    return volumeDetail(req, api.base, v, type, atts);
  };

  const list = (full: boolean) => async (req: FastifyRequest) => {
    const q = req.query as Record<string, string | undefined>;
    let all = await volumes.list(req.ctx, {
      allTenants: flag(q.all_tenants), ...(q.project_id ? { projectId: q.project_id } : {}),
      ...(q.name !== undefined ? { name: q.name } : {}), ...(q.status !== undefined ? { status: q.status } : {}),
    });
    if (q.sort_dir === 'desc' || /:desc$/.test(q.sort ?? '')) all = all.reverse();
    else if (!q.sort && !q.sort_key) all = all.reverse(); // Cinder's default: created_at descending
    if (q.marker !== undefined) {
      const i = all.findIndex((v) => v.id === q.marker);
      if (i < 0) throw badRequest(`Marker ${q.marker} could not be found.`);
      all = all.slice(i + 1);
    }
    if (q.offset !== undefined) all = all.slice(Number(q.offset) || 0);
    if (q.limit !== undefined) {
      const n = Number(q.limit);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`Invalid input received: limit must be a non-negative integer.`);
      all = all.slice(0, n);
    }
    return { volumes: full ? await Promise.all(all.map((v) => detail(req, v))) : all.map((v) => volumeSummary(api.base, v)) };
  };
  app.get('/v3/:p/volumes', list(false));
  app.get('/v3/:p/volumes/detail', list(true));

  app.post('/v3/:p/volumes', async (req, reply) => {
    if (!req.body || typeof req.body !== 'object' || !('volume' in req.body)) throw badRequest("Missing required element 'volume' in request body.");
    const b = check(Create, req.body).volume;
    const v = await volumes.create(req.ctx, {
      ...(b.size !== undefined && b.size !== null ? { size: Number(b.size) } : {}),
      name: b.name ?? b.display_name ?? null, description: b.description ?? b.display_description ?? null,
      volumeType: b.volume_type ?? null, availabilityZone: b.availability_zone ?? null, snapshotId: b.snapshot_id ?? null,
      sourceVolid: b.source_volid ?? null, imageRef: b.imageRef ?? b.image_id ?? null, metadata: b.metadata ?? {},
    });
    return reply.code(202).send({ volume: await detail(req, v) });
  });

  app.get<P>('/v3/:p/volumes/:id', async (req) => ({ volume: await detail(req, await volumes.get(req.ctx, req.params.id)) }));

  app.put<P>('/v3/:p/volumes/:id', async (req) => {
    if (!req.body || typeof req.body !== 'object' || !('volume' in req.body)) throw badRequest("Missing required element 'volume' in request body.");
    const b = check(Update, req.body).volume;
    const changes: { name?: string | null; description?: string | null; metadata?: Record<string, string> } = {};
    if (b.name !== undefined || b.display_name !== undefined) changes.name = b.name ?? b.display_name ?? null;
    if (b.description !== undefined || b.display_description !== undefined) changes.description = b.description ?? b.display_description ?? null;
    if (b.metadata !== undefined) changes.metadata = b.metadata;
    return { volume: await detail(req, await volumes.update(req.ctx, req.params.id, changes)) };
  });

  app.delete<P>('/v3/:p/volumes/:id', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    await volumes.delete(req.ctx, req.params.id, { cascade: flag(q.cascade), force: flag(q.force) });
    return reply.code(202).send();
  });

  app.post<P>('/v3/:p/volumes/:id/action', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Malformed request body');
    const [name] = Object.keys(body);
    const arg = (body as Record<string, unknown>)[name ?? ''] as Record<string, unknown> | null;
    const id = req.params.id;
    switch (name) {
      case 'os-extend':
        await volumes.extend(req.ctx, id, typeof arg?.new_size === 'string' && /^\d+$/.test(arg.new_size) ? Number(arg.new_size) : arg?.new_size);
        break;
      case 'os-reset_status':
        if (!arg || (arg.status === undefined && arg.attach_status === undefined && arg.migration_status === undefined)) {
          throw badRequest('Invalid input received: Must specify \'status\', \'attach_status\' or \'migration_status\' for update.');
        }
        if (arg.status !== undefined) await volumes.resetStatus(req.ctx, id, arg.status);
        else await volumes.get(req.ctx, id);
        break;
      case 'os-force_delete':
        await volumes.delete(req.ctx, id, { force: true });
        break;
      case 'os-set_bootable': {
        const b = arg?.bootable;
        if (typeof b !== 'boolean' && !(typeof b === 'string' && /^(true|false)$/i.test(b))) throw badRequest('Invalid input received: Invalid value for bootable.');
        await volumes.setBootable(req.ctx, id, b === true || (typeof b === 'string' && b.toLowerCase() === 'true'));
        return reply.code(200).send();
      }
      default:
        throw badRequest(`There is no such action: ${name ?? ''}`);
    }
    return reply.code(202).send();
  });
}
