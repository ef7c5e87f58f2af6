/**
 * /os-migrations (admin): migration records arrive with the multi-host work (cold/live migration, evacuation);
 * until then no migration can exist, so the honest answer is an empty list (with Nova's filters validated).
 */
import type { FastifyInstance } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import { changesWindow } from '../list-query.js';
import { enforce } from '../../../controller/policy/policy.js';

export function registerMigrationRoutes(app: FastifyInstance, d: ComputeDeps): void {
  void d;
  app.get('/v2.1/os-migrations', async (req) => {
    enforce(req.ctx, 'os_compute_api:os-migrations:index');
    changesWindow(req, '2.59'); // Nova's date filters (2.59, changes-before 2.66): ISO 8601 or 400
    return { migrations: [] };
  });
}
