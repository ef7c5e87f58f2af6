import { randomUUID } from 'node:crypto';
import { statementCache, type Database, type StatementCache } from '../../sqlite/index.js';
import { openDatabase, schemaVersion } from './db.js';
import type { OperationRow, ServerRow, StepRow } from './types.js';
import type { OperationKind, OperationState } from '../../rpc/protocol/operations.js';
import type { ErrorInfo } from '../../rpc/errors.js';

export type { OperationRow, ServerRow, StepRow, ResizeSaved } from './types.js';

const now = (): string => new Date().toISOString();
const BOOKKEEPING = new Set(['power', 'desiredPower', 'task', 'opId']);
const json = (v: unknown): string => JSON.stringify(v ?? null);

interface ServerDb {
  uuid: string; spec: string; status: string; desired_power: string; power: string; task: string | null;
  op_id: string | null; files: string; resize_old: string | null; created_at: string; updated_at: string;
}
interface OpDb {
  id: string; request_id: string; server_uuid: string; kind: string; params: string; state: string; step: string;
  progress: number; data: string; result: string | null; error: string | null; attempts: number;
  created_at: string; updated_at: string; finished_at: string | null;
}

function toServer(r: ServerDb): ServerRow {
  return {
    uuid: r.uuid, spec: JSON.parse(r.spec), status: r.status as ServerRow['status'],
    desiredPower: r.desired_power as ServerRow['desiredPower'], power: r.power as ServerRow['power'],
    task: r.task as OperationKind | null, opId: r.op_id, files: JSON.parse(r.files),
    resizeOld: r.resize_old ? JSON.parse(r.resize_old) : null, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}
function toOp(r: OpDb): OperationRow {
  return {
    id: r.id, requestId: r.request_id, serverUuid: r.server_uuid, kind: r.kind as OperationKind,
    params: JSON.parse(r.params), state: r.state as OperationState, step: r.step, progress: r.progress,
    data: JSON.parse(r.data), result: r.result === null ? undefined : JSON.parse(r.result),
    error: r.error === null ? null : JSON.parse(r.error), attempts: r.attempts,
    createdAt: r.created_at, updatedAt: r.updated_at, finishedAt: r.finished_at,
  };
}

const SERVER_COLS: Record<keyof Omit<ServerRow, 'uuid' | 'createdAt' | 'updatedAt'>, [string, (v: never) => unknown]> = {
  spec: ['spec', json], status: ['status', (v) => v], desiredPower: ['desired_power', (v) => v],
  power: ['power', (v) => v], task: ['task', (v) => v], opId: ['op_id', (v) => v], files: ['files', json],
  resizeOld: ['resize_old', (v) => (v === null ? null : json(v))],
};

/**
 * The agent's local journal: "intent before act, result after". Every method is one synchronous SQLite
 * transaction, so a row is durable (synchronous=FULL) before the caller goes on to touch the hypervisor.
 */
export class Journal {
  readonly db: Database;

  /** Prepared once per SQL text (preparing costs more than running these small statements). */
  private readonly q: StatementCache;

  private constructor(db: Database) {
    this.db = db;
    this.q = statementCache(db);
  }

  static open(path: string): Journal {
    return new Journal(openDatabase(path));
  }

  close(): void {
    this.db.close();
  }

  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** Runs fn (one transaction) with synchronous=FULL: for intent rows, written before the hypervisor is touched. */
  durable<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    this.q('PRAGMA synchronous = FULL').run();
    try {
      return fn();
    } finally {
      this.q('PRAGMA synchronous = NORMAL').run();
    }
  }

  // --- servers -----------------------------------------------------------------------------------------

  getServer(uuid: string): ServerRow | undefined {
    const r = this.q('SELECT * FROM servers WHERE uuid = ?').get(uuid) as ServerDb | undefined;
    return r ? toServer(r) : undefined;
  }

  /** Servers that exist on the host as far as the journal knows (deleted ones excluded unless asked). */
  listServers(includeDeleted = false): ServerRow[] {
    const sql = includeDeleted ? 'SELECT * FROM servers ORDER BY created_at' : "SELECT * FROM servers WHERE status != 'deleted' ORDER BY created_at";
    return (this.q(sql).all() as ServerDb[]).map(toServer);
  }

  /** Inserts or replaces (a deleted server's uuid may be spawned again). */
  putServer(row: Omit<ServerRow, 'createdAt' | 'updatedAt'>): ServerRow {
    const t = now();
    this.durable(() => this.q(`INSERT OR REPLACE INTO servers (uuid, spec, status, desired_power, power, task, op_id, files, resize_old, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      row.uuid, json(row.spec), row.status, row.desiredPower, row.power, row.task, row.opId, json(row.files),
      row.resizeOld ? json(row.resizeOld) : null, t, t,
    ));
    return this.getServer(row.uuid)!;
  }

  updateServer(uuid: string, patch: Partial<Omit<ServerRow, 'uuid' | 'createdAt' | 'updatedAt'>>): ServerRow {
    const sets: string[] = [];
    const vals: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = SERVER_COLS[k as keyof typeof SERVER_COLS];
      if (!col || v === undefined) continue;
      sets.push(`${col[0]} = ?`);
      vals.push(col[1](v as never));
    }
    sets.push('updated_at = ?');
    vals.push(now(), uuid);
    const stmt = this.q(`UPDATE servers SET ${sets.join(', ')} WHERE uuid = ?`);
    // power/task bookkeeping is re-derivable from libvirt and the operations table; spec, files, status and
    // the saved resize definition are intent (a redefinition or file creation follows)
    if (Object.keys(patch).every((k) => BOOKKEEPING.has(k))) stmt.run(...vals);
    else this.durable(() => stmt.run(...vals));
    const row = this.getServer(uuid);
    if (!row) throw new Error(`journal: no server ${uuid}`);
    return row;
  }

  /** Records files before they are created, so a crash in between still finds them to clean up. */
  addFiles(uuid: string, files: string[]): ServerRow {
    return this.durable(() => this.db.transaction(() => {
      const s = this.getServer(uuid);
      if (!s) throw new Error(`journal: no server ${uuid}`);
      const set = new Set(s.files);
      for (const f of files) set.add(f);
      return this.updateServer(uuid, { files: [...set] });
    })());
  }

  removeFiles(uuid: string, files: string[]): ServerRow {
    return this.db.transaction(() => {
      const s = this.getServer(uuid);
      if (!s) throw new Error(`journal: no server ${uuid}`);
      const drop = new Set(files);
      return this.updateServer(uuid, { files: s.files.filter((f) => !drop.has(f)) });
    })();
  }

  // --- operations -------------------------------------------------------------------------------------

  /**
   * Writes the intent row and marks the server busy in one transaction. Throws SqliteError
   * (SQLITE_CONSTRAINT_UNIQUE) on a duplicate request id; the runner checks for that first.
   */
  createOperation(o: { requestId: string; serverUuid: string; kind: OperationKind; params: unknown; id?: string }): OperationRow {
    const id = o.id ?? `op-${randomUUID()}`;
    const t = now();
    this.durable(() => this.db.transaction(() => {
      this.q(`INSERT INTO operations (id, request_id, server_uuid, kind, params, state, step, progress, data, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, 'pending', 'accepted', 0, '{}', ?, ?)`).run(id, o.requestId, o.serverUuid, o.kind, json(o.params), t, t);
      this.insertStep(id, 'accepted', null);
      if (this.getServer(o.serverUuid)) this.updateServer(o.serverUuid, { task: o.kind, opId: id });
    })());
    return this.getOperation(id)!;
  }

  getOperation(id: string): OperationRow | undefined {
    const r = this.q('SELECT * FROM operations WHERE id = ?').get(id) as OpDb | undefined;
    return r ? toOp(r) : undefined;
  }

  getOperationByRequestId(requestId: string): OperationRow | undefined {
    const r = this.q('SELECT * FROM operations WHERE request_id = ?').get(requestId) as OpDb | undefined;
    return r ? toOp(r) : undefined;
  }

  listUnfinished(): OperationRow[] {
    return (this.q("SELECT * FROM operations WHERE state IN ('pending', 'running') ORDER BY created_at").all() as OpDb[]).map(toOp);
  }

  listOperations(serverUuid: string, limit = 50): OperationRow[] {
    return (this.q('SELECT * FROM operations WHERE server_uuid = ? ORDER BY created_at DESC, rowid DESC LIMIT ?').all(serverUuid, limit) as OpDb[]).map(toOp);
  }

  steps(opId: string): StepRow[] {
    return this.q('SELECT seq, step, at, detail FROM operation_steps WHERE op_id = ? ORDER BY seq').all(opId) as StepRow[];
  }

  markRunning(id: string): OperationRow {
    this.q("UPDATE operations SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ?").run(now(), id);
    return this.getOperation(id)!;
  }

  /**
   * Records a step (and optionally merges checkpoint data) before the step acts. `durable: false` for steps
   * recovery never reads (the operation row itself is already on disk): no fsync.
   */
  setStep(id: string, step: string, data?: Record<string, unknown>, detail?: string, durable = true): void {
    const write = this.db.transaction(() => {
      if (data) {
        const cur = this.getOperation(id);
        const merged = { ...(cur?.data ?? {}), ...data };
        this.q('UPDATE operations SET step = ?, data = ?, updated_at = ? WHERE id = ?').run(step, json(merged), now(), id);
      } else {
        this.q('UPDATE operations SET step = ?, updated_at = ? WHERE id = ?').run(step, now(), id);
      }
      this.insertStep(id, step, detail ?? null);
    });
    if (durable) this.durable(() => write());
    else write();
  }

  setData(id: string, data: Record<string, unknown>): void {
    this.durable(() => this.db.transaction(() => {
      const cur = this.getOperation(id);
      this.q('UPDATE operations SET data = ?, updated_at = ? WHERE id = ?').run(json({ ...(cur?.data ?? {}), ...data }), now(), id);
    })());
  }

  setProgress(id: string, progress: number): void {
    const p = Math.max(0, Math.min(100, Math.round(progress)));
    this.q('UPDATE operations SET progress = ?, updated_at = ? WHERE id = ?').run(p, now(), id);
  }

  /**
   * Result after: final state + result/error, and the server no longer busy, in one transaction. Not forced to
   * disk: if a power cut loses it, the operation is unfinished at the next start and reconciliation re-derives
   * its outcome from libvirt (every operation is safe to re-drive).
   */
  finishOperation(id: string, state: Exclude<OperationState, 'pending' | 'running'>, outcome: { result?: unknown; error?: ErrorInfo }): OperationRow {
    const t = now();
    this.db.transaction(() => {
      this.q(`UPDATE operations SET state = ?, result = ?, error = ?, progress = CASE WHEN ? = 'succeeded' THEN 100 ELSE progress END,
        updated_at = ?, finished_at = ? WHERE id = ?`).run(
        state, outcome.result === undefined ? null : json(outcome.result), outcome.error ? json(outcome.error) : null, state, t, t, id,
      );
      // an admin password is kept only while the operation may still need it (a re-drive after a crash)
      this.q(`UPDATE operations SET params = json_remove(params, '$.adminPass') WHERE id = ? AND json_extract(params, '$.adminPass') IS NOT NULL`).run(id);
      this.insertStep(id, state, outcome.error ? outcome.error.message : null);
      const op = this.getOperation(id);
      if (op) this.q('UPDATE servers SET task = NULL, op_id = NULL, updated_at = ? WHERE uuid = ? AND op_id = ?').run(t, op.serverUuid, id);
    })();
    return this.getOperation(id)!;
  }

  /**
   * Removes finished operations (and their steps) that finished before `before`, and servers deleted before
   * then that no remaining operation refers to. Unfinished operations and live servers are never touched.
   * A request id older than the retention is forgotten: a controller retrying it that late runs it again.
   */
  pruneFinished(before: Date): { operations: number; servers: number } {
    const cutoff = before.toISOString();
    return this.db.transaction(() => {
      this.q(`DELETE FROM operation_steps WHERE op_id IN (SELECT id FROM operations
        WHERE finished_at IS NOT NULL AND finished_at < ? AND state IN ('succeeded', 'failed', 'rolled_back'))`).run(cutoff);
      const operations = this.q(`DELETE FROM operations
        WHERE finished_at IS NOT NULL AND finished_at < ? AND state IN ('succeeded', 'failed', 'rolled_back')`).run(cutoff).changes;
      const servers = this.q(`DELETE FROM servers WHERE status = 'deleted' AND updated_at < ? AND op_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.server_uuid = servers.uuid)`).run(cutoff).changes;
      return { operations, servers };
    })();
  }

  private insertStep(opId: string, step: string, detail: string | null): void {
    const r = this.q('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM operation_steps WHERE op_id = ?').get(opId) as { n: number };
    this.q('INSERT INTO operation_steps (op_id, seq, step, at, detail) VALUES (?, ?, ?, ?, ?)').run(opId, r.n, step, now(), detail);
  }
}

export function newOperationId(): string {
  return `op-${randomUUID()}`;
}
