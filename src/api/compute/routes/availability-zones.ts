/**
 * /os-availability-zone (any user) and /detail (admin), from the host aggregates as Nova: every zone that holds a
 * host, available while one of its hosts is enabled; the default zone while no host has reported; /detail lists
 * each zone's hosts with their nova-compute service, and the internal zone with this controller's services.
 */
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import { enforce } from '../../../controller/policy/policy.js';
import { INTERNAL_ZONE } from '../../../controller/compute/aggregates.js';

const usec = (t: string | null) => (t ? t.replace(/Z$/, '').replace(/\.(\d{3})$/, '.$1000') : null);

export function registerAvailabilityZoneRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const reg = d.compute.hosts;
  const zones = async () => {
    const z = await d.compute.aggregates.zonesWithHosts(await reg.list());
    if (!z.size) z.set(d.cfg.defaultAvailabilityZone, []);
    return z;
  };
  const available = (hosts: { disabled: boolean }[]) => hosts.length === 0 || hosts.some((h) => !h.disabled);

  app.get('/v2.1/os-availability-zone', async () => ({
    availabilityZoneInfo: [...(await zones())].map(([name, hosts]) => ({ zoneName: name, zoneState: { available: available(hosts) }, hosts: null })),
  }));

  app.get('/v2.1/os-availability-zone/detail', async (req) => {
    enforce(req.ctx, 'os_compute_api:os-availability-zone:detail');
    const now = new Date().toISOString();
    const service = { available: true, active: true, updated_at: usec(now) };
    return {
      availabilityZoneInfo: [
        { zoneName: INTERNAL_ZONE, zoneState: { available: true }, hosts: { [hostname()]: { 'nova-conductor': service, 'nova-scheduler': service } } },
        ...[...(await zones())].map(([name, hosts]) => ({
          zoneName: name, zoneState: { available: available(hosts) },
          hosts: Object.fromEntries(hosts.map((h) => [h.name, {
            'nova-compute': { available: !h.disabled && reg.isUp(h), active: !h.disabled, updated_at: usec(h.lastSeenAt) },
          }])),
        })),
      ],
    };
  });
}
