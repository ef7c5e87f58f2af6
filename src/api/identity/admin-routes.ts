/**
 * Read-only Keystone listings for admins (`openstack project|user|role|domain list`, `project show`, `service|
 * endpoint|region list`, `role assignment list [--names]`) over IdentityDirectory: management itself goes through
 * the config file and `novalet user|project|role` (IdentityService), not this API.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityService } from '../../controller/identity/service.js';
import type { IdentityDirectory } from '../../controller/identity/directory.js';
import { forbidden, unauthorized } from '../../controller/errors.js';

export function registerIdentityAdminRoutes(app: FastifyInstance, identity: IdentityService, directory: IdentityDirectory, base: string): void {
  const admin = async (req: FastifyRequest) => {
    const t = req.headers['x-auth-token'];
    if (typeof t !== 'string' || !t) throw unauthorized();
    const info = await identity.validate(t);
    if (!info.roles.some((r) => r.name === 'admin')) throw forbidden('You are not authorized to perform the requested action.');
    return info;
  };
  const links = (path: string) => ({ self: `${base}/v3/${path}`, previous: null, next: null });
  const q = (req: FastifyRequest) => req.query as Record<string, string | undefined>;

  app.get('/v3/domains', async (req) => {
    await admin(req);
    const d = await directory.domain('default');
    return { domains: d ? [{ id: d.id, name: d.name, enabled: d.enabled, description: '', links: { self: `${base}/v3/domains/${d.id}` } }] : [], links: links('domains') };
  });
  const projectView = (p: { id: string; name: string; domainId: string; enabled: boolean; description: string }) => ({
    id: p.id, name: p.name, domain_id: p.domainId, enabled: p.enabled, description: p.description, is_domain: false,
    parent_id: p.domainId, tags: [], options: {}, links: { self: `${base}/v3/projects/${p.id}` },
  });
  app.get('/v3/projects', async (req) => {
    await admin(req);
    const name = q(req).name;
    return { projects: (await directory.projects(name)).map(projectView), links: links('projects') };
  });
  app.get<{ Params: { id: string } }>('/v3/projects/:id', async (req) => {
    await admin(req);
    return { project: projectView(await directory.project(req.params.id)) };
  });
  const userView = (u: { id: string; name: string; domainId: string; enabled: boolean; defaultProjectId: string | null }) => ({
    id: u.id, name: u.name, domain_id: u.domainId, enabled: u.enabled, ...(u.defaultProjectId ? { default_project_id: u.defaultProjectId } : {}),
    password_expires_at: null, options: {}, links: { self: `${base}/v3/users/${u.id}` },
  });
  app.get('/v3/users', async (req) => {
    await admin(req);
    const name = q(req).name;
    return { users: (await directory.users(name)).map(userView), links: links('users') };
  });
  app.get<{ Params: { id: string } }>('/v3/users/:id', async (req) => {
    await admin(req);
    return { user: userView(await directory.user(req.params.id)) };
  });
  // the catalog is fixed by the controller's configuration: one service per type, one public endpoint each
  const catalog = () => identity.catalog('$(project_id)s');
  app.get('/v3/services', async (req) => {
    await admin(req);
    const type = q(req).type;
    return {
      services: catalog().filter((c) => !type || c.type === type).map((c) => ({ id: c.id, name: c.name, type: c.type, enabled: true, description: '', links: { self: `${base}/v3/services/${c.id}` } })),
      links: links('services'),
    };
  });
  app.get('/v3/endpoints', async (req) => {
    await admin(req);
    const f = q(req);
    const all = catalog().flatMap((c) => c.endpoints.map((e) => ({
      id: e.id, interface: e.interface, region: e.region, region_id: e.region_id, service_id: c.id, url: e.url, enabled: true,
      links: { self: `${base}/v3/endpoints/${e.id}` },
    })));
    return {
      endpoints: all.filter((e) => (!f.service_id || e.service_id === f.service_id) && (!f.interface || e.interface === f.interface) && (!f.region_id || e.region_id === f.region_id)),
      links: links('endpoints'),
    };
  });
  app.get('/v3/regions', async (req) => {
    await admin(req);
    return { regions: [{ id: identity.region, description: '', parent_region_id: null, links: { self: `${base}/v3/regions/${identity.region}` } }], links: links('regions') };
  });
  // GET /v3/role_assignments[?user.id=&scope.project.id=&role.id=&include_names]: direct project grants
  app.get('/v3/role_assignments', async (req) => {
    await admin(req);
    const f = q(req);
    const names = f.include_names !== undefined && !/^(0|false|no)$/i.test(f.include_names);
    const domains = new Map<string, { id: string; name: string }>();
    const domain = async (id: string) => {
      if (!domains.has(id)) { const d = await directory.domain(id); domains.set(id, { id, name: d?.name ?? id }); }
      return domains.get(id)!;
    };
    const out = [];
    for (const { role: r, user: u, project: p } of await directory.roleAssignments({ userId: f['user.id'], projectId: f['scope.project.id'], roleId: f['role.id'] })) {
      out.push({
        role: names ? { id: r.id, name: r.name } : { id: r.id },
        user: names ? { id: u.id, name: u.name, domain: await domain(u.domainId) } : { id: u.id },
        scope: { project: names ? { id: p.id, name: p.name, domain: await domain(p.domainId) } : { id: p.id } },
        links: { assignment: `${base}/v3/projects/${p.id}/users/${u.id}/roles/${r.id}` },
      });
    }
    return { role_assignments: out, links: links('role_assignments') };
  });
  app.get('/v3/roles', async (req) => {
    await admin(req);
    return { roles: (await directory.roles()).map((r) => ({ id: r.id, name: r.name, domain_id: null, description: null, options: {}, links: { self: `${base}/v3/roles/${r.id}` } })), links: links('roles') };
  });
}
