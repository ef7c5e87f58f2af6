/** /os-availability-zone (+ /detail for admins): one zone until host aggregates exist. */
import type { FastifyInstance } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import { enforce } from '../../../controller/policy/policy.js';

export function registerAvailabilityZoneRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const zone = d.cfg.defaultAvailabilityZone;
  app.get('/v2.1/os-availability-zone', async () => ({ availabilityZoneInfo: [{ zoneName: zone, zoneState: { available: true }, hosts: null }] }));
  app.get('/v2.1/os-availability-zone/detail', async (req) => {
    enforce(req.ctx, 'os_compute_api:os-availability-zone:detail');
    // host listing arrives with the host registry (multi-host issue)
    return { availabilityZoneInfo: [{ zoneName: zone, zoneState: { available: true }, hosts: {} }] };
  });
}
