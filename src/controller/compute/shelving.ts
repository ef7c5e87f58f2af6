/**
 * Shelve, shelveOffload and unshelve as Nova's compute API has them (nova/compute/api.py shelve, shelve_offload,
 * unshelve): the gate, the snapshot image for shelve, the checks of unshelve's availability_zone (2.77) and host
 * (2.91, admin), then the task (tasks/defs/shelve.ts). Also the periodic offload of servers shelved longer than
 * shelved_offload_time (Nova's _poll_shelved_instances).
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { badRequest, conflict, forbidden } from '../errors.js';
import type { ControllerConfig } from '../config.js';
import { RULES } from './states.js';
import { precheck } from './gate.js';
import type { ServerActions } from './actions.js';
import { createSnapshotImage } from './snapshot-image.js';
import { TASKS } from '../tasks/registry.js';

export interface UnshelveRequest {
  /** 2.77: a zone to unshelve into; null (2.91) unpins; undefined = not given */
  availabilityZone?: string | null;
  /** 2.91, admin: the host to unshelve onto */
  host?: string;
}

export class ShelveService {
  constructor(
    private readonly store: Store, private readonly actions: ServerActions, private readonly cfg: ControllerConfig,
    /** the availability zones an unshelve may name (host aggregates) */
    private readonly zones?: { availableZones(): Promise<Set<string>> },
  ) {}

  /** snapshot into `<name>-shelved`, power off -> SHELVED (and offloaded at once when shelved_offload_time is 0) */
  async shelve(ctx: RequestContext, id: string): Promise<void> {
    const s = await precheck(this.store, ctx, id, RULES.shelve);
    const img = await createSnapshotImage(this.store, ctx, s, `${s.name}-shelved`, 'snapshot', {});
    await this.actions.startWithImage(ctx, id, img.id, TASKS.shelve, { imageId: img.id, offload: this.cfg.shelvedOffloadTime === 0 });
  }

  async shelveOffload(ctx: RequestContext, id: string): Promise<void> {
    await this.actions.perform(ctx, id, TASKS.shelve_offload);
  }

  async unshelve(ctx: RequestContext, id: string, r: UnshelveRequest): Promise<void> {
    const s = await precheck(this.store, ctx, id, RULES.unshelve);
    if (r.host !== undefined && !isAdmin(ctx)) throw forbidden("Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed.");
    // only an offloaded server can move: Nova's UnshelveInstanceInvalidState (409)
    if ((r.availabilityZone !== undefined || r.host !== undefined) && s.vmState !== 'shelved_offloaded') {
      throw conflict(`Specifying an availability zone when unshelving server ${s.id} with status "${s.vmState}" is not supported. The server status must be SHELVED_OFFLOADED.`);
    }
    if (r.host !== undefined && !(await this.store.getHost(r.host))) throw badRequest(`Compute host ${r.host} could not be found.`);
    // a zone must be available (host aggregates); the server is then pinned to it (Nova's request_spec), null unpins
    if (typeof r.availabilityZone === 'string') {
      const available = this.zones ? await this.zones.availableZones() : new Set([this.cfg.defaultAvailabilityZone]);
      if (!available.has(r.availabilityZone)) throw badRequest('The requested availability zone is not available');
    }
    if (r.availabilityZone !== undefined) await this.store.updateServer(s.id, { requestedZone: r.availabilityZone });
    await this.actions.perform(ctx, id, TASKS.unshelve, { params: r.host !== undefined ? { requestedHost: r.host } : {} });
  }

  /**
   * Offloads every server shelved longer than shelved_offload_time (positive only): one shelveOffload action each,
   * recorded under the server's own user and project as the periodic task's. Returns how many were started.
   */
  async offloadExpired(now = Date.now()): Promise<number> {
    const t = this.cfg.shelvedOffloadTime;
    if (t <= 0) return 0;
    let n = 0;
    for (const s of await this.store.listServers({ vmStates: ['shelved'] })) {
      if (s.taskState !== null || !s.shelvedAt || Date.parse(s.shelvedAt) + t * 1000 > now) continue;
      const ctx: RequestContext = {
        requestId: `req-${randomUUID()}`, userId: s.userId, userName: '', projectId: s.projectId, projectName: '', domainId: 'default',
        roles: ['admin'], tokenId: '',
      };
      try { await this.actions.perform(ctx, s.id, TASKS.shelve_offload); n++; } catch { /* its state moved on since the listing */ }
    }
    return n;
  }
}
