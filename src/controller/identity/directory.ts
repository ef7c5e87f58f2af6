/**
 * Read-only listings of the identity records for admins (Keystone's /v3/domains, projects, users, roles,
 * role_assignments): management itself goes through the config file and `novalet user|project|role`
 * (IdentityService), not the API.
 */
import type { Domain, Project, Role, Store, User } from '../../store/index.js';
import { notFound } from '../errors.js';

export interface RoleAssignment { role: Role; user: User; project: Project; }
export interface RoleAssignmentFilter { userId?: string | undefined; projectId?: string | undefined; roleId?: string | undefined; }

/** Keystone's 404 */
function found<T>(v: T | null, what: string, id: string): T {
  if (!v) throw notFound(`Could not find ${what}: ${id}.`);
  return v;
}

const named = <T extends { name: string }>(name: string | undefined) => (x: T) => !name || x.name === name;

export class IdentityDirectory {
  constructor(private readonly store: Store) {}

  domain(id: string): Promise<Domain | null> { return this.store.getDomain(id); }

  async projects(name?: string): Promise<Project[]> { return (await this.store.listProjects()).filter(named(name)); }

  async project(id: string): Promise<Project> { return found(await this.store.getProject(id), 'project', id); }

  async users(name?: string): Promise<User[]> { return (await this.store.listUsers()).filter(named(name)); }

  async user(id: string): Promise<User> { return found(await this.store.getUser(id), 'user', id); }

  roles(): Promise<Role[]> { return this.store.listRoles(); }

  /** direct project grants, by user then project */
  async roleAssignments(f: RoleAssignmentFilter): Promise<RoleAssignment[]> {
    const users = (await this.store.listUsers()).filter((u) => !f.userId || u.id === f.userId);
    const projects = (await this.store.listProjects()).filter((p) => !f.projectId || p.id === f.projectId);
    const out: RoleAssignment[] = [];
    for (const user of users) {
      for (const project of projects) {
        for (const role of await this.store.listUserProjectRoles(user.id, project.id)) {
          if (!f.roleId || role.id === f.roleId) out.push({ role, user, project });
        }
      }
    }
    return out;
  }
}
