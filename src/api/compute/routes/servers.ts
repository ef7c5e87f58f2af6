/**
 * /servers: list, detail, show, create, update, delete. A non-UUID id is 404 (clients look servers up by name
 * with GET /servers/{name} first and fall back to ?name= on 404).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeDeps } from '../deps.js';
import { check, isUuid } from '../../validate.js';
import { ServerCreate, ServerUpdate, versionedFields } from '../schemas/server-create.js';
import { atLeast, encode } from '../microversion.js';
import { basicView, detailView, addressesView, updateView } from '../views/server.js';
import { ServerListRenders } from '../views/server-list-renders.js';
import { utf8Join } from '../../encoded-body.js';
import { parseListQuery, nextLink } from '../list-query.js';
import { links } from '../urls.js';
import { badRequest, instanceNotFound, notFound } from '../../../controller/errors.js';
import type { CreateRequest } from '../../../controller/compute/servers.js';

type P = { Params: { id: string } };

export function serverId(req: FastifyRequest<P>): string {
  const id = req.params.id;
  if (!isUuid(id)) throw instanceNotFound(id);
  return id;
}

/** Nova: "Additional properties are not allowed ('x' was unexpected)" for fields newer/older than the version */
function gateFields(req: FastifyRequest, obj: Record<string, unknown>): void {
  for (const [k, [from, to]] of Object.entries(versionedFields)) {
    if (!(k in obj)) continue;
    if (req.mv < encode(from) || (to !== undefined && req.mv > encode(to))) {
      throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(obj).slice(0, 200)}. Additional properties are not allowed ('${k}' was unexpected)`);
    }
  }
}

export function registerServerRoutes(app: FastifyInstance, d: ComputeDeps): void {
  const hostStatus = (host: string) => d.compute.hosts.statusOf(host);
  const renders = new ServerListRenders(d.urls, d.compute.servers);
  const listQuery = async (req: FastifyRequest) => {
    const parsed = parseListQuery(req, d.cfg.maxLimit);
    await d.serverLookup.checkMarker(parsed.query.marker);
    return parsed;
  };
  const next = (req: FastifyRequest, path: string, limit: number, listed: number, lastId: string | undefined) =>
    (listed > 0 && listed === limit ? [{ rel: 'next', href: nextLink(`${d.urls.versioned}${path}`, req, limit, lastId!) }] : undefined);

  app.get('/v2.1/servers', async (req) => {
    const parsed = await listQuery(req);
    const servers = parsed.empty ? [] : await d.compute.servers.list({ ...parsed.query, viewFieldsOnly: true });
    const links = next(req, '/servers', parsed.limit, servers.length, servers[servers.length - 1]?.id);
    return { servers: servers.map((s) => basicView(d.urls, s)), ...(links ? { servers_links: links } : {}) };
  });
  // the body is put together from each server's JSON render (server-list-renders.ts)
  app.get('/v2.1/servers/detail', async (req, reply) => {
    const parsed = await listQuery(req);
    if (parsed.empty) return { servers: [] };
    const page = await renders.page(req, parsed.query, hostStatus);
    const links = next(req, '/servers/detail', parsed.limit, page.listed, page.lastId);
    reply.type('application/json; charset=utf-8');
    return utf8Join('{"servers":[', page.views, ',', `]${links ? `,"servers_links":${JSON.stringify(links)}` : ''}}`);
  });

  app.get<P>('/v2.1/servers/:id', async (req) => {
    const server = await d.compute.servers.get(req.ctx, serverId(req));
    const serverGroups = atLeast(req, '2.71') ? await d.compute.serverGroups.groupsOf(server.id) : [];
    return { server: detailView(req, d.urls, server, { show: true, hostStatus, serverGroups }) };
  });

  app.post('/v2.1/servers', async (req, reply) => {
    const body = check(ServerCreate, req.body);
    const s = body.server;
    gateFields(req, s);
    if (s.networks === undefined && atLeast(req, '2.37')) throw badRequest("Invalid input for field/attribute server. Value: {...}. 'networks' is a required property");
    if ((s.networks === 'auto' || s.networks === 'none') && !atLeast(req, '2.37')) throw badRequest("Invalid input for field/attribute networks. Value: " + JSON.stringify(s.networks) + ". '" + s.networks + "' is not of type 'array'");
    if (Array.isArray(s.networks) && atLeast(req, '2.37')) {
      for (const n of s.networks) if (n.uuid !== undefined && !isUuid(n.uuid)) throw badRequest(`Invalid input for field/attribute uuid. Value: ${n.uuid}. '${n.uuid}' is not a 'uuid'`);
    }
    if (s.name.trim() !== s.name || s.name.trim() === '') throw badRequest(`Invalid input for field/attribute name. Value: ${s.name}. '${s.name}' does not match '^(?! )[\\S ]*(?<! )$'`);
    if (s.user_data !== undefined && !/^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/.test(s.user_data)) throw badRequest('User data needs to be valid base 64.');
    if (s.user_data !== undefined && Buffer.from(s.user_data, 'base64').length > 65535) throw badRequest('User data too large. User data must be no larger than 65535 bytes once base64 encoded.');
    if (s.personality?.length) throw badRequest('Personality files are not supported.');
    const minCount = Number(s.min_count ?? 1); const maxCount = Number(s.max_count ?? minCount);
    if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
    const imageRef = (s.imageRef ?? '').replace(/\/+$/, '').split('/').pop() ?? '';
    const hints = schedulerHints(body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints']);
    const cr: CreateRequest = {
      ...(hints ? { schedulerHints: hints } : {}),
      name: s.name, imageRef, flavorRef: String(s.flavorRef).replace(/\/+$/, '').split('/').pop()!, minCount, maxCount,
      networks: (s.networks ?? null) as CreateRequest['networks'],
      ...(s.accessIPv4 !== undefined ? { accessIPv4: s.accessIPv4 } : {}),
      ...(s.accessIPv6 !== undefined ? { accessIPv6: s.accessIPv6 } : {}),
      ...(s.adminPass !== undefined ? { adminPass: s.adminPass } : {}),
      ...(s.availability_zone !== undefined ? { availabilityZone: s.availability_zone } : {}),
      ...(s.block_device_mapping_v2 !== undefined ? { blockDeviceMapping: s.block_device_mapping_v2 as Array<Record<string, unknown>> } : {}),
      ...(s.key_name !== undefined ? { keyName: s.key_name } : {}),
      ...(s.metadata !== undefined ? { metadata: s.metadata } : {}),
      ...(s['OS-DCF:diskConfig'] !== undefined ? { diskConfig: s['OS-DCF:diskConfig'] } : {}),
      ...(s.security_groups !== undefined ? { securityGroups: s.security_groups.map((g) => g.name) } : {}),
      ...(s.user_data !== undefined ? { userData: s.user_data } : {}),
      ...(s.description !== undefined ? { description: s.description } : {}),
      ...(s.tags !== undefined ? { tags: s.tags } : {}),
      ...(s.host !== undefined ? { host: s.host } : {}),
      ...(s.hypervisor_hostname !== undefined ? { hypervisorHostname: s.hypervisor_hostname } : {}),
      ...(s.config_drive !== undefined ? { configDrive: s.config_drive === true || s.config_drive === 'true' || s.config_drive === 'True' } : {}),
    };
    const r = await d.compute.servers.create(req.ctx, cr);
    reply.code(202);
    if (s.return_reservation_id) return { reservation_id: r.reservationId };
    const first = r.servers[0]!;
    reply.header('Location', `${d.urls.versioned}/servers/${first.id}`);
    return {
      server: {
        id: first.id, links: links(d.urls, 'servers', first.id), 'OS-DCF:diskConfig': first.diskConfig,
        security_groups: first.securityGroups.map((name) => ({ name })), adminPass: r.adminPass,
      },
    };
  });

  app.put<P>('/v2.1/servers/:id', async (req) => {
    const id = serverId(req);
    const body = check(ServerUpdate, req.body);
    const s = body.server;
    if (s.description !== undefined && !atLeast(req, '2.19')) throw badRequest("Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)");
    if (s.hostname !== undefined && !atLeast(req, '2.90')) throw badRequest("Invalid input for field/attribute server. Additional properties are not allowed ('hostname' was unexpected)");
    if (s.name !== undefined && s.name.trim() !== s.name) throw badRequest(`Invalid input for field/attribute name. Value: ${s.name}. '${s.name}' does not match '^(?! )[\\S ]*(?<! )$'`);
    const updated = await d.compute.servers.update(req.ctx, id, {
      ...(s.name !== undefined ? { name: s.name } : {}),
      ...(s.hostname !== undefined ? { hostname: s.hostname } : {}),
      ...(s.description !== undefined ? { description: s.description } : {}),
      ...(s.accessIPv4 !== undefined ? { accessIPv4: s.accessIPv4 } : {}),
      ...(s.accessIPv6 !== undefined ? { accessIPv6: s.accessIPv6 } : {}),
      ...(s['OS-DCF:diskConfig'] !== undefined ? { diskConfig: s['OS-DCF:diskConfig'] } : {}),
    });
    return { server: updateView(req, d.urls, updated, hostStatus, atLeast(req, '2.71') ? await d.compute.serverGroups.groupsOf(updated.id) : []) };
  });

  app.delete<P>('/v2.1/servers/:id', async (req, reply) => {
    await d.compute.servers.delete(req.ctx, serverId(req));
    return reply.code(204).send();
  });

  app.get<P>('/v2.1/servers/:id/ips', async (req) => ({ addresses: ipsView(await d.compute.servers.get(req.ctx, serverId(req))) }));
  app.get<{ Params: { id: string; network: string } }>('/v2.1/servers/:id/ips/:network', async (req) => {
    const ips = ipsView(await d.compute.servers.get(req.ctx, serverId(req)));
    const n = Object.hasOwn(ips, req.params.network) ? ips[req.params.network] : undefined;
    if (!n) throw notFound('Instance is not a member of specified network');
    return { [req.params.network]: n };
  });
}

const ipsView = (s: Parameters<typeof addressesView>[0]) => addressesView(s, false);

/** Nova's scheduler hints this cloud honours: group (a server group uuid), same_host / different_host (server uuids) */
function schedulerHints(h: Record<string, unknown> | undefined): CreateRequest['schedulerHints'] | undefined {
  if (!h) return undefined;
  const uuids = (name: string): string[] | undefined => {
    const v = h[name];
    if (v === undefined) return undefined;
    const list = Array.isArray(v) ? v : [v];
    for (const x of list) if (typeof x !== 'string' || !isUuid(x)) throw badRequest(`Invalid input for field/attribute ${name}. Value: ${JSON.stringify(v)}. is not a 'uuid'`);
    return list as string[];
  };
  const group = h.group;
  if (group !== undefined && (typeof group !== 'string' || !isUuid(group))) throw badRequest(`Invalid input for field/attribute group. Value: ${JSON.stringify(group)}. is not a 'uuid'`);
  const sameHost = uuids('same_host');
  const differentHost = uuids('different_host');
  return { ...(group !== undefined ? { group } : {}), ...(sameHost ? { sameHost } : {}), ...(differentHost ? { differentHost } : {}) };
}
