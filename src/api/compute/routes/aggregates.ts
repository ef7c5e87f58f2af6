/** /os-aggregates (admin): host aggregates are not modelled yet; an empty list keeps `hypervisor show` working. */
import type { FastifyInstance } from 'fastify';
import { enforce } from '../../../controller/policy/policy.js';

export function registerAggregateRoutes(app: FastifyInstance): void {
  app.get('/v2.1/os-aggregates', async (req) => {
    enforce(req.ctx, 'os_compute_api:os-aggregates:index');
    return { aggregates: [] };
  });
}
