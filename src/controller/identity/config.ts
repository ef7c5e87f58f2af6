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
import { Type, type Static } from '@sinclair/typebox';
import { checkConfig, ConfigError } from '../../common/config-file.js';
import type { IdentityService } from './service.js';

/** the roles the policy knows (bootstrap creates them); anything else would grant nothing */
export const KNOWN_ROLES = ['admin', 'member', 'reader'];

const Name = Type.String({ pattern: '\\S' });
/** the config file's `identity` section */
export const IdentityConfigSchema = Type.Object({
  projects: Type.Optional(Type.Array(Type.Object({
    name: Name,
    description: Type.Optional(Type.String()),
  }, { additionalProperties: false }))),
  users: Type.Optional(Type.Array(Type.Object({
    name: Name,
    password: Name,
    project: Type.Optional(Name),
    roles: Type.Optional(Type.Array(Type.Union(KNOWN_ROLES.map((r) => Type.Literal(r))))),
    enabled: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false }))),
}, { additionalProperties: false });

export type IdentityConfig = Static<typeof IdentityConfigSchema>;

export interface IdentityConfigResult { projects: string[]; users: string[]; }

/** what the schema cannot say; `at` is the section's JSON pointer in its file */
export function checkIdentityRules(c: IdentityConfig, source: string, at = ''): void {
  c.users?.forEach((u, i) => {
    if (u.roles?.length && u.project === undefined) throw new ConfigError(`${source}: ${at}/users/${i}/roles: roles need a "project"`);
  });
}

/** Checks a config file's `identity` section; throws a ConfigError naming the key path (`source` first). */
export function parseIdentityConfig(raw: unknown, source = 'identity'): IdentityConfig {
  if (raw === undefined || raw === null) return {};
  const c = checkConfig(IdentityConfigSchema, raw, source);
  checkIdentityRules(c, source);
  return c;
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
