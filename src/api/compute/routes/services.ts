/**
 * /os-services and /os-hypervisors (admin): one nova-compute service and one hypervisor per registered host.
 * Ids are integers before 2.53 and UUIDs from 2.53 (Nova); forced_down appears from 2.11; 2.88 drops the
 * resource fields from hypervisors. Updates: PUT /os-services/{id} from 2.53, the enable/disable/force-down
 * forms before.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ComputeDeps } from '../deps.js';
import type { Host } from '../../../store/index.js';
import { check } from '../../validate.js';
import { atLeast, requireVersion } from '../microversion.js';
import { badRequest, notFound } from '../../../controller/errors.js';
import { enforce } from '../../../controller/policy/policy.js';
import { instanceName } from '../views/server.js';

const usec = (t: string | null) => (t ? t.replace(/\.(\d{3})Z$/, '.$1000') : null);
const ServiceUpdate = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])),
  disabled_reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  forced_down: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
const LegacyUpdate = Type.Object({
  host: Type.String({ minLength: 1 }), binary: Type.String({ minLength: 1 }),
  disabled_reason: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  forced_down: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export function registerServiceRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const reg = d.compute.hosts;
  const admin = (req: FastifyRequest, rule: string) => enforce(req.ctx, `os_compute_api:${rule}`);
  const ids = async () => new Map((await reg.list()).map((h, i) => [h.name, i + 1]));

  const serviceView = (req: FastifyRequest, h: Host, intId: number) => ({
    id: atLeast(req, '2.53') ? h.serviceId : intId, binary: 'nova-compute', host: h.name, zone: d.compute.aggregates.zoneOf(h.name),
    status: h.disabled ? 'disabled' : 'enabled', state: reg.isUp(h) ? 'up' : 'down', updated_at: usec(h.lastSeenAt),
    disabled_reason: h.disabledReason, ...(atLeast(req, '2.11') ? { forced_down: h.forcedDown } : {}),
  });

  app.get('/v2.1/os-services', async (req) => {
    admin(req, 'os-services:list');
    const q = req.query as Record<string, string | undefined>;
    const n = await ids();
    const hosts = (await reg.list()).filter((h) => (!q.host || h.name === q.host) && (!q.binary || q.binary === 'nova-compute'));
    return { services: hosts.map((h) => serviceView(req, h, n.get(h.name)!)) };
  });

  app.put<{ Params: { id: string } }>('/v2.1/os-services/:id', async (req) => {
    admin(req, 'os-services:update');
    const legacy = ['enable', 'disable', 'disable-log-reason', 'force-down'];
    if (legacy.includes(req.params.id)) {
      if (atLeast(req, '2.53')) throw notFound('The resource could not be found.');
      if (req.params.id === 'force-down' && !atLeast(req, '2.11')) throw notFound('The resource could not be found.');
      const b = check(LegacyUpdate, req.body);
      if (b.binary !== 'nova-compute') throw notFound(`Service ${b.binary} on host ${b.host} could not be found.`);
      await reg.get(b.host).catch(() => { throw notFound(`Host ${b.host} could not be found.`); });
      switch (req.params.id) {
        case 'enable': await reg.update(b.host, { disabled: false, disabledReason: null }); return { service: { host: b.host, binary: b.binary, status: 'enabled' } };
        case 'disable': await reg.update(b.host, { disabled: true }); return { service: { host: b.host, binary: b.binary, status: 'disabled' } };
        case 'disable-log-reason':
          if (!b.disabled_reason) throw badRequest('Missing disabled reason field');
          await reg.update(b.host, { disabled: true, disabledReason: b.disabled_reason });
          return { service: { host: b.host, binary: b.binary, status: 'disabled', disabled_reason: b.disabled_reason } };
        default:
          if (b.forced_down === undefined) throw badRequest('Missing forced_down field');
          await reg.update(b.host, { forcedDown: b.forced_down });
          return { service: { host: b.host, binary: b.binary, forced_down: b.forced_down } };
      }
    }
    requireVersion(req, '2.53');
    const b = check(ServiceUpdate, req.body);
    if (b.disabled_reason !== undefined && b.status !== 'disabled') throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
    if (b.status === undefined && b.forced_down === undefined) throw badRequest("At least one of 'status' or 'forced_down' must be specified in the request body.");
    const h = await reg.byServiceId(req.params.id);
    const updated = await reg.update(h.name, {
      ...(b.status !== undefined ? { disabled: b.status === 'disabled', disabledReason: b.status === 'disabled' ? b.disabled_reason ?? null : null } : {}),
      ...(b.forced_down !== undefined ? { forcedDown: b.forced_down } : {}),
    });
    return { service: serviceView(req, updated, 0) };
  });

  const hypervisorView = async (req: FastifyRequest, h: Host, intId: number, detail: boolean) => {
    const v: Record<string, unknown> = {
      id: atLeast(req, '2.53') ? h.hypervisorId : intId, hypervisor_hostname: h.name,
      state: reg.isUp(h) ? 'up' : 'down', status: h.disabled ? 'disabled' : 'enabled',
    };
    if (!detail) return v;
    Object.assign(v, {
      hypervisor_type: h.hypervisorType, hypervisor_version: h.hypervisorVersion, host_ip: h.hostIp,
      service: { id: atLeast(req, '2.53') ? h.serviceId : intId, host: h.name, disabled_reason: h.disabledReason },
    });
    if (!atLeast(req, '2.88')) {
      const u = await reg.usage(h.name);
      Object.assign(v, {
        vcpus: h.vcpus, memory_mb: h.memoryMb, local_gb: h.diskGb, vcpus_used: u.vcpus, memory_mb_used: u.memoryMb,
        local_gb_used: u.diskGb, free_ram_mb: h.memoryMb - u.memoryMb, free_disk_gb: h.diskGb - u.diskGb, current_workload: 0,
        running_vms: u.instances, disk_available_least: h.diskGb - u.diskGb, cpu_info: '{}',
      });
    }
    return v;
  };
  const hypervisors = (detail: boolean) => async (req: FastifyRequest) => {
    admin(req, 'os-hypervisors:list');
    const n = await ids();
    const q = req.query as Record<string, string | undefined>;
    const hosts = (await reg.list()).filter((h) => !q.hypervisor_hostname_pattern || h.name.includes(q.hypervisor_hostname_pattern));
    // with_servers (2.53): each hypervisor's servers as {name, uuid} (nova host-evacuate reads them); the key is
    // there even when empty from 2.75, left out before
    const withServers = atLeast(req, '2.53') && ['true', '1', 'yes', 'on'].includes(String(q.with_servers ?? '').toLowerCase());
    return {
      hypervisors: await Promise.all(hosts.map(async (h) => {
        const v = await hypervisorView(req, h, n.get(h.name)!, detail);
        if (!withServers) return v;
        const servers = (await reg.serversOn(h.name)).map((s) => ({ name: instanceName(s), uuid: s.id }));
        return servers.length || atLeast(req, '2.75') ? { ...v, servers } : v;
      })),
    };
  };
  app.get('/v2.1/os-hypervisors', hypervisors(false));
  app.get('/v2.1/os-hypervisors/detail', hypervisors(true));
  app.get('/v2.1/os-hypervisors/statistics', async (req) => {
    admin(req, 'os-hypervisors:statistics');
    requireVersion(req, '2.1', '2.87');
    const s = { count: 0, vcpus: 0, memory_mb: 0, local_gb: 0, vcpus_used: 0, memory_mb_used: 0, local_gb_used: 0, free_ram_mb: 0, free_disk_gb: 0, current_workload: 0, running_vms: 0, disk_available_least: 0 };
    for (const h of await reg.list()) {
      const u = await reg.usage(h.name);
      s.count++; s.vcpus += h.vcpus; s.memory_mb += h.memoryMb; s.local_gb += h.diskGb; s.vcpus_used += u.vcpus;
      s.memory_mb_used += u.memoryMb; s.local_gb_used += u.diskGb; s.free_ram_mb += h.memoryMb - u.memoryMb;
      s.free_disk_gb += h.diskGb - u.diskGb; s.running_vms += u.instances; s.disk_available_least += h.diskGb - u.diskGb;
    }
    return { hypervisor_statistics: s };
  });
  const findHypervisor = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    admin(req, 'os-hypervisors:show');
    const n = await ids();
    const hosts = await reg.list();
    const h = atLeast(req, '2.53') ? hosts.find((x) => x.hypervisorId === req.params.id) : hosts.find((x) => String(n.get(x.name)) === req.params.id);
    if (!h) throw notFound(`Hypervisor with ID ${req.params.id} could not be found.`);
    return { h, intId: n.get(h.name)! };
  };
  app.get<{ Params: { id: string } }>('/v2.1/os-hypervisors/:id', async (req) => {
    const { h, intId } = await findHypervisor(req);
    const v = await hypervisorView(req, h, intId, true);
    if (atLeast(req, '2.88')) v.uptime = uptime();
    return { hypervisor: v };
  });
  // uptime (< 2.88; folded into show from 2.88): the agent does not report it yet, so the `uptime`-style line that
  // clients parse says "unknown"
  const uptime = () => ` ${new Date().toISOString().slice(11, 19)} up unknown,  0 users,  load average: 0.00, 0.00, 0.00`;
  app.get<{ Params: { id: string } }>('/v2.1/os-hypervisors/:id/uptime', async (req) => {
    requireVersion(req, '2.1', '2.87');
    const { h, intId } = await findHypervisor(req);
    return { hypervisor: { ...(await hypervisorView(req, h, intId, false)), uptime: uptime() } };
  });
}
