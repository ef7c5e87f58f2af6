/**
 * Identity: authentication (password and token methods), scoping, token validation and revocation, and the user /
 * project / role management the CLI needs. Keystone v3 semantics, a subset.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Store, User, Project, Domain } from '../../store/index.js';
import { ApiError, badRequest, forbidden, unauthorized, notFound } from '../errors.js';
import type { ControllerConfig } from '../config.js';
import type { RequestContext } from '../context.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { TokenSigner, type TokenPayload } from './tokens.js';
import { buildCatalog, type CatalogEntry } from './catalog.js';
import { TokenBuckets } from './rate-limit.js';

/** Keystone's implied roles: admin implies member implies reader */
const IMPLIES: Record<string, string[]> = { admin: ['member', 'reader'], member: ['reader'] };

export interface TokenInfo {
  payload: TokenPayload;
  user: User;
  userDomain: Domain;
  project: Project | null;
  projectDomain: Domain | null;
  roles: Array<{ id: string; name: string }>;
}

export interface TokenBody {
  token: {
    methods: string[];
    user: { id: string; name: string; domain: { id: string; name: string }; password_expires_at: null };
    audit_ids: string[];
    expires_at: string;
    issued_at: string;
    project?: { id: string; name: string; domain: { id: string; name: string } };
    roles?: Array<{ id: string; name: string }>;
    catalog?: CatalogEntry[];
    is_domain?: boolean;
  };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Keystone answers every authentication failure with the same 401, so that it reveals nothing. */
const authFailed = () => unauthorized('The request you have made requires authentication.');

export class IdentityService {
  private signer: TokenSigner | null = null;
  private readonly issueLimit: TokenBuckets;

  constructor(private readonly store: Store, private readonly cfg: ControllerConfig) {
    this.issueLimit = new TokenBuckets(cfg.tokenIssueLimit);
  }

  /** one token issue for this user (or, for a name that matches no user, for that name): 429 past the limit */
  private limitIssue(key: string): void {
    const wait = this.issueLimit.take(key);
    if (wait === 0) return;
    const e = new ApiError('rate_limited', `Too many token requests for this user; retry in ${wait} seconds.`);
    e.retryAfterSeconds = wait;
    throw e;
  }

  /** the signing secret is kept in the store, so tokens survive a controller restart */
  private async getSigner(): Promise<TokenSigner> {
    if (!this.signer) {
      const s = await this.store.setSettingIfAbsent('token_secret', randomBytes(32).toString('base64'));
      this.signer = new TokenSigner(Buffer.from(s, 'base64'));
    }
    return this.signer;
  }

  /** POST /v3/auth/tokens */
  async authenticate(body: unknown): Promise<{ token: string; body: TokenBody }> {
    const auth = obj(obj(body)?.auth);
    const identity = obj(auth?.identity);
    const methods = identity?.methods;
    if (!auth || !identity || !Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
      throw badRequest("Invalid input for field 'identity': 'methods' is a required property");
    }
    let user: User;
    let inherited: TokenPayload | null = null;
    if (methods.includes('password')) {
      user = await this.passwordUser(obj(identity.password));
    } else if (methods.includes('token')) {
      const id = str(obj(identity.token)?.id);
      if (!id) throw badRequest("Invalid input for field 'identity/token': 'id' is a required property");
      const info = await this.validate(id);
      this.limitIssue(info.user.id);
      user = info.user;
      inherited = info.payload;
    } else {
      throw new ApiError('unauthorized', `Attempted to authenticate with an unsupported method.`);
    }
    const project = await this.resolveScope(auth.scope, user);
    const t = Date.now();
    // a token from the token method cannot outlive the token it was made from (Keystone's rule)
    const exp = Math.min(t + this.cfg.tokenTtlSeconds * 1000, inherited?.exp ?? Infinity);
    const signer = await this.getSigner();
    const mth = inherited ? [...new Set([...inherited.mth, 'token'])] : ['password'];
    const { token, payload } = signer.issue({ sub: user.id, ...(project ? { prj: project.id } : {}), mth, iat: t, exp });
    const info = await this.describe(payload, user, project);
    return { token, body: this.tokenBody(info) };
  }

  private async passwordUser(pw: Json | null): Promise<User> {
    const u = obj(pw?.user);
    const password = u?.password;
    if (!u || typeof password !== 'string') throw badRequest("Invalid input for field 'identity/password/user': 'password' is a required property");
    let user: User | null = null;
    let key: string;
    const id = str(u.id);
    if (id) {
      user = await this.store.getUser(id);
      key = id;
    } else {
      const name = str(u.name);
      if (!name) throw badRequest("Invalid input for field 'identity/password/user': 'id' or 'name' is required");
      const dom = await this.findDomain(obj(u.domain));
      user = dom ? await this.store.getUserByName(dom.id, name) : null;
      key = user?.id ?? `name:${dom?.id ?? ''}/${name}`;
    }
    // before the password check: guesses are bounded too, and cost no scrypt once over the limit
    this.limitIssue(key);
    if (!user || !user.enabled) throw authFailed();
    if (!(await verifyPassword(password, user.passwordHash))) throw authFailed();
    return user;
  }

  private async findDomain(d: Json | null): Promise<Domain | null> {
    if (!d) throw badRequest("Invalid input for field 'domain': 'id' or 'name' is required");
    const id = str(d.id); const name = str(d.name);
    const dom = id ? await this.store.getDomain(id) : name ? await this.store.getDomainByName(name) : null;
    return dom && dom.enabled ? dom : null;
  }

  private async resolveScope(scope: unknown, user: User): Promise<Project | null> {
    if (scope === undefined || scope === null) {
      // no scope: Keystone scopes to the default project when the user has a role there, else unscoped
      if (user.defaultProjectId) {
        const p = await this.store.getProject(user.defaultProjectId);
        if (p && p.enabled && (await this.store.listUserProjectRoles(user.id, p.id)).length > 0) return p;
      }
      return null;
    }
    if (scope === 'unscoped') return null;
    const s = obj(scope);
    const pj = obj(s?.project);
    if (!pj) {
      if (s && 'domain' in s) throw badRequest('Domain-scoped tokens are not supported.');
      if (s && 'system' in s) throw badRequest('System-scoped tokens are not supported.');
      throw badRequest("Invalid input for field 'scope': 'project' is required");
    }
    let project: Project | null = null;
    const id = str(pj.id);
    if (id) project = await this.store.getProject(id);
    else {
      const name = str(pj.name);
      if (!name) throw badRequest("Invalid input for field 'scope/project': 'id' or 'name' is required");
      const dom = await this.findDomain(obj(pj.domain));
      project = dom ? await this.store.getProjectByName(dom.id, name) : null;
    }
    if (!project || !project.enabled) throw authFailed();
    if ((await this.store.listUserProjectRoles(user.id, project.id)).length === 0) throw authFailed();
    return project;
  }

  /** Validate a token: signature, expiry, revocation, user still enabled, roles still held. */
  async validate(token: string): Promise<TokenInfo> {
    const p = (await this.getSigner()).verify(token);
    if (!p) throw unauthorized('The request you have made requires authentication.');
    if (p.exp <= Date.now()) throw unauthorized('The request you have made requires authentication.');
    if (await this.store.isTokenRevoked(p.jti)) throw unauthorized('The request you have made requires authentication.');
    const user = await this.store.getUser(p.sub);
    if (!user || !user.enabled || p.iat < Date.parse(user.tokensValidAfter)) throw unauthorized('The request you have made requires authentication.');
    let project: Project | null = null;
    if (p.prj) {
      project = await this.store.getProject(p.prj);
      if (!project || !project.enabled) throw unauthorized('The request you have made requires authentication.');
    }
    const info = await this.describe(p, user, project);
    if (project && info.roles.length === 0) throw unauthorized('The request you have made requires authentication.');
    return info;
  }

  private async describe(payload: TokenPayload, user: User, project: Project | null): Promise<TokenInfo> {
    const userDomain = (await this.store.getDomain(user.domainId))!;
    let roles: Array<{ id: string; name: string }> = [];
    let projectDomain: Domain | null = null;
    if (project) {
      projectDomain = (await this.store.getDomain(project.domainId))!;
      const direct = await this.store.listUserProjectRoles(user.id, project.id);
      const names = new Set(direct.map((r) => r.name));
      for (const r of direct) for (const i of IMPLIES[r.name] ?? []) names.add(i);
      const all = await this.store.listRoles();
      roles = all.filter((r) => names.has(r.name)).map((r) => ({ id: r.id, name: r.name }));
    }
    return { payload, user, userDomain, project, projectDomain, roles };
  }

  tokenBody(i: TokenInfo): TokenBody {
    const body: TokenBody = {
      token: {
        methods: i.payload.mth,
        user: { id: i.user.id, name: i.user.name, domain: { id: i.userDomain.id, name: i.userDomain.name }, password_expires_at: null },
        audit_ids: [i.payload.jti],
        expires_at: new Date(i.payload.exp).toISOString().replace(/\.\d{3}Z$/, '.000000Z'),
        issued_at: new Date(i.payload.iat).toISOString().replace(/\.\d{3}Z$/, '.000000Z'),
      },
    };
    if (i.project && i.projectDomain) {
      body.token.project = { id: i.project.id, name: i.project.name, domain: { id: i.projectDomain.id, name: i.projectDomain.name } };
      body.token.roles = i.roles;
      body.token.is_domain = false;
      body.token.catalog = buildCatalog(this.cfg, i.project.id);
    }
    return body;
  }

  /** the service catalog as tokens carry it; projectId `$(project_id)s` gives Keystone's endpoint templates */
  catalog(projectId: string | null): CatalogEntry[] { return buildCatalog(this.cfg, projectId); }

  get region(): string { return this.cfg.region; }

  /**
   * Keystone's identity:validate_token / check_token / revoke_token rule: the subject token's own user, or an admin;
   * anyone else is 403 (seeing another user's token would show their roles and catalog, revoking it logs them out).
   */
  authorizeTokenAccess(caller: TokenInfo, subject: TokenInfo, action: 'validate_token' | 'check_token' | 'revoke_token'): void {
    if (caller.user.id === subject.user.id || caller.roles.some((r) => r.name === 'admin')) return;
    throw forbidden(`You are not authorized to perform the requested action: identity:${action}.`);
  }

  /** DELETE /v3/auth/tokens (after validate and authorizeTokenAccess): a revocation record that lives until the token would have expired anyway */
  async revoke(info: TokenInfo): Promise<void> {
    await this.store.revokeToken(info.payload.jti, new Date(info.payload.exp).toISOString());
  }

  /** Per-request context for service routes. */
  async context(token: string, requestId: string): Promise<RequestContext> {
    const i = await this.validate(token);
    return {
      requestId, userId: i.user.id, userName: i.user.name, projectId: i.project?.id ?? '', projectName: i.project?.name ?? '',
      domainId: i.user.domainId, roles: i.roles.map((r) => r.name), tokenId: i.payload.jti,
      ...(this.cfg.policy ? { policy: this.cfg.policy } : {}),
    };
  }

  /** projects where the user holds any role (GET /v3/auth/projects) */
  async userProjects(userId: string): Promise<Array<{ id: string; name: string; domain_id: string; enabled: boolean; description: string }>> {
    const out = [];
    for (const p of await this.store.listProjects()) {
      if ((await this.store.listUserProjectRoles(userId, p.id)).length) out.push({ id: p.id, name: p.name, domain_id: p.domainId, enabled: p.enabled, description: p.description });
    }
    return out;
  }

  // ---- management (bootstrap, config file, `novalet user|project`)

  async ensureDomain(name: string, id = name === 'Default' ? 'default' : randomUUID().replace(/-/g, '')): Promise<Domain> {
    const d = await this.store.getDomainByName(name);
    if (d) return d;
    const nd = { id, name, enabled: true };
    await this.store.createDomain(nd);
    return nd;
  }

  async ensureProject(name: string, domainId = 'default', description = ''): Promise<Project> {
    const p = await this.store.getProjectByName(domainId, name);
    if (p) return p;
    const np = { id: randomUUID().replace(/-/g, ''), name, domainId, enabled: true, description };
    await this.store.createProject(np);
    return np;
  }

  async ensureRole(name: string): Promise<{ id: string; name: string }> {
    const r = await this.store.getRoleByName(name);
    if (r) return r;
    const nr = { id: randomUUID().replace(/-/g, ''), name };
    await this.store.createRole(nr);
    return nr;
  }

  /**
   * Create a user, or update an existing one's password (and default project when given). An unchanged password
   * keeps its hash and the user's tokens; a changed one revokes every token issued so far.
   */
  async ensureUser(name: string, password: string, opts: { domainId?: string; defaultProjectId?: string | null } = {}): Promise<User> {
    const domainId = opts.domainId ?? 'default';
    const existing = await this.store.getUserByName(domainId, name);
    if (existing) {
      if (!(await verifyPassword(password, existing.passwordHash))) await this.setPassword(existing.id, password);
      if (opts.defaultProjectId !== undefined && opts.defaultProjectId !== existing.defaultProjectId) {
        await this.store.updateUser(existing.id, { defaultProjectId: opts.defaultProjectId });
      }
      return (await this.store.getUser(existing.id))!;
    }
    const u: User = {
      id: randomUUID().replace(/-/g, ''), name, domainId, passwordHash: await hashPassword(password), enabled: true,
      defaultProjectId: opts.defaultProjectId ?? null, tokensValidAfter: new Date(0).toISOString(),
    };
    await this.store.createUser(u);
    return u;
  }

  /** A new password; every token issued before now stops working (Keystone revokes on password change). */
  async setPassword(userId: string, password: string): Promise<void> {
    if (!(await this.store.getUser(userId))) throw notFound(`Could not find user: ${userId}.`);
    await this.store.updateUser(userId, { passwordHash: await hashPassword(password), tokensValidAfter: new Date(Date.now() + 1).toISOString() });
  }

  async grant(userId: string, projectId: string, roleName: string): Promise<void> {
    const r = await this.ensureRole(roleName);
    await this.store.assignRole(userId, projectId, r.id);
  }

  /** Disabling a user revokes every token issued to them so far (tokens_valid_after = now). */
  async setUserEnabled(userId: string, enabled: boolean): Promise<void> {
    const u = await this.store.getUser(userId);
    if (!u) throw notFound(`Could not find user: ${userId}.`);
    await this.store.updateUser(userId, enabled ? { enabled } : { enabled, tokensValidAfter: new Date(Date.now() + 1).toISOString() });
  }
}
