import { Value } from '@sinclair/typebox/value';
import { AgentError, toErrorInfo, type ErrorInfo } from '../../rpc/errors.js';
import { FINISHED_STATES, OperationParams, type OperationKind, type OperationState } from '../../rpc/protocol/operations.js';
import type { ServerSpec } from '../../rpc/protocol/server-spec.js';
import type { OperationRow } from '../journal/journal.js';
import { powerOf } from './helpers.js';
import { operationDef } from './registry.js';
import type { AgentDeps, OpExec } from './types.js';

export interface SubmitRequest {
  requestId: string;
  serverUuid: string;
  kind: OperationKind;
  params: unknown;
}

/** How an adopted (recovered) operation ended. */
export type Outcome =
  | { state: 'succeeded'; result?: unknown }
  | { state: 'failed' | 'rolled_back'; error: ErrorInfo };

/**
 * Runs operations: one per server at a time (a second one gets `server_busy`), idempotent under the request
 * id (a repeated id returns the recorded operation, running or finished — it never runs twice), journaled
 * intent-first. submit() is synchronous up to the intent row, so two racing submits cannot both win.
 */
export class OperationRunner {
  private readonly inflight = new Map<string, Promise<OperationRow>>();
  /** server uuid -> operation id currently executing in this process */
  private readonly busy = new Map<string, string>();
  drained = false;
  /** why new work is refused now (the fencing lease ran out), or null (fencing/controller-lease.ts) */
  fenced: () => string | null = () => null;

  constructor(private readonly deps: AgentDeps) {}

  submit(req: SubmitRequest): { operation: OperationRow; duplicate: boolean } {
    const { journal } = this.deps;
    const seen = journal.getOperationByRequestId(req.requestId);
    if (seen) {
      if (seen.kind !== req.kind || seen.serverUuid !== req.serverUuid) {
        throw new AgentError('bad_request', `request id ${req.requestId} was already used for ${seen.kind} on ${seen.serverUuid}`);
      }
      return { operation: seen, duplicate: true };
    }
    const def = operationDef(req.kind);
    const schema = OperationParams[req.kind];
    if (!Value.Check(schema, req.params)) {
      const first = [...Value.Errors(schema, req.params)][0];
      throw new AgentError('bad_request', `invalid params for ${req.kind}: ${first ? `${first.path || '/'} ${first.message}` : 'schema mismatch'}`);
    }
    if (this.drained && def.refusedWhenDrained) throw new AgentError('draining', 'the agent is drained and refuses new work');
    const fenced = def.refusedWhenDrained ? this.fenced() : null;
    if (fenced) throw new AgentError('draining', fenced);
    const server = journal.getServer(req.serverUuid);
    if (this.busy.has(req.serverUuid) || server?.opId) {
      throw new AgentError('server_busy', `server has operation ${this.busy.get(req.serverUuid) ?? server?.opId} in progress`);
    }
    def.check(server, req.params as never);
    if (def.createsServer) {
      const spec = (req.params as { spec: ServerSpec }).spec;
      if (spec.uuid.toLowerCase() !== req.serverUuid.toLowerCase()) throw new AgentError('bad_request', 'spec.uuid differs from serverUuid');
      spec.uuid = req.serverUuid; // one spelling everywhere (journal key, domain uuid, paths)
      journal.putServer({
        uuid: req.serverUuid, spec, status: 'building', desiredPower: 'running', power: 'nostate',
        task: null, opId: null, files: [], resizeOld: null,
      });
    }
    const op = journal.createOperation({ requestId: req.requestId, serverUuid: req.serverUuid, kind: req.kind, params: req.params });
    this.deps.events.emit({ type: 'operation', uuid: op.serverUuid, requestId: op.requestId, message: `${op.kind} accepted (${op.id})` });
    this.launch(op, (x) => this.forward(x));
    return { operation: op, duplicate: false };
  }

  /** Takes over an unfinished operation found in the journal (reconciliation). */
  adopt(op: OperationRow, body: (x: OpExec<unknown>) => Promise<Outcome>): Promise<OperationRow> {
    const running = this.inflight.get(op.id);
    if (running) return running;
    if (this.busy.has(op.serverUuid)) return Promise.resolve(op);
    return this.launch(op, body);
  }

  isInflight(opId: string): boolean {
    return this.inflight.has(opId);
  }

  busyServers(): string[] {
    return [...this.busy.keys()];
  }

  /** Waits until the operation has finished or timeoutMs elapsed; returns the journal row either way. */
  async wait(opId: string, timeoutMs: number): Promise<OperationRow | undefined> {
    const p = this.inflight.get(opId);
    if (p && timeoutMs > 0) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([p.catch(() => undefined), new Promise((r) => { t = setTimeout(r, timeoutMs); })]);
      clearTimeout(t);
    }
    return this.deps.journal.getOperation(opId);
  }

  /** Waits for every operation in flight (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight.values()]);
  }

  /** The normal forward path: run, or roll back on failure. */
  async forward(x: OpExec<unknown>): Promise<Outcome> {
    const def = operationDef(x.op.kind);
    try {
      return { state: 'succeeded', result: await def.run(x as never) };
    } catch (err) {
      const error = toErrorInfo(err);
      x.log.warn({ err }, `${x.op.kind} failed: ${error.message}`);
      if (!def.rollback) return { state: 'failed', error };
      try {
        x.step('rollback', { failure: error });
        await def.rollback(x as never, err);
        return { state: 'rolled_back', error };
      } catch (rbErr) {
        x.log.error({ err: rbErr }, `${x.op.kind} rollback failed`);
        return { state: 'failed', error: { ...error, message: `${error.message}; rollback failed: ${toErrorInfo(rbErr).message}` } };
      }
    }
  }

  private launch(op: OperationRow, body: (x: OpExec<unknown>) => Promise<Outcome>): Promise<OperationRow> {
    this.busy.set(op.serverUuid, op.id);
    const p = this.execute(op, body).finally(() => {
      this.inflight.delete(op.id);
      if (this.busy.get(op.serverUuid) === op.id) this.busy.delete(op.serverUuid);
    });
    this.inflight.set(op.id, p);
    // submit() does not await it: a failure of the journal itself (closed while shutting down) is only logged;
    // the operation stays unfinished in the journal and the next start recovers it
    p.catch((err: unknown) => this.deps.log.error({ err, opId: op.id }, 'operation could not be journaled'));
    return p;
  }

  private async execute(op: OperationRow, body: (x: OpExec<unknown>) => Promise<Outcome>): Promise<OperationRow> {
    const { journal, events } = this.deps;
    await Promise.resolve(); // let submit() return the pending row first
    const log = this.deps.log.child({ requestId: op.requestId, opId: op.id, server: op.serverUuid, kind: op.kind });
    const t0 = performance.now();
    const started = journal.markRunning(op.id);
    const srv = journal.getServer(op.serverUuid);
    if (srv && srv.opId !== op.id) journal.updateServer(op.serverUuid, { task: op.kind, opId: op.id });
    log.info({ step: started.step, attempt: started.attempts }, `${op.kind} running`);
    let powerRecorded = false;
    const x = this.exec(started, log, () => { powerRecorded = true; });
    let outcome: Outcome;
    try {
      outcome = await body(x);
    } catch (err) {
      outcome = { state: 'failed', error: toErrorInfo(err) };
    }
    // an operation that succeeded after recording libvirt's power (recordPower) needs no second look
    if (!(outcome.state === 'succeeded' && powerRecorded)) await this.refreshPower(op.serverUuid);
    const done = journal.finishOperation(op.id, outcome.state as Exclude<OperationState, 'pending' | 'running'>,
      outcome.state === 'succeeded' ? { result: outcome.result ?? null } : { error: outcome.error });
    log.info({ state: done.state, error: done.error ?? undefined }, `${op.kind} ${done.state}`);
    this.deps.onOperationFinished?.(op.kind, done.state, performance.now() - t0);
    events.emit({ type: 'operation', uuid: op.serverUuid, requestId: op.requestId, message: `${op.kind} ${done.state}${done.error ? `: ${done.error.message}` : ''} (${op.id})` });
    return done;
  }

  private exec(op: OperationRow, log: AgentDeps['log'], onPower: () => void): OpExec<unknown> {
    const { journal } = this.deps;
    const uuid = op.serverUuid;
    return {
      op, params: op.params, deps: this.deps, log,
      server: () => {
        const s = journal.getServer(uuid);
        if (!s) throw new AgentError('unknown_server', `server ${uuid} vanished from the journal`);
        return s;
      },
      step: (name, data) => {
        log.debug({ step: name }, 'step');
        journal.setStep(op.id, name, data, undefined, data !== undefined || !operationDef(op.kind).stepsAreHints);
      },
      save: (data) => journal.setData(op.id, data),
      data: () => journal.getOperation(op.id)?.data ?? {},
      progress: (pct) => journal.setProgress(op.id, pct),
      updateServer: (patch) => {
        if (patch.power !== undefined) onPower();
        return journal.updateServer(uuid, patch);
      },
    };
  }

  /** libvirt is the truth about power: record it after every operation, whatever the outcome. */
  private async refreshPower(uuid: string): Promise<void> {
    const s = this.deps.journal.getServer(uuid);
    if (!s || s.status === 'deleted') return;
    try {
      const power = powerOf(await this.deps.hv.getDomain(uuid));
      if (power !== s.power) this.deps.journal.updateServer(uuid, { power });
    } catch (err) {
      this.deps.log.warn({ err, server: uuid }, 'power refresh failed');
    }
  }
}

export function isFinished(state: OperationState): boolean {
  return FINISHED_STATES.includes(state);
}
