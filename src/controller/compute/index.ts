/** The compute controller: wires the services that the compute API routes call. */
import type { Store } from '../../store/index.js';
import type { ControllerConfig } from '../config.js';
import type { ComputeTaskDriver } from './driver.js';
import { TaskRunner, type TaskLogger } from './tasks.js';
import { QuotaService } from './quotas.js';
import { ServerService } from './servers.js';
import { ServerActions } from './actions.js';
import { KeypairService } from './keypairs.js';
import { recoverUnfinishedTasks, type RecoveryReport } from './recovery.js';
import { HostRegistry } from '../hosts/registry.js';
import { ImageService } from '../images/service.js';

export class ComputeController {
  readonly tasks: TaskRunner;
  readonly quotas: QuotaService;
  readonly servers: ServerService;
  readonly actions: ServerActions;
  readonly keypairs: KeypairService;
  readonly hosts: HostRegistry;
  readonly images: ImageService;
  private reclaimTimer: NodeJS.Timeout | null = null;

  constructor(readonly store: Store, readonly cfg: ControllerConfig, readonly driver: ComputeTaskDriver, log?: TaskLogger) {
    this.tasks = new TaskRunner(store, log);
    this.hosts = new HostRegistry(store, cfg);
    this.images = new ImageService(store, cfg.imageDir);
    this.quotas = new QuotaService(store, cfg);
    this.servers = new ServerService(store, cfg, driver, this.tasks, this.quotas);
    this.actions = new ServerActions(store, driver, this.tasks, this.quotas, this.hosts, this.images);
    this.keypairs = new KeypairService(store, this.quotas);
  }

  /** call once at start, before serving: finish or fail what a previous controller process left running */
  recover(): Promise<RecoveryReport> { return recoverUnfinishedTasks(this.store, this.driver, this.tasks); }

  /** periodic reclaim of the recycle bin (Nova's _reclaim_queued_deletes), every min(interval, 60 s) */
  startPeriodic(): void {
    if (this.cfg.reclaimIntervalSeconds <= 0 || this.reclaimTimer) return;
    const every = Math.min(this.cfg.reclaimIntervalSeconds, 60) * 1000;
    this.reclaimTimer = setInterval(() => { void this.servers.reclaim().catch(() => {}); }, every);
    this.reclaimTimer.unref();
  }

  async close(): Promise<void> {
    if (this.reclaimTimer) clearInterval(this.reclaimTimer);
    this.reclaimTimer = null;
    await this.tasks.idle();
  }
}
