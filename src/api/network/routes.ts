/**
 * A minimal, read-only Network API (Neutron v2.0 subset) under /network, until the networking issue: the
 * configured networks and their subnets, and the ports of servers (derived from their addresses), so that
 * `openstack server create --network NAME` resolves names and `server list` can show addresses.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityService } from '../../controller/identity/service.js';
import type { NetworkDef } from '../../controller/config.js';
import type { Store, Server } from '../../store/index.js';
import { installAuth } from '../auth.js';
import { isAdmin, isAdminOrOwner, type RequestContext } from '../../controller/context.js';
import { forbidden } from '../../controller/errors.js';
import { sendNeutron, toApiError } from '../errors.js';
import { portIdFor } from '../../controller/network/ports.js';
import { ServerLookup } from '../../controller/compute/access.js';
import { IdentityDirectory } from '../../controller/identity/directory.js';
import { defaultSecurityGroup } from './security-groups.js';



/** `store` is only handed to the lookups built here (the routes never read it) */
export function networkPlugin(identity: IdentityService, store: Store, networks: NetworkDef[], base: string) {
  const servers = new ServerLookup(store);
  const directory = new IdentityDirectory(store);
  const netView = (n: NetworkDef) => ({
    id: n.id, name: n.name, status: 'ACTIVE', admin_state_up: true, shared: true, subnets: [n.subnetId],
    tenant_id: '', project_id: '', 'router:external': false, mtu: 1500, availability_zones: ['nova'],
    availability_zone_hints: [], description: '', tags: [], port_security_enabled: false, is_default: n === networks[0],
    'provider:network_type': 'flat', ipv4_address_scope: null, ipv6_address_scope: null, revision_number: 1,
  });
  const subnetView = (n: NetworkDef) => ({
    id: n.subnetId, name: `${n.name}-subnet`, network_id: n.id, cidr: n.cidr, gateway_ip: n.gateway, ip_version: 4,
    enable_dhcp: true, dns_nameservers: [], host_routes: [], allocation_pools: [], tenant_id: '', project_id: '',
    description: '', tags: [], ipv6_ra_mode: null, ipv6_address_mode: null, subnetpool_id: null, revision_number: 1,
  });
  const portViews = (s: Server) => s.addresses.map((a) => {
    const n = networks.find((x) => x.name === a.network);
    return {
      id: portIdFor(s.id, a.mac), name: '', network_id: n?.id ?? '', mac_address: a.mac, device_id: s.id, device_owner: 'compute:nova',
      fixed_ips: [{ subnet_id: n?.subnetId ?? '', ip_address: a.addr }], status: 'ACTIVE', admin_state_up: true,
      tenant_id: s.projectId, project_id: s.projectId, security_groups: [], binding_vnic_type: 'normal', tags: [], description: '',
    };
  });

  return async (app: FastifyInstance): Promise<void> => {
    app.setErrorHandler((err, req, reply) => {
      const e = toApiError(err, req);
      return sendNeutron(reply, e.status, e.message);
    });
    app.setNotFoundHandler((_req, reply) => { sendNeutron(reply, 404, 'The resource could not be found.', 'HTTPNotFound'); });
    installAuth(app, identity);
    app.get('/', { config: { public: true } }, async () => ({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${base}/v2.0/`, rel: 'self' }] }] }));
    app.get('/v2.0', async () => ({ resources: [{ name: 'network', collection: 'networks', links: [{ href: `${base}/v2.0/networks`, rel: 'self' }] }] }));
    app.get('/v2.0/extensions', async () => ({ extensions: [] }));

    const filterBy = <T extends Record<string, unknown>>(items: T[], q: Record<string, unknown>, keys: string[]) =>
      items.filter((it) => keys.every((k) => q[k] === undefined || ([] as unknown[]).concat(q[k]).map(String).includes(String(it[k]))));

    app.get('/v2.0/networks', async (req) => ({ networks: filterBy(networks.map(netView), req.query as Record<string, unknown>, ['id', 'name', 'status', 'shared']) }));
    app.get<{ Params: { id: string } }>('/v2.0/networks/:id', async (req, reply) => {
      const n = networks.find((x) => x.id === req.params.id);
      if (!n) return sendNeutron(reply, 404, `Network ${req.params.id} could not be found.`, 'NetworkNotFound');
      return { network: netView(n) };
    });
    app.get('/v2.0/subnets', async (req) => ({ subnets: filterBy(networks.map(subnetView), req.query as Record<string, unknown>, ['id', 'name', 'network_id']) }));
    app.get<{ Params: { id: string } }>('/v2.0/subnets/:id', async (req, reply) => {
      const n = networks.find((x) => x.subnetId === req.params.id);
      if (!n) return sendNeutron(reply, 404, `Subnet ${req.params.id} could not be found.`, 'SubnetNotFound');
      return { subnet: subnetView(n) };
    });
    // ports: by device_id (a server), scoped to the caller's project unless admin
    app.get('/v2.0/ports', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      if (!q.device_id) return { ports: [] };
      const s = await servers.find(req.ctx, q.device_id);
      if (!s) return { ports: [] };
      return { ports: filterBy(portViews(s), q, ['id', 'network_id', 'mac_address']) };
    });
    // each project's default group (the caller's; an admin sees every project's)
    const groups = async (ctx: RequestContext) =>
      (isAdmin(ctx) ? (await directory.projects()).map((p) => p.id) : [ctx.projectId]).map(defaultSecurityGroup);
    app.get('/v2.0/security-groups', async (req) => ({
      security_groups: filterBy(await groups(req.ctx), req.query as Record<string, unknown>, ['id', 'name', 'project_id', 'tenant_id']),
    }));
    app.get<{ Params: { id: string } }>('/v2.0/security-groups/:id', async (req, reply) => {
      const g = (await groups(req.ctx)).find((x) => x.id === req.params.id);
      if (!g) return sendNeutron(reply, 404, `Security group ${req.params.id} does not exist`, 'SecurityGroupNotFound');
      return { security_group: g };
    });
    app.get('/v2.0/security-group-rules', async () => ({ security_group_rules: [] }));
    app.get('/v2.0/floatingips', async () => ({ floatingips: [] }));
    // another project's quotas: admin only (Neutron's get_quota rule)
    const quotaOf = (req: FastifyRequest<{ Params: { p: string } }>) => {
      if (!isAdminOrOwner(req.ctx, req.params.p)) throw forbidden('rule:get_quota is disallowed by policy');
    };
    app.get<{ Params: { p: string } }>('/v2.0/quotas/:p', async (req) => { quotaOf(req); return { quota: { network: -1, subnet: -1, port: -1, router: 0, floatingip: 0, security_group: -1, security_group_rule: -1, rbac_policy: -1 } }; });
    app.get<{ Params: { p: string } }>('/v2.0/quotas/:p/details.json', async (req) => {
      quotaOf(req);
      const q = (limit: number) => ({ limit, used: 0, reserved: 0 });
      return { quota: { network: q(-1), subnet: q(-1), port: q(-1), router: q(0), floatingip: q(0), security_group: q(-1), security_group_rule: q(-1), rbac_policy: q(-1) } };
    });
  };
}
