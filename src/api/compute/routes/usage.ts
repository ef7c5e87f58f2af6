/**
 * /os-simple-tenant-usage (`openstack usage list|show`, `nova usage`): per project, the hours each server was
 * launched within [start, end] and those hours times its flavor's vCPUs, RAM and disk, computed from the servers'
 * launched_at / terminated_at as Nova does. list is admin-only; show is for the project's own members or admins.
 * From 2.40 the servers are paged (limit, marker = last instance_id, ordered by project and id): novaclient's
 * `nova usage` asks for the next page until one comes back empty.
 */
import { parseLimit } from '../../query.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import type { Server } from '../../../store/index.js';
import { badRequest } from '../../../controller/errors.js';
import { atLeast } from '../microversion.js';
import { nextLink } from '../list-query.js';
import { enforce } from '../../../controller/policy/policy.js';

/** Nova's accepted formats: %Y-%m-%dT%H:%M:%S[.%f] and %Y-%m-%d %H:%M:%S.%f, UTC when no offset is given */
const TIME_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})?$/;

function parseTime(v: string | undefined, now: number): number {
  if (v === undefined || v === '') return now;
  const m = TIME_RE.exec(v);
  const t = m ? Date.parse(`${m[1]}T${m[2]}${m[3] ?? ''}${m[4] ?? 'Z'}`) : NaN;
  if (Number.isNaN(t)) throw badRequest('Invalid datetime string: Datetime is in invalid format');
  return t;
}

/** Python's naive isoformat with microseconds, as Nova's JSON carries datetimes */
const naive = (t: number) => new Date(t).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');

interface Period { start: number; stop: number; detailed: boolean; }

function period(req: FastifyRequest): Period {
  const q = req.query as Record<string, string | undefined>;
  const now = Date.now();
  const start = parseTime(q.start, now);
  let stop = parseTime(q.end, now);
  // neither given: Nova reads the clock twice, so an empty window that is still valid
  const bothNow = !q.start && !q.end;
  if (start > stop || (start === stop && !bothNow)) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
  if (stop > now) stop = now;
  return { start, stop, detailed: q.detailed === '1' };
}

function hoursFor(s: Server, p: Period): number {
  const launched = s.launchedAt ? Date.parse(s.launchedAt) : null;
  const terminated = s.terminatedAt ? Date.parse(s.terminatedAt) : null;
  if (launched === null) return 0;
  if (terminated !== null && terminated < p.start) return 0;
  if (launched > p.stop) return 0;
  return (Math.min(p.stop, terminated ?? p.stop) - Math.max(launched, p.start)) / 3_600_000;
}

function usages(servers: Server[], p: Period, detailed: boolean) {
  const now = Date.now();
  const byProject = new Map<string, Record<string, unknown> & { server_usages?: unknown[] }>();
  for (const s of servers) {
    const launched = s.launchedAt ? Date.parse(s.launchedAt) : null;
    const terminated = s.terminatedAt ? Date.parse(s.terminatedAt) : null;
    const hours = hoursFor(s, p);
    const localGb = s.flavor.disk + s.flavor.ephemeral;
    const info = {
      instance_id: s.id, name: s.name, tenant_id: s.projectId, flavor: s.flavor.name, hours,
      memory_mb: s.flavor.ram, local_gb: localGb, vcpus: s.flavor.vcpus,
      started_at: launched !== null ? naive(launched) : null,
      ended_at: terminated !== null ? naive(terminated) : null,
      state: terminated !== null ? 'terminated' : s.vmState,
      uptime: launched !== null ? Math.floor(((terminated ?? now) - launched) / 1000) : 0,
    };
    let sum = byProject.get(s.projectId);
    if (!sum) {
      sum = {
        tenant_id: s.projectId, ...(detailed ? { server_usages: [] } : {}), total_local_gb_usage: 0, total_vcpus_usage: 0,
        total_memory_mb_usage: 0, total_hours: 0, start: naive(p.start), stop: naive(p.stop),
      };
      byProject.set(s.projectId, sum);
    }
    (sum.total_local_gb_usage as number) += localGb * hours;
    (sum.total_vcpus_usage as number) += s.flavor.vcpus * hours;
    (sum.total_memory_mb_usage as number) += s.flavor.ram * hours;
    (sum.total_hours as number) += hours;
    if (detailed) sum.server_usages!.push(info);
  }
  return [...byProject.values()];
}

/**
 * Nova's instance_get_active_by_window_joined: launched before the window ends, not terminated before it starts,
 * ordered by (project_id, id); from 2.40 one page after `marker`.
 */
async function window(d: ComputeDeps, req: FastifyRequest, p: Period, projectId?: string): Promise<{ servers: Server[]; limit: number }> {
  const all = (await d.compute.servers.list({ ...(projectId ? { projectId } : {}), deleted: 'include' })).filter((s) => {
    const launched = s.launchedAt ? Date.parse(s.launchedAt) : null;
    const terminated = s.terminatedAt ? Date.parse(s.terminatedAt) : null;
    return launched !== null && launched < p.stop && (terminated === null || terminated > p.start);
  }).sort((a, b) => (a.projectId === b.projectId ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.projectId < b.projectId ? -1 : 1));
  if (!atLeast(req, '2.40')) return { servers: all, limit: Infinity };
  const q = req.query as Record<string, string | undefined>;
  const limit = parseLimit(q.limit, d.cfg.maxLimit) ?? d.cfg.maxLimit;
  let from = 0;
  if (q.marker !== undefined) {
    const i = all.findIndex((s) => s.id === q.marker);
    if (i < 0) throw badRequest(`Marker ${q.marker} could not be found.`);
    from = i + 1;
  }
  return { servers: all.slice(from, from + limit), limit };
}

const links = (d: ComputeDeps, req: FastifyRequest, path: string, servers: Server[], limit: number) =>
  (atLeast(req, '2.40') && servers.length > 0 && servers.length === limit
    ? [{ rel: 'next', href: nextLink(`${d.urls.versioned}/${path}`, req, limit, servers[servers.length - 1]!.id) }]
    : undefined);

export function registerUsageRoutes(app: FastifyInstance, d: ComputeDeps): void {
  app.get('/v2.1/os-simple-tenant-usage', async (req) => {
    enforce(req.ctx, 'os_compute_api:os-simple-tenant-usage:list');
    const p = period(req);
    const w = await window(d, req, p);
    const next = links(d, req, 'os-simple-tenant-usage', w.servers, w.limit);
    return { tenant_usages: usages(w.servers, p, p.detailed), ...(next ? { tenant_usages_links: next } : {}) };
  });
  app.get<{ Params: { id: string } }>('/v2.1/os-simple-tenant-usage/:id', async (req) => {
    const projectId = req.params.id;
    enforce(req.ctx, 'os_compute_api:os-simple-tenant-usage:show', projectId);
    const p = period(req);
    const w = await window(d, req, p, projectId);
    const next = links(d, req, `os-simple-tenant-usage/${projectId}`, w.servers, w.limit);
    return { tenant_usage: usages(w.servers, p, true)[0] ?? {}, ...(next ? { tenant_usage_links: next } : {}) };
  });
}
