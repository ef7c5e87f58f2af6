/**
 * Read-only Keystone listings for admins (`openstack project|user|role|domain list`, `project show`): management
 * itself goes through the config file and `novalet user|project` (IdentityService), not this API.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityService } from '../../controller/identity/service.js';
import type { Store } from '../../store/index.js';
import { forbidden, notFound, unauthorized } from '../../controller/errors.js';

export function registerIdentityAdminRoutes(app: FastifyInstance, identity: IdentityService, store: Store, base: string): void {
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
    const d = await store.getDomain('default');
    return { domains: d ? [{ id: d.id, name: d.name, enabled: d.enabled, description: '', links: { self: `${base}/v3/domains/${d.id}` } }] : [], links: links('domains') };
  });
  const projectView = (p: { id: string; name: string; domainId: string; enabled: boolean; description: string }) => ({
    id: p.id, name: p.name, domain_id: p.domainId, enabled: p.enabled, description: p.description, is_domain: false,
    parent_id: p.domainId, tags: [], options: {}, links: { self: `${base}/v3/projects/${p.id}` },
  });
  app.get('/v3/projects', async (req) => {
    await admin(req);
    const name = q(req).name;
    return { projects: (await store.listProjects()).filter((p) => !name || p.name === name).map(projectView), links: links('projects') };
  });
  app.get<{ Params: { id: string } }>('/v3/projects/:id', async (req) => {
    await admin(req);
    const p = await store.getProject(req.params.id);
    if (!p) throw notFound(`Could not find project: ${req.params.id}.`);
    return { project: projectView(p) };
  });
  const userView = (u: { id: string; name: string; domainId: string; enabled: boolean; defaultProjectId: string | null }) => ({
    id: u.id, name: u.name, domain_id: u.domainId, enabled: u.enabled, ...(u.defaultProjectId ? { default_project_id: u.defaultProjectId } : {}),
    password_expires_at: null, options: {}, links: { self: `${base}/v3/users/${u.id}` },
  });
  app.get('/v3/users', async (req) => {
    await admin(req);
    const name = q(req).name;
    return { users: (await store.listUsers()).filter((u) => !name || u.name === name).map(userView), links: links('users') };
  });
  app.get<{ Params: { id: string } }>('/v3/users/:id', async (req) => {
    await admin(req);
    const u = await store.getUser(req.params.id);
    if (!u) throw notFound(`Could not find user: ${req.params.id}.`);
    return { user: userView(u) };
  });
  app.get('/v3/roles', async (req) => {
    await admin(req);
    return { roles: (await store.listRoles()).map((r) => ({ id: r.id, name: r.name, domain_id: null, description: null, options: {}, links: { self: `${base}/v3/roles/${r.id}` } })), links: links('roles') };
  });
}
