/** lock (with an optional reason, shown from 2.73) / unlock: 202. */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import type { ActionTable } from './types.js';
import { Empty } from './bodies.js';
import { printable } from '../schemas/strings.js';

const Lock = Type.Union([Type.Null(), Type.Object({ locked_reason: Type.Optional(printable({ minLength: 1, maxLength: 255 })) }, { additionalProperties: false })]);

export const lockActions: ActionTable = {
  lock: async ({ req, reply, id, body, d }) => {
    const b = check(Lock, body);
    // Nova refuses locked_reason below 2.73, but openstacksdk 0.101 sends it without a microversion header:
    // accepted at every version (deliberate leniency; the reason is only shown from 2.73)
    await d.compute.actions.lock(req.ctx, id, b?.locked_reason ?? null);
    reply.code(202);
  },
  unlock: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.actions.unlock(req.ctx, id); reply.code(202); },
};
