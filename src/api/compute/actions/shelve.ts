/**
 * shelve, shelveOffload (admin), unshelve (Nova's shelve.py): 202 with no body. unshelve's body is not checked
 * before 2.77; 2.77 allows null or {"availability_zone": name}; 2.91 null or {availability_zone?: string|null,
 * host?: string}.
 */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { Name } from '../schemas/strings.js';
import type { UnshelveRequest } from '../../../controller/compute/shelving.js';
import type { ActionTable } from './types.js';
import { Empty } from './bodies.js';

const Unshelve277 = Type.Union([Type.Null(), Type.Object({ availability_zone: Name }, { additionalProperties: false })]);
const Unshelve291 = Type.Union([Type.Null(), Type.Object({
  availability_zone: Type.Optional(Type.Union([Type.Null(), Type.String()])),
  host: Type.Optional(Type.String()),
}, { additionalProperties: false })]);

function unshelveRequest(v: '2.77' | '2.91' | null, body: unknown): UnshelveRequest {
  if (v === null) return {};
  const b = v === '2.91' ? check(Unshelve291, body) : check(Unshelve277, body);
  if (b === null) return {};
  const host = 'host' in b ? b.host : undefined;
  return { ...(b.availability_zone !== undefined ? { availabilityZone: b.availability_zone } : {}), ...(host !== undefined ? { host } : {}) };
}

export const shelveActions: ActionTable = {
  shelve: async ({ req, reply, id, body, d }) => {
    check(Empty, body);
    await d.compute.shelving.shelve(req.ctx, id);
    reply.code(202);
  },
  shelveOffload: async ({ req, reply, id, body, d }) => {
    check(Empty, body);
    await d.compute.shelving.shelveOffload(req.ctx, id);
    reply.code(202);
  },
  unshelve: async ({ req, reply, id, body, d }) => {
    const v = atLeast(req, '2.91') ? '2.91' : atLeast(req, '2.77') ? '2.77' : null;
    await d.compute.shelving.unshelve(req.ctx, id, unshelveRequest(v, body));
    reply.code(202);
  },
};
