/**
 * The gate every state-changing action passes: lookup (404), admin policy (403), lock (409), allowed state (409),
 * then ONE conditional write that sets the task's task_state only if nothing changed since we looked (it is the
 * first write of the task's transaction, tasks/engine.ts begin). A loser of that race is answered with the same
 * 409 messages, computed from the state that beat it.
 */
import type { Store, Server, ServerExpect } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { instanceLocked, invalidState, instanceNotFound } from '../errors.js';
import type { ActionRule } from './states.js';
import { serverFor } from './access.js';
import { enforce } from '../policy/policy.js';
import { ACTION_POLICY } from '../policy/defaults.js';

export function checkState(s: Server, rule: Pick<ActionRule, 'name' | 'vmStates' | 'taskStates'>): void {
  if (rule.vmStates && !rule.vmStates.includes(s.vmState)) throw invalidState(rule.name, s.id, 'vm_state', s.vmState);
  if (!rule.taskStates.includes(s.taskState)) throw invalidState(rule.name, s.id, 'task_state', s.taskState);
}

export function checkLock(ctx: RequestContext, s: Server, rule: Pick<ActionRule, 'lock'>): void {
  // Nova: a locked server refuses lock-checked actions unless the caller is admin
  if (rule.lock && s.locked && !isAdmin(ctx)) throw instanceLocked(s.id);
}

/** Everything but the swap: for actions refused later anyway (migrate without hosts) */
export async function precheck(store: Store, ctx: RequestContext, id: string, rule: ActionRule): Promise<Server> {
  const s = await serverFor(store, ctx, id);
  // every action has its policy rule (Nova's defaults: admin-only for rule.admin, else member of the server's project)
  enforce(ctx, ACTION_POLICY[rule.name] ?? `os_compute_api:${rule.name}`, s.projectId);
  checkLock(ctx, s, rule);
  checkState(s, rule);
  return s;
}

/** the swap's condition: the states the rule allows (and unlocked, for a non-admin on a lock-checked action) */
export function expectFor(ctx: RequestContext, rule: ActionRule): ServerExpect {
  return {
    taskState: rule.taskStates,
    ...(rule.vmStates ? { vmState: rule.vmStates } : {}),
    ...(rule.lock && !isAdmin(ctx) ? { locked: false } : {}),
  };
}

/** the answer to a lost swap: the 409 the winner's state calls for */
export async function refused(store: Store, ctx: RequestContext, id: string, rule: ActionRule): Promise<never> {
  const now = await store.getServer(id);
  if (!now) throw instanceNotFound(id);
  checkLock(ctx, now, rule);
  checkState(now, rule);
  // the state matches again by now (the winner already finished): still a lost race
  throw invalidState(rule.name, id, 'task_state', now.taskState);
}
