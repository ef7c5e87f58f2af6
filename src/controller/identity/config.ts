/**
 * Users, projects and role grants declared in the controller's config file:
 *
 *   "identity": {
 *     "projects": [{ "name": "web", "description": "the web team" }],
 *     "users": [{ "name": "alice", "password": "...", "project": "web", "roles": ["member"], "enabled": true }]
 *   }
 *
 * applyIdentityConfig is idempotent (run at every controller start): it creates what is missing, sets passwords
 * that differ (revoking that user's tokens), grants the listed roles and applies `enabled`. It never deletes a
 * project or user and never removes a grant that is not listed (the CLI may have added it). Names live in the
 * Default domain. A user without `roles` gets `member` on its project.
 */
import type { IdentityService } from './service.js';

export interface IdentityConfig {
  projects?: Array<{ name: string; description?: string }>;
  users?: Array<{ name: string; password: string; project?: string; roles?: string[]; enabled?: boolean }>;
}

export interface IdentityConfigResult { projects: string[]; users: string[]; }

/** the roles the policy knows (bootstrap creates them); anything else would grant nothing */
export const KNOWN_ROLES = ['admin', 'member', 'reader'];

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Checks the shape of a config file's `identity` section; throws an Error naming the offending entry. */
export function parseIdentityConfig(raw: unknown): IdentityConfig {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) throw new Error('identity: expected an object with "projects" and/or "users"');
  for (const k of Object.keys(raw)) if (k !== 'projects' && k !== 'users') throw new Error(`identity: unknown key "${k}"`);
  const list = (key: 'projects' | 'users'): Record<string, unknown>[] => {
    const v = raw[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every(isObj)) throw new Error(`identity.${key}: expected a list of objects`);
    return v;
  };
  const projects = list('projects').map((p, i) => {
    if (!nonEmpty(p.name)) throw new Error(`identity.projects[${i}].name: a non-empty string is required`);
    if (p.description !== undefined && typeof p.description !== 'string') throw new Error(`identity.projects[${i}].description: expected a string`);
    return { name: p.name, ...(p.description !== undefined ? { description: p.description as string } : {}) };
  });
  const users = list('users').map((u, i) => {
    const at = `identity.users[${i}]`;
    if (!nonEmpty(u.name)) throw new Error(`${at}.name: a non-empty string is required`);
    if (!nonEmpty(u.password)) throw new Error(`${at}.password: a non-empty string is required (user ${u.name})`);
    if (u.project !== undefined && !nonEmpty(u.project)) throw new Error(`${at}.project: expected a project name`);
    if (u.roles !== undefined && (!Array.isArray(u.roles) || !u.roles.every(nonEmpty))) throw new Error(`${at}.roles: expected a list of role names`);
    const unknown = Array.isArray(u.roles) ? (u.roles as string[]).filter((r) => !KNOWN_ROLES.includes(r)) : [];
    if (unknown.length) throw new Error(`${at}.roles: unknown role ${unknown.join(', ')} (known: ${KNOWN_ROLES.join(', ')})`);
    if (u.roles !== undefined && u.project === undefined && (u.roles as unknown[]).length) throw new Error(`${at}.roles: roles need a "project"`);
    if (u.enabled !== undefined && typeof u.enabled !== 'boolean') throw new Error(`${at}.enabled: expected true or false`);
    return {
      name: u.name, password: u.password,
      ...(u.project !== undefined ? { project: u.project as string } : {}),
      ...(u.roles !== undefined ? { roles: u.roles as string[] } : {}),
      ...(u.enabled !== undefined ? { enabled: u.enabled as boolean } : {}),
    };
  });
  return { projects, users };
}

/** Make the store hold what `cfg` declares (see the module comment). Accepts the raw JSON section too. */
export async function applyIdentityConfig(identity: IdentityService, cfg: IdentityConfig | unknown): Promise<IdentityConfigResult> {
  const c = parseIdentityConfig(cfg);
  await identity.ensureDomain('Default', 'default');
  for (const r of KNOWN_ROLES) await identity.ensureRole(r);
  const declared = new Map((c.projects ?? []).map((p) => [p.name, p]));
  // a project named only by a user is created too
  for (const u of c.users ?? []) if (u.project && !declared.has(u.project)) declared.set(u.project, { name: u.project });
  const projectIds = new Map<string, string>();
  for (const p of declared.values()) projectIds.set(p.name, (await identity.ensureProject(p.name, 'default', p.description ?? '')).id);
  for (const u of c.users ?? []) {
    const projectId = u.project ? projectIds.get(u.project)! : undefined;
    const user = await identity.ensureUser(u.name, u.password, projectId ? { defaultProjectId: projectId } : {});
    if (projectId) for (const r of u.roles ?? ['member']) await identity.grant(user.id, projectId, r);
    if (u.enabled !== undefined && u.enabled !== user.enabled) await identity.setUserEnabled(user.id, u.enabled);
  }
  return { projects: [...declared.keys()], users: (c.users ?? []).map((u) => u.name) };
}
