/**
 * Placement: the scheduler's view proposes a host, the database decides. Each proposal is claimed with one
 * conditional write (store.claimHost: the host's usage row changes only if the server still fits, and the server
 * records the host in the same transaction); a refused claim means the view was stale (another controller, or a
 * claim this view has not seen), so that host's usage is re-read and the next best host is tried.
 */
import type { FlavorSnapshot, Host, Server, Store } from '../../store/index.js';
import { claimOf } from '../../store/index.js';
import { noValidHost } from '../errors.js';
import type { Scheduler } from './scheduler.js';

export class Placement {
  constructor(
    private readonly store: Store,
    readonly scheduler: Scheduler,
    private readonly hosts: { list(): Promise<Host[]>; isUp(h: Host): boolean },
    /** hosts a build is tried on before it fails (Nova's scheduler max_attempts) */
    readonly maxAttempts = 3,
  ) {}

  /** claims a host for the server (an admin's requested host, or the best one); throws "No valid host was found." */
  async place(s: Server, requestedHost?: string, excluded: readonly string[] = []): Promise<string> {
    const held = await this.store.getAllocation(s.id);
    if (held && !excluded.includes(held.host)) return held.host; // a re-driven schedule step: claimed before the crash
    const exclude = [...excluded];
    for (let attempt = 0; attempt < 20; attempt++) {
      const host = this.scheduler.select(s.flavor, { ...(requestedHost ? { forcedHost: requestedHost } : {}), exclude });
      if (await this.store.claimHost(s.id, host, claimOf(s.flavor), this.scheduler.limits(host))) return host;
      this.scheduler.setUsage(host, await this.store.getHostUsage(host));
      if (requestedHost) break;
      exclude.push(host);
    }
    throw noValidHost();
  }

  /** gives back the server's claim on `host` (a build that failed there) */
  async unclaim(serverId: string, host: string, flavor: FlavorSnapshot): Promise<void> {
    await this.store.releaseClaim(serverId);
    this.freed(host, flavor);
  }

  /** a server left its host: the view counts the room at once, before the next refresh */
  freed(host: string, flavor: FlavorSnapshot): void { this.scheduler.free(host, flavor); }

  /** rebuilds the view from the host registry and the claims in the store (after every heartbeat round) */
  async refresh(): Promise<void> {
    const [hosts, usage] = await Promise.all([this.hosts.list(), this.store.listHostUsage()]);
    this.scheduler.refresh(hosts, usage, (h) => this.hosts.isUp(h));
  }
}
