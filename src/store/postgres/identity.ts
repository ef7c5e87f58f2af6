/** PostgreSQL repository of identity: domains, projects, users, roles, role assignments, revoked tokens. */
import type { IdentityRepo } from '../repos/identity.js';
import type { Domain, Project, Role, User } from '../types.js';
import { assignments, bool, type FieldMap } from '../sqlite/columns.js';
import type { Row } from './db.js';
import { PgRepository } from './repository.js';

const USER_FIELDS: FieldMap = {
  name: ['name', (v: string) => v], domainId: ['domain_id', (v: string) => v],
  passwordHash: ['password_hash', (v: string) => v], enabled: ['enabled', (v: boolean) => (v ? 1 : 0)],
  defaultProjectId: ['default_project_id', (v: string | null) => v],
  tokensValidAfter: ['tokens_valid_after', (v: string) => v],
};

export class PgIdentity extends PgRepository implements IdentityRepo {
  async createDomain(d: Domain): Promise<void> {
    await this.run('INSERT INTO domains (id, name, enabled) VALUES (?, ?, ?)', [d.id, d.name, d.enabled ? 1 : 0]);
  }
  async getDomain(id: string): Promise<Domain | null> { return domain(await this.one('SELECT * FROM domains WHERE id = ?', [id])); }
  async getDomainByName(name: string): Promise<Domain | null> { return domain(await this.one('SELECT * FROM domains WHERE name = ?', [name])); }
  async createProject(p: Project): Promise<void> {
    await this.run('INSERT INTO projects (id, name, domain_id, enabled, description) VALUES (?, ?, ?, ?, ?)',
      [p.id, p.name, p.domainId, p.enabled ? 1 : 0, p.description]);
  }
  async getProject(id: string): Promise<Project | null> { return project(await this.one('SELECT * FROM projects WHERE id = ?', [id])); }
  async getProjectByName(domainId: string, name: string): Promise<Project | null> {
    return project(await this.one('SELECT * FROM projects WHERE domain_id = ? AND name = ?', [domainId, name]));
  }
  async listProjects(): Promise<Project[]> { return (await this.all('SELECT * FROM projects ORDER BY name COLLATE "C"')).map((r) => project(r)!); }
  async createUser(u: User): Promise<void> {
    await this.run(`INSERT INTO users (id, name, domain_id, password_hash, enabled, default_project_id, tokens_valid_after)
      VALUES (?, ?, ?, ?, ?, ?, ?)`, [u.id, u.name, u.domainId, u.passwordHash, u.enabled ? 1 : 0, u.defaultProjectId, u.tokensValidAfter]);
  }
  async getUser(id: string): Promise<User | null> { return user(await this.one('SELECT * FROM users WHERE id = ?', [id])); }
  async getUserByName(domainId: string, name: string): Promise<User | null> {
    return user(await this.one('SELECT * FROM users WHERE domain_id = ? AND name = ?', [domainId, name]));
  }
  async updateUser(id: string, c: Partial<Omit<User, 'id'>>): Promise<void> {
    const { sets, params } = assignments(c, USER_FIELDS, 'user');
    if (sets.length) await this.run(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
  }
  async listUsers(): Promise<User[]> { return (await this.all('SELECT * FROM users ORDER BY name COLLATE "C"')).map((r) => user(r)!); }
  async createRole(r: Role): Promise<void> { await this.run('INSERT INTO roles (id, name) VALUES (?, ?)', [r.id, r.name]); }
  async getRoleByName(name: string): Promise<Role | null> {
    const r = await this.one('SELECT id, name FROM roles WHERE name = ?', [name]);
    return r ? { id: r.id as string, name: r.name as string } : null;
  }
  async listRoles(): Promise<Role[]> { return (await this.all('SELECT id, name FROM roles ORDER BY name COLLATE "C"')) as unknown as Role[]; }
  async assignRole(userId: string, projectId: string, roleId: string): Promise<void> {
    await this.run('INSERT INTO role_assignments (user_id, project_id, role_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [userId, projectId, roleId]);
  }
  async unassignRole(userId: string, projectId: string, roleId: string): Promise<void> {
    await this.run('DELETE FROM role_assignments WHERE user_id = ? AND project_id = ? AND role_id = ?', [userId, projectId, roleId]);
  }
  async listUserProjectRoles(userId: string, projectId: string): Promise<Role[]> {
    return (await this.all(`SELECT r.id, r.name FROM role_assignments a JOIN roles r ON r.id = a.role_id
      WHERE a.user_id = ? AND a.project_id = ? ORDER BY r.name COLLATE "C"`, [userId, projectId])) as unknown as Role[];
  }
  async revokeToken(tokenId: string, expiresAt: string): Promise<void> {
    await this.run('INSERT INTO revoked_tokens (token_id, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING', [tokenId, expiresAt]);
  }
  async isTokenRevoked(tokenId: string): Promise<boolean> {
    return (await this.one('SELECT 1 FROM revoked_tokens WHERE token_id = ?', [tokenId])) !== undefined;
  }
  async purgeExpiredRevocations(at: string): Promise<number> {
    return this.run('DELETE FROM revoked_tokens WHERE expires_at < ?', [at]);
  }
}

function domain(x: Row | undefined): Domain | null {
  return x ? { id: x.id as string, name: x.name as string, enabled: bool(x.enabled) } : null;
}
function project(x: Row | undefined): Project | null {
  return x ? { id: x.id as string, name: x.name as string, domainId: x.domain_id as string, enabled: bool(x.enabled), description: x.description as string } : null;
}
function user(x: Row | undefined): User | null {
  return x ? {
    id: x.id as string, name: x.name as string, domainId: x.domain_id as string, passwordHash: x.password_hash as string,
    enabled: bool(x.enabled), defaultProjectId: (x.default_project_id as string | null) ?? null, tokensValidAfter: x.tokens_valid_after as string,
  } : null;
}
