/**
 * /servers/{id}/os-instance-actions: list and show with events. Events' traceback is admin-only (Nova policy);
 * from 2.21 deleted servers' actions stay visible; from 2.58 updated_at appears and changes-since filters (2.66
 * changes-before); 2.51 shows events to the project's members; 2.62 adds hostId (hashed) and host (admins).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import { isUuid } from '../../validate.js';
import { atLeast } from '../microversion.js';
import { changesWindow } from '../list-query.js';
import { hostIdOf } from '../views/server.js';
import { isAdmin } from '../../../controller/context.js';
import { instanceNotFound } from '../../../controller/errors.js';
import type { InstanceAction } from '../../../store/index.js';

type P = { Params: { id: string; rid: string } };
const usec = (t: string | null) => (t ? t.replace(/\.(\d{3})Z$/, '.$1000') : null);

export function registerInstanceActionRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const server = async (req: FastifyRequest<P>) => {
    const id = req.params.id;
    if (!isUuid(id)) throw instanceNotFound(id);
    return d.instanceActions.server(req.ctx, id, atLeast(req, '2.21'));
  };
  const view = (req: FastifyRequest, a: InstanceAction) => ({
    action: a.action, instance_uuid: a.serverId, request_id: a.requestId, user_id: a.userId, project_id: a.projectId,
    start_time: usec(a.startTime), message: a.message, ...(atLeast(req, '2.58') ? { updated_at: usec(a.updatedAt) } : {}),
  });
  app.get<P>('/v2.1/servers/:id/os-instance-actions', async (req) => {
    const s = await server(req);
    return { instanceActions: (await d.instanceActions.list(s, changesWindow(req, '2.58'))).map((a) => view(req, a)) };
  });
  app.get<P>('/v2.1/servers/:id/os-instance-actions/:rid', async (req) => {
    const s = await server(req);
    const { action: a, events: recorded } = await d.instanceActions.get(s, req.params.rid);
    const admin = isAdmin(req.ctx);
    // Nova: events for admins at every version, for the project's members from 2.51 (without traceback);
    // from 2.62 the hashed hostId for all and the host for admins
    if (!admin && !atLeast(req, '2.51')) return { instanceAction: view(req, a) };
    const events = recorded.map((e) => ({
      event: e.event, start_time: usec(e.startTime), finish_time: usec(e.finishTime), result: e.result,
      ...(admin ? { traceback: e.traceback } : {}),
      ...(atLeast(req, '2.62') ? { hostId: hostIdOf(a.projectId || s.projectId, e.host), ...(admin ? { host: e.host ?? '' } : {}) } : {}),
    }));
    return { instanceAction: { ...view(req, a), events } };
  });
}
