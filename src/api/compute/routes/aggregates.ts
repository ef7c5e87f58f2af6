/** /os-aggregates (admin): host aggregates are not modelled yet; an empty list keeps `hypervisor show` working. */
import type { FastifyInstance } from 'fastify';
import { isAdmin } from '../../../controller/context.js';
import { forbidden } from '../../../controller/errors.js';

export function registerAggregateRoutes(app: FastifyInstance): void {
  app.get('/v2.1/os-aggregates', async (req) => {
    if (!isAdmin(req.ctx)) throw forbidden("Policy doesn't allow os_compute_api:os-aggregates:index to be performed.");
    return { aggregates: [] };
  });
}
