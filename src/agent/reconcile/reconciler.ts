import { toErrorInfo } from '../../rpc/errors.js';
import type { OperationRow } from '../journal/journal.js';
import type { OperationRunner } from '../ops/runner.js';
import type { AgentDeps } from '../ops/types.js';
import { RECOVERY } from './table.js';
import { operationDef } from '../ops/registry.js';

export interface RecoveredOp {
  opId: string;
  kind: string;
  serverUuid: string;
  fromStep: string;
  state: string;
}

/**
 * Finishes, re-drives or rolls back every operation the journal holds as unfinished and that no code in
 * this process is running (i.e. the previous agent process died with it). Runs on start before the RPC
 * server accepts work, and periodically (then it only finds something if an operation was orphaned).
 *
 * While the fencing lease refuses new work (no controller has reached the agent since it started, or for longer
 * than the lease), an interrupted operation that could start a guest (spawn, start, resume, rebuild, ...) is not
 * re-driven: it fails, so that a host coming back never starts a guest the controller may have evacuated; the
 * controller decides again (and its fence can destroy the guest: the server is not left busy).
 */
export async function reconcileOperations(deps: AgentDeps, runner: OperationRunner): Promise<RecoveredOp[]> {
  const out: RecoveredOp[] = [];
  for (const op of deps.journal.listUnfinished()) {
    if (runner.isInflight(op.id)) continue;
    out.push(await recoverOne(deps, runner, op));
  }
  return out;
}

async function recoverOne(deps: AgentDeps, runner: OperationRunner, op: OperationRow): Promise<RecoveredOp> {
  const log = deps.log.child({ requestId: op.requestId, opId: op.id, server: op.serverUuid, kind: op.kind });
  const base = { opId: op.id, kind: op.kind, serverUuid: op.serverUuid, fromStep: op.step };
  const fenced = operationDef(op.kind).refusedWhenDrained ? runner.fenced() : null;
  if (fenced) {
    log.warn({ step: op.step, reason: fenced }, `reconcile: interrupted ${op.kind} not re-driven (fencing lease)`);
    const done = deps.journal.finishOperation(op.id, 'failed', { error: { code: 'draining', message: `agent restarted during ${op.kind}; not re-driven: ${fenced}` } });
    return { ...base, state: done.state };
  }
  if (!deps.journal.getServer(op.serverUuid)) {
    const done = deps.journal.finishOperation(op.id, 'failed', { error: { code: 'unknown_server', message: 'server row missing at recovery' } });
    return { ...base, state: done.state };
  }
  let dom;
  try {
    dom = await deps.hv.getDomain(op.serverUuid);
  } catch (err) {
    // hypervisor unreachable: leave the operation unfinished (server stays busy) and try again next round
    log.warn({ err }, 'reconcile: hypervisor unavailable, operation left for the next round');
    return { ...base, state: op.state };
  }
  log.info({ step: op.step, power: dom?.power ?? 'nostate' }, `reconcile: recovering interrupted ${op.kind}`);
  deps.events.emit({ type: 'reconcile', uuid: op.serverUuid, requestId: op.requestId, message: `recovering ${op.kind} interrupted at ${op.step}` });
  const recovery = RECOVERY[op.kind];
  const done = await runner.adopt(op, async (x) => {
    try {
      return await recovery(x, op, dom, () => runner.forward(x));
    } catch (err) {
      return { state: 'failed', error: toErrorInfo(err) };
    }
  });
  return { ...base, state: done.state };
}
