/**
 * The Network API (Neutron v2.0 subset) under /network: networks, subnets, ports, security groups and rules,
 * quotas, with Neutron's filters, `fields`, status codes and NeutronError bodies. Routes call the network
 * controller (src/controller/network/), never the store.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IdentityService } from '../../controller/identity/service.js';
import type { NetworkController } from '../../controller/network/index.js';
import type { Network, Port, SecurityGroup } from '../../store/index.js';
import { installAuth } from '../auth.js';
import { isAdmin, isAdminOrOwner, canWrite, type RequestContext } from '../../controller/context.js';
import { NeutronError, invalidInput, policy } from '../../controller/network/errors.js';
import { body, int } from '../../controller/network/input.js';
import { NEUTRON_QUOTA_DEFAULTS } from '../../controller/network/quotas.js';
import { sendNeutron, toApiError } from '../errors.js';
import { fieldsOf, listing, pick } from './listing.js';
import { groupView, networkView, portView, ruleView, subnetView } from './views.js';

type Q = Record<string, unknown>;
type IdReq = FastifyRequest<{ Params: { id: string } }>;

/** the extensions this subset implements (clients look some of them up) */
const EXTENSIONS = [
  ['security-group', 'security-group'], ['port-security', 'Port Security'], ['binding', 'Port Binding'], ['provider', 'Provider Network'],
  ['external-net', 'Neutron external network'], ['quotas', 'Quota management support'], ['quota_details', 'Quota details extension'],
  ['net-mtu', 'Network MTU'], ['standard-attr-description', 'standard-attr-description'], ['standard-attr-revisions', 'Resource revision numbers'],
  ['standard-attr-timestamp', 'Resource timestamps'], ['project-id', 'project_id field enabled'], ['allowed-address-pairs', 'Allowed Address Pairs'],
].map(([alias, name]) => ({ alias, name, description: name, updated: '2013-01-01T00:00:00-00:00', links: [] }));

export function networkPlugin(identity: IdentityService, net: NetworkController, base: string) {
  const write = (ctx: RequestContext) => { if (!canWrite(ctx)) throw policy('create'); };

  const networkBody = async (ctx: RequestContext, n: Network) =>
    networkView(n, (await net.networks.subnets(ctx)).filter((s) => s.networkId === n.id).map((s) => s.id), isAdmin(ctx));
  const groupBody = async (g: SecurityGroup, defaults?: Set<string>) => {
    const isDefault = defaults ? defaults.has(g.id) : g.name === 'default';
    return groupView(g, await net.groups.rules([g.id]), isDefault);
  };
  const portBody = (ctx: RequestContext, p: Port) => portView(p, isAdmin(ctx));
  const one = (key: string, v: Record<string, unknown>, q: Q) => ({ [key]: pick(v, fieldsOf(q)) });

  return async (app: FastifyInstance): Promise<void> => {
    app.setErrorHandler((err, req, reply) => {
      const e = toApiError(err, req);
      return sendNeutron(reply, e.status, e.message, err instanceof NeutronError ? err.type : undefined);
    });
    app.setNotFoundHandler((_req, reply) => { sendNeutron(reply, 404, 'The resource could not be found.', 'HTTPNotFound'); });
    installAuth(app, identity);
    app.get('/', { config: { public: true } }, async () => ({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${base}/v2.0/`, rel: 'self' }] }] }));
    app.get('/v2.0', async () => ({
      resources: ['network', 'subnet', 'port', 'security_group', 'security_group_rule', 'quota'].map((name) => ({
        name, collection: `${name.replace(/_/g, '-')}s`, links: [{ href: `${base}/v2.0/${name.replace(/_/g, '-')}s`, rel: 'self' }],
      })),
    }));
    app.get('/v2.0/extensions', async () => ({ extensions: EXTENSIONS }));
    app.get<{ Params: { alias: string } }>('/v2.0/extensions/:alias', async (req, reply) => {
      const e = EXTENSIONS.find((x) => x.alias === req.params.alias);
      return e ? { extension: e } : sendNeutron(reply, 404, `Extension with alias ${req.params.alias} does not exist`, 'ExtensionNotFound');
    });
    const created = (reply: FastifyReply, v: unknown) => reply.code(201).send(v);
    const noContent = (reply: FastifyReply) => reply.code(204).send();

    // networks
    app.get('/v2.0/networks', async (req) => ({
      networks: listing(await Promise.all((await net.networks.networks(req.ctx)).map((n) => networkBody(req.ctx, n))), req.query as Q),
    }));
    app.get('/v2.0/networks/:id', async (req: IdReq) => one('network', await networkBody(req.ctx, await net.networks.network(req.ctx, req.params.id)), req.query as Q));
    app.post('/v2.0/networks', async (req, reply) => {
      write(req.ctx);
      return created(reply, { network: await networkBody(req.ctx, await net.networks.createNetwork(req.ctx, body(req.body, 'network'))) });
    });
    app.put('/v2.0/networks/:id', async (req: IdReq) => {
      write(req.ctx);
      return { network: await networkBody(req.ctx, await net.networks.updateNetwork(req.ctx, req.params.id, body(req.body, 'network'))) };
    });
    app.delete('/v2.0/networks/:id', async (req: IdReq, reply) => { write(req.ctx); await net.networks.deleteNetwork(req.ctx, req.params.id); return noContent(reply); });

    // subnets
    app.get('/v2.0/subnets', async (req) => ({ subnets: listing((await net.networks.subnets(req.ctx)).map(subnetView), req.query as Q) }));
    app.get('/v2.0/subnets/:id', async (req: IdReq) => one('subnet', subnetView(await net.networks.subnet(req.ctx, req.params.id)), req.query as Q));
    app.post('/v2.0/subnets', async (req, reply) => {
      write(req.ctx);
      return created(reply, { subnet: subnetView(await net.networks.createSubnet(req.ctx, body(req.body, 'subnet'))) });
    });
    app.put('/v2.0/subnets/:id', async (req: IdReq) => {
      write(req.ctx);
      return { subnet: subnetView(await net.networks.updateSubnet(req.ctx, req.params.id, body(req.body, 'subnet'))) };
    });
    app.delete('/v2.0/subnets/:id', async (req: IdReq, reply) => { write(req.ctx); await net.networks.deleteSubnet(req.ctx, req.params.id); return noContent(reply); });

    // ports (device_id and network_id narrow the store's query; every other filter is applied to the views)
    app.get('/v2.0/ports', async (req) => {
      const q = req.query as Q;
      const first = (v: unknown) => (typeof v === 'string' ? v : undefined);
      const ports = await net.ports.ports(req.ctx, {
        ...(first(q.device_id) !== undefined ? { deviceId: first(q.device_id)! } : {}),
        ...(first(q.network_id) !== undefined ? { networkId: first(q.network_id)! } : {}),
      });
      return { ports: listing(ports.map((p) => portBody(req.ctx, p)), q) };
    });
    app.get('/v2.0/ports/:id', async (req: IdReq) => one('port', portBody(req.ctx, await net.ports.port(req.ctx, req.params.id)), req.query as Q));
    app.post('/v2.0/ports', async (req, reply) => {
      write(req.ctx);
      return created(reply, { port: portBody(req.ctx, await net.ports.create(req.ctx, body(req.body, 'port'))) });
    });
    app.put('/v2.0/ports/:id', async (req: IdReq) => {
      write(req.ctx);
      const p = await net.ports.update(req.ctx, req.params.id, body(req.body, 'port'));
      await net.servers.portChanged(p);
      return { port: portBody(req.ctx, p) };
    });
    app.delete('/v2.0/ports/:id', async (req: IdReq, reply) => {
      write(req.ctx);
      const p = await net.ports.delete(req.ctx, req.params.id);
      await net.servers.portDeleted(p);
      return noContent(reply);
    });

    // security groups and rules
    app.get('/v2.0/security-groups', async (req) => {
      const groups = await net.groups.groups(req.ctx);
      return { security_groups: listing(await Promise.all(groups.map((g) => groupBody(g))), req.query as Q) };
    });
    app.get('/v2.0/security-groups/:id', async (req: IdReq) => one('security_group', await groupBody(await net.groups.group(req.ctx, req.params.id)), req.query as Q));
    app.post('/v2.0/security-groups', async (req, reply) => {
      write(req.ctx);
      return created(reply, { security_group: await groupBody(await net.groups.create(req.ctx, body(req.body, 'security_group'))) });
    });
    app.put('/v2.0/security-groups/:id', async (req: IdReq) => {
      write(req.ctx);
      return { security_group: await groupBody(await net.groups.update(req.ctx, req.params.id, body(req.body, 'security_group'))) };
    });
    app.delete('/v2.0/security-groups/:id', async (req: IdReq, reply) => { write(req.ctx); await net.groups.delete(req.ctx, req.params.id); return noContent(reply); });
    app.get('/v2.0/security-group-rules', async (req) => {
      const groups = await net.groups.groups(req.ctx);
      const rules = await net.groups.rules(groups.map((g) => g.id));
      const defaults = new Set(groups.filter((g) => g.name === 'default').map((g) => g.id));
      return { security_group_rules: listing(rules.map((r) => ruleView(r, defaults.has(r.securityGroupId))), req.query as Q) };
    });
    app.get('/v2.0/security-group-rules/:id', async (req: IdReq) => one('security_group_rule', ruleView(await net.groups.rule(req.ctx, req.params.id), false), req.query as Q));
    app.post('/v2.0/security-group-rules', async (req, reply) => {
      write(req.ctx);
      const r = await net.groups.createRule(req.ctx, body(req.body, 'security_group_rule'));
      await net.servers.groupChanged(r.securityGroupId);
      return created(reply, { security_group_rule: ruleView(r, false) });
    });
    app.delete('/v2.0/security-group-rules/:id', async (req: IdReq, reply) => {
      write(req.ctx);
      const r = await net.groups.rule(req.ctx, req.params.id);
      await net.groups.deleteRule(req.ctx, req.params.id);
      await net.servers.groupChanged(r.securityGroupId);
      return noContent(reply);
    });
    app.get('/v2.0/floatingips', async () => ({ floatingips: [] }));
    app.get('/v2.0/routers', async () => ({ routers: [] }));

    // quotas: a project's own, or any for an admin (Neutron's get_quota rule)
    const quotaOf = (req: FastifyRequest<{ Params: { p: string } }>) => {
      if (!isAdminOrOwner(req.ctx, req.params.p)) throw policy('get_quota');
      return req.params.p;
    };
    const usage = async (ctx: RequestContext, projectId: string): Promise<Record<string, number>> => {
      const as = { ...ctx, projectId, roles: ['member'] } as RequestContext;
      const networks = (await net.networks.networks(as)).filter((n) => n.projectId === projectId).length;
      const subnets = (await net.networks.subnets(as)).filter((s) => s.projectId === projectId).length;
      const ports = (await net.ports.ports(as)).filter((p) => p.projectId === projectId).length;
      const groups = (await net.groups.groups(as)).filter((g) => g.projectId === projectId);
      const rules = (await net.groups.rules(groups.map((g) => g.id))).length;
      return { network: networks, subnet: subnets, port: ports, security_group: groups.length, security_group_rule: rules, router: 0, floatingip: 0, rbac_policy: 0 };
    };
    app.get('/v2.0/quotas', async (req) => {
      if (!isAdmin(req.ctx)) throw policy('get_quota');
      return { quotas: [] };
    });
    app.get<{ Params: { p: string } }>('/v2.0/quotas/:p', async (req) => ({ quota: await net.quotas.limits(quotaOf(req)) }));
    app.get<{ Params: { p: string } }>('/v2.0/quotas/:p/default', async (req) => { quotaOf(req); return { quota: NEUTRON_QUOTA_DEFAULTS }; });
    app.get<{ Params: { p: string } }>('/v2.0/quotas/:p/details.json', async (req) => {
      const p = quotaOf(req);
      const limits = await net.quotas.limits(p);
      const used = await usage(req.ctx, p);
      return { quota: Object.fromEntries(Object.entries(limits).map(([k, limit]) => [k, { limit, used: used[k] ?? 0, reserved: 0 }])) };
    });
    app.put<{ Params: { p: string } }>('/v2.0/quotas/:p', async (req) => {
      if (!isAdmin(req.ctx)) throw policy('update_quota');
      const b = body(req.body, 'quota');
      const changes: Record<string, number> = {};
      for (const k of Object.keys(b)) {
        if (!(k in NEUTRON_QUOTA_DEFAULTS)) throw invalidInput(`Unrecognized attribute(s) '${k}'`);
        const v = int(b, k);
        if (v === null || v === undefined || v < -1) throw invalidInput(`'${String(b[k])}' should be an integer greater or equal to -1`);
        changes[k] = v;
      }
      await net.quotas.set(req.params.p, changes);
      return { quota: await net.quotas.limits(req.params.p) };
    });
    app.delete<{ Params: { p: string } }>('/v2.0/quotas/:p', async (req, reply) => {
      if (!isAdmin(req.ctx)) throw policy('delete_quota');
      await net.quotas.set(req.params.p, Object.fromEntries(Object.keys(NEUTRON_QUOTA_DEFAULTS).map((k) => [k, NEUTRON_QUOTA_DEFAULTS[k]!])));
      return noContent(reply);
    });
  };
}
