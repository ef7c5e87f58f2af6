/** SQLite repository of identity: domains, projects, users, roles, role assignments, revoked tokens. */
import type { IdentityRepo } from '../repos/identity.js';
import type { Domain, Project, Role, User } from '../types.js';
import { assignments, bool, type FieldMap, type Row } from './columns.js';
import { SqliteRepository } from './repository.js';

const USER_FIELDS: FieldMap = {
  name: ['name', (v: string) => v], domainId: ['domain_id', (v: string) => v],
  passwordHash: ['password_hash', (v: string) => v], enabled: ['enabled', (v: boolean) => (v ? 1 : 0)],
  defaultProjectId: ['default_project_id', (v: string | null) => v],
  tokensValidAfter: ['tokens_valid_after', (v: string) => v],
};

export class SqliteIdentity extends SqliteRepository implements IdentityRepo {
  async createDomain(d: Domain): Promise<void> {
    this.db.prepare('INSERT INTO domains (id, name, enabled) VALUES (?, ?, ?)').run(d.id, d.name, d.enabled ? 1 : 0);
  }
  async getDomain(id: string): Promise<Domain | null> { return domain(this.db.prepare('SELECT * FROM domains WHERE id = ?').get(id)); }
  async getDomainByName(name: string): Promise<Domain | null> { return domain(this.db.prepare('SELECT * FROM domains WHERE name = ?').get(name)); }
  async createProject(p: Project): Promise<void> {
    this.db.prepare('INSERT INTO projects (id, name, domain_id, enabled, description) VALUES (?, ?, ?, ?, ?)')
      .run(p.id, p.name, p.domainId, p.enabled ? 1 : 0, p.description);
  }
  async getProject(id: string): Promise<Project | null> { return project(this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id)); }
  async getProjectByName(domainId: string, name: string): Promise<Project | null> {
    return project(this.db.prepare('SELECT * FROM projects WHERE domain_id = ? AND name = ?').get(domainId, name));
  }
  async listProjects(): Promise<Project[]> { return (this.db.prepare('SELECT * FROM projects ORDER BY name').all()).map((r) => project(r)!); }
  async createUser(u: User): Promise<void> {
    this.db.prepare(`INSERT INTO users (id, name, domain_id, password_hash, enabled, default_project_id, tokens_valid_after)
      VALUES (?, ?, ?, ?, ?, ?, ?)`).run(u.id, u.name, u.domainId, u.passwordHash, u.enabled ? 1 : 0, u.defaultProjectId, u.tokensValidAfter);
  }
  async getUser(id: string): Promise<User | null> { return user(this.db.prepare('SELECT * FROM users WHERE id = ?').get(id)); }
  async getUserByName(domainId: string, name: string): Promise<User | null> {
    return user(this.db.prepare('SELECT * FROM users WHERE domain_id = ? AND name = ?').get(domainId, name));
  }
  async updateUser(id: string, c: Partial<Omit<User, 'id'>>): Promise<void> {
    const { sets, params } = assignments(c, USER_FIELDS, 'user');
    if (sets.length) this.db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
  }
  async listUsers(): Promise<User[]> { return this.db.prepare('SELECT * FROM users ORDER BY name').all().map((r) => user(r)!); }
  async createRole(r: Role): Promise<void> { this.db.prepare('INSERT INTO roles (id, name) VALUES (?, ?)').run(r.id, r.name); }
  async getRoleByName(name: string): Promise<Role | null> {
    const r = this.db.prepare('SELECT * FROM roles WHERE name = ?').get(name) as Role | undefined;
    return r ?? null;
  }
  async listRoles(): Promise<Role[]> { return this.db.prepare('SELECT id, name FROM roles ORDER BY name').all() as Role[]; }
  async assignRole(userId: string, projectId: string, roleId: string): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO role_assignments (user_id, project_id, role_id) VALUES (?, ?, ?)').run(userId, projectId, roleId);
  }
  async unassignRole(userId: string, projectId: string, roleId: string): Promise<void> {
    this.db.prepare('DELETE FROM role_assignments WHERE user_id = ? AND project_id = ? AND role_id = ?').run(userId, projectId, roleId);
  }
  async listUserProjectRoles(userId: string, projectId: string): Promise<Role[]> {
    return this.db.prepare(`SELECT r.id, r.name FROM role_assignments a JOIN roles r ON r.id = a.role_id
      WHERE a.user_id = ? AND a.project_id = ? ORDER BY r.name`).all(userId, projectId) as Role[];
  }
  async revokeToken(tokenId: string, expiresAt: string): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO revoked_tokens (token_id, expires_at) VALUES (?, ?)').run(tokenId, expiresAt);
  }
  async isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM revoked_tokens WHERE token_id = ?').get(tokenId) !== undefined;
  }
  async purgeExpiredRevocations(at: string): Promise<number> {
    return this.db.prepare('DELETE FROM revoked_tokens WHERE expires_at < ?').run(at).changes;
  }
}

function domain(r: unknown): Domain | null {
  if (!r) return null; const x = r as Row;
  return { id: x.id as string, name: x.name as string, enabled: bool(x.enabled) };
}
function project(r: unknown): Project | null {
  if (!r) return null; const x = r as Row;
  return { id: x.id as string, name: x.name as string, domainId: x.domain_id as string, enabled: bool(x.enabled), description: x.description as string };
}
function user(r: unknown): User | null {
  if (!r) return null; const x = r as Row;
  return {
    id: x.id as string, name: x.name as string, domainId: x.domain_id as string, passwordHash: x.password_hash as string,
    enabled: bool(x.enabled), defaultProjectId: (x.default_project_id as string | null) ?? null, tokensValidAfter: x.tokens_valid_after as string,
  };
}
