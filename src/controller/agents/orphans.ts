/**
 * Guests an agent runs for servers the controller has deleted (a delete that lost a race with a spawn, a database
 * restored from a backup, a host that was away while its servers were deleted): the heartbeat finds them, they are
 * reported, and once the server has been deleted longer than `graceMs` the guest is destroyed through its agent
 * (Nova's running_deleted_instance_action = reap). Guests of servers this controller never knew are only
 * reported: the journal may be another cloud's, and killing on suspicion is worse (KubeVirt #18763).
 */
import type { Store } from '../../store/index.js';
import type { HostTransport } from '../hosts/transport.js';

export interface OrphanLogger { warn(obj: object, msg: string): void; }

export class OrphanReaper {
  /** unknown guests already reported (reported once per controller process) */
  private readonly reported = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly hosts: HostTransport,
    private readonly graceMs: number,
    private readonly log: OrphanLogger = { warn: () => {} },
  ) {}

  /** `uuids`: the guests the host's agent reports with no operation running */
  async check(host: string, uuids: string[], nowMs = Date.now()): Promise<void> {
    if (uuids.length === 0) return;
    const live = new Set((await this.store.listServerRevisions({ ids: uuids, host })).map((r) => r.id));
    for (const uuid of uuids) {
      if (live.has(uuid)) continue;
      const s = await this.store.getServer(uuid, { includeDeleted: true });
      if (!s) {
        if (!this.reported.has(uuid)) this.log.warn({ host, serverId: uuid }, 'the host runs a guest of a server this controller never had; left alone');
        this.reported.add(uuid);
        continue;
      }
      if (!s.deleted) continue; // the server lives on another host (its tasks move it; not an orphan of a delete)
      const since = Date.parse(s.terminatedAt ?? s.deletedAt ?? s.updatedAt);
      if (nowMs - since < this.graceMs) {
        this.log.warn({ host, serverId: uuid, deletedAt: s.terminatedAt }, 'the host runs a guest of a deleted server; destroying it after the grace period');
        continue;
      }
      this.log.warn({ host, serverId: uuid }, 'destroying the guest of a deleted server');
      try {
        await this.hosts.call({ host, kind: 'destroy', serverId: uuid, params: {}, requestId: `req-reap-${uuid}` });
      } catch (err) {
        this.log.warn({ host, serverId: uuid, err: (err as Error).message }, 'destroying the guest of a deleted server failed; next heartbeat tries again');
      }
    }
  }
}
