/**
 * Automatic evacuation (opt-in: `evacuation.auto`). Each round of the host monitor: a host down longer than
 * `delaySeconds` has its servers evacuated, at most `maxConcurrentHosts` hosts at once and `maxServersPerHost`
 * servers of one host at once; nothing at all while more than `maxDownFraction` of the hosts are down (a network
 * partition looks like many hosts dying together, and evacuating then would start every server twice). Each
 * decision not to act is logged with its reason, once per change of reason.
 *
 * The evacuations go through ServerActions.evacuate as an admin's would (the same 400 while the source is up, the
 * same record that fencing reads, the same task), under the instance action `evacuate` with a system user.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/index.js';
import type { ServerActions } from '../compute/actions.js';
import type { RequestContext } from '../context.js';
import type { EvacuationConfig } from './config.js';
import type { HostMonitor } from './monitor.js';

export interface AutoEvacuateLogger { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; }

/** what one round decided (tests, and the log) */
export interface AutoEvacuateRound {
  /** why nothing was started, when nothing could be */
  held?: string;
  /** server id -> source host of each evacuation started */
  started: Array<{ serverId: string; host: string }>;
}

/** the servers an evacuation may take: on a host, not being changed, in a state evacuate accepts */
const EVACUABLE = ['active', 'stopped', 'error'];

export class AutoEvacuator {
  private lastHeld: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly monitor: HostMonitor,
    private readonly actions: ServerActions,
    private readonly cfg: EvacuationConfig,
    private readonly log: AutoEvacuateLogger = { info: () => {}, warn: () => {} },
  ) {}

  private hold(reason: string): AutoEvacuateRound {
    if (reason !== this.lastHeld) this.log.warn({ reason }, `automatic evacuation held: ${reason}`);
    this.lastHeld = reason;
    return { held: reason, started: [] };
  }

  private ctx(projectId: string): RequestContext {
    return { requestId: `req-${randomUUID()}`, userId: 'novalet-auto-evacuate', userName: 'novalet-auto-evacuate', projectId, projectName: '', domainId: 'default', roles: ['admin'], tokenId: '' };
  }

  /** hosts whose evacuations are still running, with how many servers each */
  private async inProgress(): Promise<Map<string, number>> {
    const running = await this.store.listMigrations({ migrationType: 'evacuation', statuses: ['accepted', 'pre-migrating'], limit: 10_000 });
    const by = new Map<string, number>();
    for (const m of running) if (m.sourceCompute) by.set(m.sourceCompute, (by.get(m.sourceCompute) ?? 0) + 1);
    return by;
  }

  async round(nowMs = Date.now()): Promise<AutoEvacuateRound> {
    if (!this.cfg.auto) return { held: 'automatic evacuation is off (evacuation.auto)', started: [] };
    const hosts = await this.monitor.view(nowMs);
    if (hosts.length === 0) return { started: [] };
    const down = hosts.filter((h) => h.state === 'down');
    if (down.length === 0) { this.lastHeld = undefined; return { started: [] }; }
    if (down.length / hosts.length > this.cfg.maxDownFraction) {
      return this.hold(`${down.length} of ${hosts.length} hosts are down, more than maxDownFraction ${this.cfg.maxDownFraction}: this looks like a partition, not host failures`);
    }
    const due = down.filter((h) => {
      const since = this.monitor.downSince(h.name) ?? h.since;
      return since !== null && nowMs - Date.parse(since) >= this.cfg.delaySeconds * 1000;
    });
    if (due.length === 0) return this.hold(`${down.map((h) => h.name).join(', ')} down for less than delaySeconds ${this.cfg.delaySeconds}`);
    const busy = await this.inProgress();
    const started: AutoEvacuateRound['started'] = [];
    for (const h of due) {
      const running = busy.get(h.name) ?? 0;
      if (running === 0 && busy.size >= this.cfg.maxConcurrentHosts) continue;
      const servers = (await this.store.listServers({ host: h.name, limit: 10_000 }))
        .filter((s) => s.host === h.name && s.taskState === null && EVACUABLE.includes(s.vmState));
      const room = this.cfg.maxServersPerHost - running;
      if (servers.length === 0 || room <= 0) continue;
      if (running === 0) busy.set(h.name, 0);
      for (const s of servers.slice(0, room)) {
        try {
          await this.actions.evacuate(this.ctx(s.projectId), s.id, {});
          started.push({ serverId: s.id, host: h.name });
          busy.set(h.name, (busy.get(h.name) ?? 0) + 1);
        } catch (err) {
          this.log.warn({ host: h.name, serverId: s.id, err: (err as Error).message }, 'automatic evacuation of a server was refused');
        }
      }
    }
    if (started.length) {
      this.lastHeld = undefined;
      this.log.info({ servers: started.length, hosts: [...new Set(started.map((x) => x.host))] }, 'automatic evacuation started');
    }
    return { started };
  }
}
