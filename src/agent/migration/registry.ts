/**
 * The live migrations running on this host (source side), by server: what the RPC reads for progress and
 * acts on for abort / force-complete while the live_migrate operation holds the server.
 */
import type { LiveMigrationProgress } from '../../rpc/protocol/live-migration.js';
import type { OperationRow } from '../journal/journal.js';
import type { MigrationMonitor } from './monitor.js';

export interface RunningMigration {
  op: OperationRow;
  monitor: MigrationMonitor;
  destUri: string;
  blockMigration: boolean;
  autoConverge: boolean;
}

export class LiveMigrations {
  private readonly byServer = new Map<string, RunningMigration>();

  add(uuid: string, m: RunningMigration): void { this.byServer.set(uuid.toLowerCase(), m); }
  remove(uuid: string): void { this.byServer.delete(uuid.toLowerCase()); }
  get(uuid: string): RunningMigration | undefined { return this.byServer.get(uuid.toLowerCase()); }
}

/** The progress view of a running migration (also what the operation's data keeps as `progress`). */
export function progressView(m: RunningMigration): LiveMigrationProgress {
  const s = m.monitor.stats;
  return {
    operationId: m.op.id, requestId: m.op.requestId, serverUuid: m.op.serverUuid, phase: m.monitor.phase,
    destUri: m.destUri, blockMigration: m.blockMigration, autoConverge: m.autoConverge,
    postCopy: m.monitor.phase === 'postcopy', maxDowntimeMs: m.monitor.maxDowntimeMs, elapsedMs: m.monitor.elapsedMs,
    memoryTotal: s.memoryTotal, memoryProcessed: s.memoryProcessed, memoryRemaining: s.memoryRemaining,
    diskTotal: s.diskTotal, diskProcessed: s.diskProcessed, diskRemaining: s.diskRemaining,
    dataTotal: s.dataTotal, dataProcessed: s.dataProcessed, dataRemaining: s.dataRemaining,
    iterations: s.iterations, events: [...m.monitor.events], updatedAt: new Date().toISOString(),
  };
}
