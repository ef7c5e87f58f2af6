/** /v3/{project}/snapshots: list (+detail; volume_id, all_tenants), create (202; force for in-use), show, update, delete (202). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { badRequest } from '../../controller/errors.js';
import { check } from '../validate.js';
import type { VolumeApi } from './routes.js';
import { snapshotView } from './views.js';

const Text = Type.Union([Type.Null(), Type.String({ maxLength: 255 })]);
const Bool = Type.Union([Type.Boolean(), Type.String()]);
const Create = Type.Object({
  snapshot: Type.Object({
    volume_id: Type.String({ format: 'uuid' }), name: Type.Optional(Text), description: Type.Optional(Type.Union([Type.Null(), Type.String()])),
    display_name: Type.Optional(Text), display_description: Type.Optional(Type.Union([Type.Null(), Type.String()])),
    force: Type.Optional(Bool), metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
  }, { additionalProperties: false }),
});
const Update = Type.Object({
  snapshot: Type.Object({
    name: Type.Optional(Text), description: Type.Optional(Type.Union([Type.Null(), Type.String()])),
    display_name: Type.Optional(Text), display_description: Type.Optional(Type.Union([Type.Null(), Type.String()])),
  }, { additionalProperties: false }),
});

type P = { Params: { p: string; id: string } };
const truthy = (v: unknown) => v === true || (typeof v === 'string' && /^(true|1|yes|on|t|y)$/i.test(v));

export function registerSnapshotRoutes(app: FastifyInstance, api: VolumeApi): void {
  const volumes = api.compute.volumes;
  const list = (full: boolean) => async (req: FastifyRequest) => {
    const q = req.query as Record<string, string | undefined>;
    let all = (await volumes.listSnapshots(req.ctx, { allTenants: truthy(q.all_tenants), ...(q.volume_id ? { volumeId: q.volume_id } : {}) })).reverse();
    if (q.status) all = all.filter((s) => s.status === q.status);
    if (q.name) all = all.filter((s) => s.name === q.name);
    if (q.limit !== undefined) all = all.slice(0, Number(q.limit) || 0);
    return { snapshots: all.map((s) => (full ? snapshotView(req, s) : { ...snapshotView(req, s) })) };
  };
  app.get('/v3/:p/snapshots', list(false));
  app.get('/v3/:p/snapshots/detail', list(true));

  app.post('/v3/:p/snapshots', async (req, reply) => {
    if (!req.body || typeof req.body !== 'object' || !('snapshot' in req.body)) throw badRequest("Missing required element 'snapshot' in request body.");
    const b = check(Create, req.body).snapshot;
    const s = await volumes.createSnapshot(req.ctx, {
      volumeId: b.volume_id, name: b.name ?? b.display_name ?? null, description: b.description ?? b.display_description ?? null,
      force: truthy(b.force), metadata: b.metadata ?? {},
    });
    return reply.code(202).send({ snapshot: snapshotView(req, s) });
  });

  app.get<P>('/v3/:p/snapshots/:id', async (req) => ({ snapshot: snapshotView(req, await volumes.getSnapshot(req.ctx, req.params.id)) }));

  app.put<P>('/v3/:p/snapshots/:id', async (req) => {
    if (!req.body || typeof req.body !== 'object' || !('snapshot' in req.body)) throw badRequest("Missing required element 'snapshot' in request body.");
    const b = check(Update, req.body).snapshot;
    const changes: { name?: string | null; description?: string | null } = {};
    if (b.name !== undefined || b.display_name !== undefined) changes.name = b.name ?? b.display_name ?? null;
    if (b.description !== undefined || b.display_description !== undefined) changes.description = b.description ?? b.display_description ?? null;
    return { snapshot: snapshotView(req, await volumes.updateSnapshot(req.ctx, req.params.id, changes)) };
  });

  app.delete<P>('/v3/:p/snapshots/:id', async (req, reply) => {
    await volumes.deleteSnapshot(req.ctx, req.params.id);
    return reply.code(202).send();
  });
}
