/**
 * Fencing of a host that comes back after its servers were evacuated: a server may run on its new host only while
 * its old host is proven unable to run it, so before a returning host's heartbeat is recorded (before it shows up,
 * before anything is scheduled there), every guest it still has for a server evacuated away is destroyed through
 * its agent — never started — and its files cleaned. Only then is the host recorded up.
 *
 * The records are the evacuations' (`migration_type` evacuation, source = the host, status accepted, pre-migrating
 * or done: Nova's _destroy_evacuated_instances). A `done` one then gives back the source's claim it held and ends
 * `completed`. The files stay when the host shares its instance directory with the server's new host (the disk is
 * the one the server runs from) or when that cannot be proven (the new host does not answer): data is never
 * deleted on suspicion.
 *
 * Storage: an evacuation cut the host off the storage of the server's volumes (rbd: its address blocklisted,
 * volumes/fencing.ts); once every stale guest of the host is destroyed, the host is let back on (`storage.unfence`)
 * before the records complete, so a failed unfence is tried again with the next heartbeat.
 *
 * Checked: hosts that are not up (an evacuation is refused while the source is up), and hosts that still have an
 * evacuation to fence (one query per heartbeat round), so a healthy cluster pays one query a round.
 */
import type { Migration, Store } from '../../store/index.js';
import { HostCallError, type HostTransport } from '../hosts/transport.js';
import { FENCE_STATUSES } from '../tasks/defs/evacuate.js';

/** an `accepted` record this old without its task is an API call whose controller died before the task began */
const ORPHANED_ACCEPTED_MS = 60_000;

export interface FenceLogger { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; }

export interface FenceResult { host: string; destroyed: string[]; completed: string[]; failed: string[]; }

/** the storage's side (volumes/fencing.ts): lets a host whose stale guests are gone back on */
export interface StorageFence { unfence(host: string): Promise<void> }

export class HostFencer {
  /** what each fence did (the operator's view and the tests): newest last, a few hundred kept */
  readonly log: FenceResult[] = [];

  constructor(private readonly store: Store, private readonly hosts: HostTransport, private readonly logger: FenceLogger = { info: () => {}, warn: () => {} },
    private readonly storage?: StorageFence) {}

  /** the evacuations whose source `host` must still be fenced */
  pending(host: string): Promise<Migration[]> {
    return this.store.listMigrations({ sourceCompute: host, migrationType: 'evacuation', statuses: [...FENCE_STATUSES], limit: 10_000 });
  }

  /** every host with an evacuation still to fence (one query; the heartbeat round asks once) */
  async hostsToFence(): Promise<Set<string>> {
    const all = await this.store.listMigrations({ migrationType: 'evacuation', statuses: [...FENCE_STATUSES], limit: 100_000 });
    return new Set(all.map((m) => m.sourceCompute).filter((h): h is string => !!h));
  }

  /** may the copy on the old host keep its files? (shared instance storage, or no proof that it is not) */
  private async keepFiles(host: string, m: Migration): Promise<boolean> {
    if (!m.destCompute) return true;
    try { return await this.hosts.sharedInstancePath(m.destCompute, host); } catch { return true; }
  }

  /**
   * Fences `host` before its heartbeat is recorded; true when nothing is left to fence (the host may be recorded
   * up), false when a destroy failed (the host stays down; the next heartbeat tries again).
   */
  async fence(host: string): Promise<boolean> {
    const pending = await this.pending(host);
    if (pending.length === 0) return true;
    const r: FenceResult = { host, destroyed: [], completed: [], failed: [] };
    const toComplete: Migration[] = [];
    for (const m of pending) {
      try {
        let keepFiles: boolean;
        if (m.status === 'accepted' && !(await this.store.listServerTasks(m.serverId)).some((t) => t.kind === 'evacuate')) {
          // written by the API just before its task begins; with no task a minute later, the controller died in
          // between: nobody rebuilds the server, so its guest here is not stale (the record is closed, nothing destroyed)
          if (Date.now() - Date.parse(m.createdAt) > ORPHANED_ACCEPTED_MS) {
            await this.store.updateMigration(m.uuid, { status: 'error' }, ['accepted']);
            this.logger.warn({ host, serverId: m.serverId, migration: m.uuid }, 'fencing: an evacuation record without a task is closed (error); the guest is left alone');
            continue;
          }
          keepFiles = true; // the task is about to begin: the guest goes, the disk stays whatever happens next
        } else {
          keepFiles = await this.keepFiles(host, m);
        }
        try {
          await this.hosts.call({ host, kind: 'destroy', serverId: m.serverId, params: keepFiles ? { keepFiles } : {}, requestId: `req-fence-${m.uuid}` });
          r.destroyed.push(m.serverId);
          this.logger.warn({ host, serverId: m.serverId, migration: m.uuid, keepFiles }, 'fencing: destroyed the guest of a server evacuated away from this host');
        } catch (err) {
          // the host never had it, or destroyed it already
          if (!(err instanceof HostCallError && err.code === 'unknown_server')) throw err;
        }
        if (m.status === 'done') toComplete.push(m);
      } catch (err) {
        r.failed.push(m.serverId);
        this.logger.warn({ host, serverId: m.serverId, err: (err as Error).message }, 'fencing failed; the host stays down until it succeeds');
      }
    }
    // every stale guest gone: the host may use the storage again (not before: one left could still write)
    let unfenced = true;
    if (r.failed.length === 0 && this.storage) {
      try { await this.storage.unfence(host); } catch (err) {
        unfenced = false;
        r.failed.push('storage');
        this.logger.warn({ host, err: (err as Error).message }, 'fencing: the storage did not let the host back on; the host stays down until it does');
      }
    }
    // with a failed destroy the others still complete: the failed one keeps the host to fence (and unfence) later
    if (unfenced) {
      for (const m of toComplete) {
        try {
          await this.store.releaseClaim(m.uuid);
          if (await this.store.updateMigration(m.uuid, { status: 'completed' }, ['done'])) r.completed.push(m.serverId);
        } catch (err) {
          r.failed.push(m.serverId);
          this.logger.warn({ host, serverId: m.serverId, err: (err as Error).message }, 'fencing failed; the host stays down until it succeeds');
        }
      }
    }
    this.log.push(r);
    if (this.log.length > 200) this.log.shift();
    if (r.failed.length === 0) this.logger.info({ host, destroyed: r.destroyed.length, completed: r.completed.length }, 'fencing done; the host may come up');
    return r.failed.length === 0;
  }
}
