/**
 * Migration records, as Nova shows them:
 * - GET /os-migrations (admin): filters host (source or destination), instance_uuid, source_compute, status,
 *   migration_type; from 2.59 changes-since, limit, marker (a migration uuid) and `migrations_links`; from 2.66
 *   changes-before; from 2.80 user_id, project_id. Views: migration_type from 2.23, with links for in-progress live
 *   migrations; uuid from 2.59; user_id, project_id from 2.80. From 2.59 an unknown query parameter is a 400.
 * - GET /servers/{id}/migrations[/{mid}] (admin, 2.23): the server's in-progress live migrations only.
 * - DELETE /servers/{id}/migrations/{mid} (2.24): abort a live migration; POST .../{mid}/action
 *   {"force_complete": null} (2.22): force it to complete (controller/compute/live-migration-control.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import { badRequest, instanceNotFound } from '../../../controller/errors.js';
import { enforce } from '../../../controller/policy/policy.js';
import { isLiveInProgress } from '../../../controller/compute/migrations.js';
import { changesWindow, nextLink } from '../list-query.js';
import { atLeast, requireVersion } from '../microversion.js';
import { parseLimit } from '../../query.js';
import { isUuid } from '../../validate.js';
import type { Migration, MigrationQuery, MigrationType } from '../../../store/index.js';
import type { Urls } from '../urls.js';

type Q = Record<string, string | string[] | undefined>;
const last = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[v.length - 1] : v);
const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** Nova prints its datetimes with microseconds and no zone */
const usec = (t: string) => t.replace(/\.(\d{3})Z$/, '.$1000').replace(/Z$/, '');
/** Nova's flavor ids in migrations are the flavors' integer database ids; ours are the flavor ids */
const flavorId = (id: string | null) => (id !== null && /^\d{1,15}$/.test(id) ? Number(id) : id);
const TYPES: readonly MigrationType[] = ['migration', 'resize', 'live-migration', 'evacuation'];

/** the query parameters each microversion's schema allows (before 2.59 anything goes, and is ignored) */
function allowedParams(req: FastifyRequest): Set<string> | null {
  if (!atLeast(req, '2.59')) return null;
  const keys = ['hidden', 'host', 'instance_uuid', 'source_compute', 'status', 'migration_type', 'changes-since', 'limit', 'marker'];
  if (atLeast(req, '2.66')) keys.push('changes-before');
  if (atLeast(req, '2.80')) keys.push('user_id', 'project_id');
  return new Set(keys);
}

function liveLinks(u: Urls, m: Migration) {
  return [
    { href: `${u.versioned}/servers/${m.serverId}/migrations/${m.id}`, rel: 'self' },
    { href: `${u.bookmark}/servers/${m.serverId}/migrations/${m.id}`, rel: 'bookmark' },
  ];
}

/** one entry of GET /os-migrations at the request's microversion */
function listView(req: FastifyRequest, u: Urls, m: Migration): Record<string, unknown> {
  const v: Record<string, unknown> = {
    created_at: usec(m.createdAt), dest_compute: m.destCompute, dest_host: m.destHost, dest_node: m.destNode, id: m.id,
    instance_uuid: m.serverId, new_instance_type_id: flavorId(m.newFlavorId), old_instance_type_id: flavorId(m.oldFlavorId),
    source_compute: m.sourceCompute, source_node: m.sourceNode, status: m.status, updated_at: usec(m.updatedAt),
  };
  if (atLeast(req, '2.23')) {
    v.migration_type = m.migrationType;
    if (isLiveInProgress(m)) v.links = liveLinks(u, m);
  }
  if (atLeast(req, '2.59')) v.uuid = m.uuid;
  if (atLeast(req, '2.80')) { v.user_id = m.userId; v.project_id = m.projectId; }
  return v;
}

/** one entry of GET /servers/{id}/migrations (Nova's server_migrations.output) */
function serverView(req: FastifyRequest, m: Migration): Record<string, unknown> {
  return {
    created_at: usec(m.createdAt), dest_compute: m.destCompute, dest_host: m.destHost, dest_node: m.destNode,
    disk_processed_bytes: m.diskProcessed, disk_remaining_bytes: m.diskRemaining, disk_total_bytes: m.diskTotal, id: m.id,
    memory_processed_bytes: m.memoryProcessed, memory_remaining_bytes: m.memoryRemaining, memory_total_bytes: m.memoryTotal,
    server_uuid: m.serverId, source_compute: m.sourceCompute, source_node: m.sourceNode, status: m.status,
    updated_at: usec(m.updatedAt),
    ...(atLeast(req, '2.59') ? { uuid: m.uuid } : {}),
    ...(atLeast(req, '2.80') ? { user_id: m.userId, project_id: m.projectId } : {}),
  };
}

function parseQuery(req: FastifyRequest, maxLimit: number): { q: MigrationQuery; empty: boolean; limit?: number } {
  const raw = req.query as Q;
  const allowed = allowedParams(req);
  if (allowed) {
    for (const k of Object.keys(raw)) {
      if (!allowed.has(k)) throw badRequest(`Invalid input for query parameters ${k}. Value: ${String(last(raw[k]))}. Additional properties are not allowed ('${k}' was unexpected)`);
    }
  }
  const q: MigrationQuery = {};
  let empty = false;
  const host = last(raw.host); if (host) q.host = host;
  const server = last(raw.instance_uuid); if (server) q.serverId = server;
  const source = last(raw.source_compute); if (source) q.sourceCompute = source;
  const statuses = all(raw.status).filter(Boolean); if (statuses.length) q.statuses = statuses;
  const type = last(raw.migration_type);
  if (type) {
    if ((TYPES as readonly string[]).includes(type)) q.migrationType = type as MigrationType;
    else empty = true; // no migration has another type
  }
  Object.assign(q, changesWindow(req, '2.59'));
  let limit: number | undefined;
  if (atLeast(req, '2.59')) {
    limit = parseLimit(raw.limit, maxLimit);
    q.limit = limit ?? maxLimit; // pages of max_limit at most, as Nova's
    const marker = last(raw.marker); if (marker) q.marker = marker;
  }
  if (atLeast(req, '2.80')) {
    const user = last(raw.user_id); if (user) q.userId = user;
    const project = last(raw.project_id); if (project) q.projectId = project;
  }
  return { q, empty, ...(limit !== undefined ? { limit } : {}) };
}

export function registerMigrationRoutes(app: FastifyInstance, d: ComputeDeps): void {
  app.get('/v2.1/os-migrations', async (req) => {
    enforce(req.ctx, 'os_compute_api:os-migrations:index');
    const { q, empty, limit } = parseQuery(req, d.cfg.maxLimit);
    const found = empty ? [] : await d.compute.migrations.list(q);
    const out: Record<string, unknown> = { migrations: found.map((m) => listView(req, d.urls, m)) };
    if (atLeast(req, '2.59') && found.length > 0 && found.length === (limit ?? d.cfg.maxLimit)) {
      out.migrations_links = [{ rel: 'next', href: nextLink(`${d.urls.versioned}/os-migrations`, req, found.length, found[found.length - 1]!.uuid) }];
    }
    return out;
  });

  type P = { Params: { id: string; mid: string } };
  const gate = (req: FastifyRequest<P>, what: 'index' | 'show') => {
    requireVersion(req, '2.23');
    enforce(req.ctx, `os_compute_api:servers:migrations:${what}`);
    if (!isUuid(req.params.id)) throw instanceNotFound(req.params.id);
  };
  app.get<P>('/v2.1/servers/:id/migrations', async (req) => {
    gate(req, 'index');
    return { migrations: (await d.compute.migrations.inProgress(req.ctx, req.params.id)).map((m) => serverView(req, m)) };
  });
  app.get<P>('/v2.1/servers/:id/migrations/:mid', async (req) => {
    gate(req, 'show');
    return { migration: serverView(req, await d.compute.migrations.showInProgress(req.ctx, req.params.id, req.params.mid)) };
  });
  app.delete<P>('/v2.1/servers/:id/migrations/:mid', async (req, reply) => {
    requireVersion(req, '2.24');
    if (!isUuid(req.params.id)) throw instanceNotFound(req.params.id);
    await d.compute.liveMigrations.abort(req.ctx, req.params.id, req.params.mid, atLeast(req, '2.65'));
    return reply.code(202).send();
  });
  app.post<P>('/v2.1/servers/:id/migrations/:mid/action', async (req, reply) => {
    requireVersion(req, '2.22');
    const body = req.body as Record<string, unknown> | null;
    if (!body || typeof body !== 'object' || Array.isArray(body) || !('force_complete' in body)) throw badRequest(`There is no such action: ${String(body && typeof body === 'object' ? Object.keys(body)[0] : body)}`);
    if (Object.keys(body).length !== 1 || body.force_complete !== null) throw badRequest(`Invalid input for field/attribute force_complete. Value: ${JSON.stringify(body.force_complete)}. ${JSON.stringify(body.force_complete)} is not of type 'null'`);
    if (!isUuid(req.params.id)) throw instanceNotFound(req.params.id);
    await d.compute.liveMigrations.forceComplete(req.ctx, req.params.id, req.params.mid);
    return reply.code(202).send();
  });
}
