/** What the RPC serves about live migrations (src/agent/rpc-backend.ts): progress, abort, force-complete. */
import { AgentError } from '../../rpc/errors.js';
import type { LiveMigrationActionResponse, LiveMigrationProgress, LiveMigrationResponse } from '../../rpc/protocol/live-migration.js';
import type { AgentDeps } from '../ops/types.js';
import { progressView } from './registry.js';

/** The running migration's live reading, else the last live_migrate's recorded one (its final state as phase). */
export function liveMigrationOf(deps: AgentDeps, uuid: string): LiveMigrationResponse {
  const running = deps.migrations.get(uuid);
  if (running) return { migration: progressView(running) };
  if (!deps.journal.getServer(uuid)) throw new AgentError('unknown_server', `no server ${uuid} on this host`);
  const op = deps.journal.listOperations(uuid, 50).find((o) => o.kind === 'live_migrate');
  const saved = op?.data['progress'] as LiveMigrationProgress | undefined;
  if (!op || !saved) return { migration: null };
  const finished = op.state === 'succeeded' || op.state === 'failed' || op.state === 'rolled_back';
  return { migration: { ...saved, phase: finished ? op.state as LiveMigrationProgress['phase'] : saved.phase } };
}

export async function liveMigrationAction(deps: AgentDeps, uuid: string, action: 'abort' | 'force-complete'): Promise<LiveMigrationActionResponse> {
  const running = deps.migrations.get(uuid);
  if (!running) throw new AgentError('invalid_state', `no live migration of server ${uuid} runs on this host`);
  if (action === 'abort') {
    await running.monitor.abort();
    return { action: 'abort', operationId: running.op.id };
  }
  return { action: await running.monitor.forceComplete(), operationId: running.op.id };
}
