/**
 * HostTransport: the thin seam between the controller's tasks and the hosts. A task step asks one host for one
 * agent operation (`call`) and gets the operation's result; everything else (placement, addresses, state
 * transitions, retries of whole steps) is the task's. The real transport is agents/transport.ts (the agent RPC);
 * tests use test/support/fake-hosts.ts.
 *
 * Every call carries the task's request id (and a tag when one task calls the same server more than once), from
 * which the transport derives the agent's request id: a re-driven step sends the same id, and the agent answers
 * with the operation it already ran instead of running it twice.
 */
import type { OperationKind, ParamsOf } from '../../rpc/protocol/operations.js';
import type { LiveMigrationProgress } from '../../rpc/protocol/live-migration.js';

export type { LiveMigrationProgress } from '../../rpc/protocol/live-migration.js';
import type { NetworkSpec, PeerChangesRequest, PeerChangesResponse, PutPortSecurityRequest } from '../../rpc/protocol/networks.js';

export interface HostCall<K extends OperationKind = OperationKind> {
  host: string;
  kind: K;
  serverId: string;
  params: ParamsOf<K>;
  /** the task's request id (also its instance action's) */
  requestId: string;
  /** distinguishes several calls for one server within one task (e.g. a migration's source and target) */
  tag?: string;
}

export interface HostTransport {
  /** runs the operation on the host and resolves with its result; rejects with HostCallError */
  call<K extends OperationKind>(c: HostCall<K>): Promise<Record<string, unknown>>;
  /** how `host` reads image `imageId` (a path on the controller's own host, else a signed URL) */
  imageSource(host: string, imageId: string): string;
  /** where `host` writes a snapshot of image `imageId` */
  snapshotTarget(host: string, imageId: string): { outputPath: string } | { uploadUrl: string };
  /**
   * read-only, no task: the last `lines` lines (null = all) of the server's serial console log on `host`, raw
   * (the host caps the bytes); rejects with HostCallError ('unavailable' when the host cannot be reached,
   * 'unknown_server' when it has no such server)
   */
  consoleOutput(host: string, serverId: string, lines: number | null): Promise<string>;
  /** the RPC base URL of `host`'s agent as other agents reach it (a migration's target pulls the files from there) */
  agentUrl(host: string): string;


  // --- live migration (issue 14). The task calls, each a `call` with its own tag: live_migrate_prepare on the
  // destination, live_migrate on the source (with the prepare result's destUri / migrateUri / paths), then
  // live_migrate_finish on the destination, or live_migrate_rollback there when live_migrate did not succeed.
  // These three are not operations (the source's live_migrate holds the server) and need no request id:
  /**
   * read-only: the source's running migration as its monitor last read it (every ~0.5 s), or the last one's
   * final numbers with its end state as `phase`; null when the server never live-migrated from that host
   */
  liveMigrationProgress(host: string, serverId: string): Promise<LiveMigrationProgress | null>;
  /**
   * on the source, while live_migrate runs: 'abort' (the call then fails rolled_back, the guest stays) or
   * 'force-complete' (post-copy when the call permitted it, else the guest is paused until it arrives); resolves
   * with what was done; HostCallError 'invalid_state' when no migration runs (or abort in post-copy: Nova's 409)
   */
  liveMigrationAction(host: string, serverId: string, action: 'abort' | 'force-complete'): Promise<'abort' | 'postcopy' | 'pause'>;
  /** Nova's check_can_live_migrate: do the two hosts share their instances dir? (false: block migration needed) */
  sharedInstancePath(sourceHost: string, destHost: string): Promise<boolean>;
  /** make `host` carry tenant network `networkId` as `spec` says (idempotent; rpc/protocol/networks.ts) */
  ensureNetwork(host: string, networkId: string, spec: NetworkSpec): Promise<void>;
  /** the VXLAN peers of networks `host` carries, by delta (idempotent; networks it does not carry are skipped) */
  changePeers(host: string, req: PeerChangesRequest): Promise<PeerChangesResponse>;
  /** the network is no longer needed on `host` (no-op when it is not there; refused while a local NIC uses it) */
  removeNetwork(host: string, networkId: string): Promise<void>;
  /** the ids of the tenant networks `host` carries now (its journal's) */
  hostNetworks(host: string): Promise<string[]>;
  /** new filter rules for a live port on `host` */
  setPortSecurity(host: string, portId: string, req: PutPortSecurityRequest): Promise<void>;
}

/** the agent's request id for one server's share of a task (a multi-create shares one API request id) */
export const agentRequestId = (requestId: string, serverId: string, tag?: string) => `${requestId}.${serverId}${tag ? `.${tag}` : ''}`;

/**
 * A host call that failed: the agent's (or libvirt's, through the agent) stable error code, its message, and
 * whether trying the same call again later could succeed (the host was unreachable).
 */
export class HostCallError extends Error {
  /**
   * `rolledBack`: the host ran the operation, it failed and was undone (a spawn left nothing behind), so the same
   * work may be tried on another host without ever running twice. False when the outcome is unknown (the host was
   * unreachable, the wait timed out) or the undo itself failed.
   */
  constructor(
    readonly code: string, message: string, readonly retriable = false, readonly rolledBack = false,
    /** the agent's finer cause when it has one (e.g. a live migration's 'aborted', 'completion_timeout') */
    readonly agentCause?: string,
  ) {
    super(message);
    this.name = 'HostCallError';
  }
}
