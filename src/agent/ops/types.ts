import type { Logger } from 'pino';
import type { DiskCache, DomainType, Hypervisor } from '../../virt/hypervisor.js';
import type { AgentConfig, AgentPaths } from '../config.js';
import type { DiskTool } from '../disks/disk-tool.js';
import type { EventLog } from '../events.js';
import type { ImageCache } from '../images/image-cache.js';
import type { Journal, OperationRow, ServerRow } from '../journal/journal.js';
import type { PowerWatch } from '../reconcile/power-watch.js';
import type { TenantNetworks } from '../network/tenant-networks.js';
import type { LiveMigrations } from '../migration/registry.js';
import type { OperationKind, ParamsOf } from '../../rpc/protocol/operations.js';

/** Everything an operation may use. The hypervisor is reached only through `hv`. */
export interface AgentDeps {
  hv: Hypervisor;
  journal: Journal;
  disks: DiskTool;
  images: ImageCache;
  paths: AgentPaths;
  config: AgentConfig;
  events: EventLog;
  log: Logger;
  /** where operations wait for a guest's power; PowerSync reports what it learns from libvirt's events there */
  powerWatch: PowerWatch;
  /** tenant networks given to this host, and the bridge/tap/filter of NICs on them (issue 12) */
  networks: TenantNetworks;
  /** live migrations running from this host (progress, abort, force-complete) */
  migrations: LiveMigrations;
  /** kvm or qemu, from hostInfo() (at start, or at the first reconcile that reaches libvirt) */
  domainType: DomainType;
  /** the cache mode of the writable file disks this host defines (direct-io.ts: none where O_DIRECT works) */
  diskCache: DiskCache;
  /** observer of every finished operation (metrics, src/agent/metrics.ts): kind, final state, run time */
  onOperationFinished?: (kind: string, state: string, ms: number) => void;
}

/** The handle an operation runs with: journaling helpers bound to its row. */
export interface OpExec<P> {
  readonly op: OperationRow;
  readonly params: P;
  readonly deps: AgentDeps;
  readonly log: Logger;
  /** the server row, fresh from the journal */
  server(): ServerRow;
  /** records the step (and checkpoint data) BEFORE the step acts */
  step(name: string, data?: Record<string, unknown>): void;
  /** merges checkpoint data without a new step */
  save(data: Record<string, unknown>): void;
  /** current checkpoint (survives a crash; re-driven operations see what the first attempt saved) */
  data(): Record<string, unknown>;
  progress(pct: number): void;
  updateServer(patch: Partial<Omit<ServerRow, 'uuid' | 'createdAt' | 'updatedAt'>>): ServerRow;
}

export interface OperationDef<K extends OperationKind = OperationKind> {
  kind: K;
  /** spawn creates the server; every other kind needs it */
  createsServer?: boolean;
  /** refused while the agent is drained */
  refusedWhenDrained: boolean;
  /**
   * Recovery of this kind never reads the step (reconcile/table.ts asks libvirt, or re-drives whatever the
   * step): steps without checkpoint data are then journaled without forcing them to disk (no fsync).
   */
  stepsAreHints?: boolean;
  /** synchronous precondition check at submit time; throws AgentError('invalid_state') */
  check(server: ServerRow | undefined, params: ParamsOf<K>): void;
  /** forward path; every method it calls must tolerate being re-driven after a crash */
  run(x: OpExec<ParamsOf<K>>): Promise<unknown>;
  /** undo after a failed run (best effort); when present a successful rollback ends the op 'rolled_back' */
  rollback?(x: OpExec<ParamsOf<K>>, error: unknown): Promise<void>;
}
