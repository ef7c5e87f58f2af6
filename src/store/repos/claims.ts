/** Claims: one allocation per placed server, one usage row per host (store/sqlite/claims.ts). */
import type { GroupRule, HostUsage, Resources } from '../types.js';

export interface ClaimRepo {
  /**
   * Claims `r` on `host` for the server and records the host on the server, in one transaction, only if the host's
   * usage stays within `limits` (null: unchecked) and the server's group `rule` still holds on that host (checked in
   * the same transaction, so racing members of one group never break it). Idempotent for the same server and host.
   */
  claimHost(serverId: string, host: string, r: Resources, limits: Resources | null, rule?: GroupRule): Promise<boolean>;
  /** changes the server's claim to `r` (resize); growth must fit `limits` */
  resizeClaim(serverId: string, r: Resources, limits: Resources | null): Promise<boolean>;
  releaseClaim(serverId: string): Promise<void>;
  /**
   * A resize or cold migration to another host: in one transaction, the server's claim on its source becomes the
   * migration's (consumer `migrationId`, held until confirm or revert) and `r` is claimed on `target` for the
   * server, only within `limits` and the group `rule`. The server's host is not changed (the task does that when
   * the server arrives). Idempotent: a re-driven step finds both claims made. False when the target has no room
   * (nothing changed).
   */
  claimMigration(serverId: string, migrationId: string, target: string, r: Resources, limits: Resources | null, rule?: GroupRule): Promise<boolean>;
  /** undoes claimMigration (a revert, a failed migration): the target's claim goes, the source's is the server's again; idempotent */
  revertMigrationClaim(serverId: string, migrationId: string): Promise<void>;
  getAllocation(serverId: string): Promise<(Resources & { host: string }) | null>;
  /** resources claimed on the host (the sum of its servers' allocations, kept as one row) */
  getHostUsage(name: string): Promise<HostUsage>;
  /** usage of every host that has claims, in one query (the scheduler's view) */
  listHostUsage(): Promise<Map<string, HostUsage>>;
}
