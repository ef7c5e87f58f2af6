/**
 * POST /servers/{id}/action: the body's single key names the action. Unknown -> 400 "There is no such action";
 * the server is looked up (404) before the action's own validation, as in Nova.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import { badRequest } from '../../../controller/errors.js';
import { ApiError } from '../../../controller/errors.js';
import { serverId } from './servers.js';
import type { ActionHandler } from '../actions/types.js';
import { powerActions } from '../actions/power.js';
import { resizeActions } from '../actions/resize.js';
import { imageActions } from '../actions/image.js';
import { rebuildActions } from '../actions/rebuild.js';
import { adminActions } from '../actions/admin.js';
import { lockActions } from '../actions/lock.js';
import { deferredDeleteActions } from '../actions/deferred-delete.js';
import { consoleActions } from '../actions/console.js';
import { backupActions } from '../actions/backup.js';
import { shelveActions } from '../actions/shelve.js';

import { securityGroupActions } from '../actions/security-groups.js';

/** a Map, not a plain object: a body key such as `constructor` or `toString` must name no action */
const ACTIONS: ReadonlyMap<string, ActionHandler> = new Map(Object.entries<ActionHandler>({
  ...powerActions, ...resizeActions, ...imageActions, ...rebuildActions, ...adminActions, ...lockActions, ...deferredDeleteActions, ...securityGroupActions,
  ...consoleActions, ...backupActions, ...shelveActions,
}));

export function registerServerActionRoutes(app: FastifyInstance, d: ComputeDeps): void {
  app.post('/v2.1/servers/:id/action', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const id = serverId(req);
    const body = req.body;
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError('malformed_body', 'Malformed request body');
    const keys = Object.keys(body);
    const name = keys.find((k) => ACTIONS.has(k));
    if (!name) throw badRequest(`There is no such action: ${keys[0] ?? ''}`);
    await d.compute.servers.get(req.ctx, id);
    const out = await ACTIONS.get(name)!({ req, reply, id, body: (body as Record<string, unknown>)[name], d });
    if (out === undefined) return reply.send();
    return out;
  });
}
