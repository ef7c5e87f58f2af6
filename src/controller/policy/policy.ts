/**
 * The policy engine: Nova's default rules (defaults.ts) plus the operator's policy file, evaluated per request
 * against the caller's roles and project and the target's project. `enforce` answers Nova's 403 "Policy doesn't
 * allow RULE to be performed." A rule name the engine does not know is refused (fail closed).
 */
import { forbidden } from '../errors.js';
import type { RequestContext } from '../context.js';
import { evaluate, parseCheck, PolicySyntaxError, type Check } from './check.js';
import { API_RULES, BASE_RULES } from './defaults.js';

export class PolicyError extends Error {}

export class Policy {
  private readonly rules = new Map<string, Check>();

  /** `overrides`: rule name -> check string (a policy file); a rule that does not parse throws, naming it */
  constructor(overrides: Record<string, string> = {}) {
    for (const [name, text] of Object.entries({ ...BASE_RULES, ...API_RULES, ...overrides })) {
      try {
        this.rules.set(name, parseCheck(text));
      } catch (err) {
        throw new PolicyError(`policy rule ${JSON.stringify(name)}: ${(err as PolicySyntaxError).message}`);
      }
    }
  }

  /** true when `ctx` may do `rule` on a target of project `targetProject` (default: the caller's own) */
  allowed(ctx: Pick<RequestContext, 'roles' | 'projectId' | 'userId'>, rule: string, targetProject = ctx.projectId): boolean {
    const check = this.rules.get(rule);
    if (!check) return false;
    const creds = { roles: ctx.roles, project_id: ctx.projectId, user_id: ctx.userId, is_admin: ctx.roles.includes('admin') };
    return evaluate(check, creds, { project_id: targetProject, user_id: ctx.userId }, (n) => this.rules.get(n));
  }

  enforce(ctx: Pick<RequestContext, 'roles' | 'projectId' | 'userId'>, rule: string, targetProject?: string): void {
    if (!this.allowed(ctx, rule, targetProject)) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
  }
}

export const DEFAULT_POLICY = new Policy();

/** the request's policy (the controller's, with its policy file), or Nova's defaults */
export function enforce(ctx: RequestContext, rule: string, targetProject?: string): void {
  (ctx.policy ?? DEFAULT_POLICY).enforce(ctx, rule, targetProject);
}
export function allowed(ctx: RequestContext, rule: string, targetProject?: string): boolean {
  return (ctx.policy ?? DEFAULT_POLICY).allowed(ctx, rule, targetProject);
}
