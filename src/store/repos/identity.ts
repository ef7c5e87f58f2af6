/** Identity: domains, projects, users, roles and their assignments, revoked tokens. */
import type { Domain, Project, Role, User } from '../types.js';

export interface IdentityRepo {
  createDomain(d: Domain): Promise<void>;
  getDomain(id: string): Promise<Domain | null>;
  getDomainByName(name: string): Promise<Domain | null>;
  createProject(p: Project): Promise<void>;
  getProject(id: string): Promise<Project | null>;
  getProjectByName(domainId: string, name: string): Promise<Project | null>;
  listProjects(): Promise<Project[]>;
  createUser(u: User): Promise<void>;
  getUser(id: string): Promise<User | null>;
  getUserByName(domainId: string, name: string): Promise<User | null>;
  updateUser(id: string, changes: Partial<Omit<User, 'id'>>): Promise<void>;
  listUsers(): Promise<User[]>;
  createRole(r: Role): Promise<void>;
  getRoleByName(name: string): Promise<Role | null>;
  listRoles(): Promise<Role[]>;
  assignRole(userId: string, projectId: string, roleId: string): Promise<void>;
  unassignRole(userId: string, projectId: string, roleId: string): Promise<void>;
  /** roles the user holds on the project */
  listUserProjectRoles(userId: string, projectId: string): Promise<Role[]>;
  revokeToken(tokenId: string, expiresAt: string): Promise<void>;
  isTokenRevoked(tokenId: string): Promise<boolean>;
  purgeExpiredRevocations(now: string): Promise<number>;
}
