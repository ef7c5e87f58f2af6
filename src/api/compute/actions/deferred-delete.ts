/** restore / forceDelete (os-deferred-delete): 202. */
import { check } from '../../validate.js';
import type { ActionTable } from './types.js';
import { Empty } from './bodies.js';

export const deferredDeleteActions: ActionTable = {
  restore: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.servers.restore(req.ctx, id); reply.code(202); },
  forceDelete: async ({ req, reply, id, body, d }) => { check(Empty, body); await d.compute.servers.forceDelete(req.ctx, id); reply.code(202); },
};
