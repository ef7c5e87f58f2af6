/** lock (reason from 2.73) / unlock: 202. */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { badRequest } from '../../../controller/errors.js';
import type { ActionTable } from './types.js';
import { Empty } from './bodies.js';

const Lock = Type.Union([Type.Null(), Type.Object({ locked_reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }, { additionalProperties: false })]);

export const lockActions: ActionTable = {
  lock: async ({ req, reply, id, body, d }) => {
    const b = check(Lock, body);
    if (b?.locked_reason !== undefined && !atLeast(req, '2.73')) throw badRequest("Invalid input for field/attribute lock. Additional properties are not allowed ('locked_reason' was unexpected)");
    await d.compute.actions.lock(req.ctx, id, b?.locked_reason ?? null);
    reply.code(202);
  },
  unlock: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.unlock(req.ctx, id); reply.code(202); },
};
