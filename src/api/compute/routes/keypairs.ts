/**
 * /os-keypairs. Versions: 2.2 type + 201/204 status codes, 2.10 user_id (admin), 2.35 limit/marker, 2.92 import
 * only (public_key required; generation refused).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import { lastParam, parseLimit } from '../../query.js';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { badRequest } from '../../../controller/errors.js';
import type { Keypair } from '../../../store/index.js';
import { enforce } from '../../../controller/policy/policy.js';

const KeypairCreate = Type.Object({
  keypair: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 255 }),
    public_key: Type.Optional(Type.String()),
    type: Type.Optional(Type.Union([Type.Literal('ssh'), Type.Literal('x509')])),
    user_id: Type.Optional(Type.String()),
    key_type: Type.Optional(Type.Union([Type.Literal('rsa'), Type.Literal('ed25519')])),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

type P = { Params: { name: string } };

export function registerKeypairRoutes(app: FastifyInstance, d: ComputeDeps): void {
  /** user_id query/body: from 2.10, admins act for other users */
  const userFor = (req: FastifyRequest, requested: string | undefined): string => {
    if (requested === undefined || requested === req.ctx.userId) return req.ctx.userId;
    if (!atLeast(req, '2.10')) return req.ctx.userId;
    enforce(req.ctx, 'os_compute_api:os-keypairs:index');
    return requested;
  };
  const view = (req: FastifyRequest, k: Keypair, full: boolean) => {
    const v: Record<string, unknown> = { name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint };
    if (atLeast(req, '2.2')) v.type = k.type;
    if (full) Object.assign(v, { user_id: k.userId, created_at: k.createdAt.replace(/\.(\d{3})Z$/, '.$1000'), deleted: false, deleted_at: null, updated_at: null, id: 0 });
    return v;
  };

  app.get('/v2.1/os-keypairs', async (req) => {
    const q = req.query as Record<string, unknown>;
    const userId = userFor(req, lastParam(q.user_id));
    let limit: number | undefined; let marker: string | undefined;
    if (atLeast(req, '2.35')) {
      limit = parseLimit(q.limit, d.cfg.maxLimit);
      marker = lastParam(q.marker);
      await d.compute.keypairs.checkMarker(userId, marker);
    }
    const list = await d.compute.keypairs.list(req.ctx, userId, { ...(limit !== undefined ? { limit } : {}), ...(marker !== undefined ? { marker } : {}) });
    const body: Record<string, unknown> = { keypairs: list.map((k) => ({ keypair: view(req, k, false) })) };
    if (limit !== undefined && list.length === limit && limit > 0) {
      body.keypairs_links = [{ rel: 'next', href: `${d.urls.versioned}/os-keypairs?limit=${limit}&marker=${encodeURIComponent(list[list.length - 1]!.name)}` }];
    }
    return body;
  });

  app.post('/v2.1/os-keypairs', async (req, reply) => {
    const k = check(KeypairCreate, req.body).keypair;
    if (k.type !== undefined && !atLeast(req, '2.2')) throw badRequest("Invalid input for field/attribute keypair. Additional properties are not allowed ('type' was unexpected)");
    if (k.user_id !== undefined && !atLeast(req, '2.10')) throw badRequest("Invalid input for field/attribute keypair. Additional properties are not allowed ('user_id' was unexpected)");
    if (k.public_key === undefined && atLeast(req, '2.92')) throw badRequest("Invalid input for field/attribute keypair. Value: {...}. 'public_key' is a required property");
    // before 2.92 names are restricted to a safe character set
    if (!atLeast(req, '2.92') && !/^[a-zA-Z0-9 _.@-]+$/.test(k.name)) throw badRequest('Keypair data is invalid: Keypair name contains unsafe characters');
    if (k.name.trim() !== k.name) throw badRequest('Keypair data is invalid: Keypair name must be string and between 1 and 255 characters long');
    const userId = userFor(req, k.user_id);
    const r = await d.compute.keypairs.create(req.ctx, userId, k.name, k.type ?? 'ssh', k.public_key, k.key_type ?? 'rsa');
    reply.code(atLeast(req, '2.2') ? 201 : 200);
    const v: Record<string, unknown> = { ...view(req, r.keypair, false), user_id: r.keypair.userId };
    if (r.privateKey !== undefined) v.private_key = r.privateKey;
    return { keypair: v };
  });

  app.get<P>('/v2.1/os-keypairs/:name', async (req) => {
    const userId = userFor(req, lastParam((req.query as Record<string, unknown>).user_id));
    return { keypair: view(req, await d.compute.keypairs.get(userId, req.params.name), true) };
  });

  app.delete<P>('/v2.1/os-keypairs/:name', async (req, reply) => {
    const userId = userFor(req, lastParam((req.query as Record<string, unknown>).user_id));
    await d.compute.keypairs.delete(userId, req.params.name);
    return reply.code(atLeast(req, '2.2') ? 204 : 202).send();
  });
}
