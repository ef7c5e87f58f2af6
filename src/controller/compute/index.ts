/**
 * The compute controller: wires the services that the compute API routes call, the task engine that runs their
 * work on hosts through a HostTransport, and the scheduler's view that placement claims against.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/index.js';
import type { ControllerConfig } from '../config.js';
import type { HostTransport } from '../hosts/transport.js';
import { QuotaService } from './quotas.js';
import { ServerService } from './servers.js';
import { ServerActions } from './actions.js';
import { ConsoleService } from './console.js';
import { ShelveService } from './shelving.js';
import { KeypairService } from './keypairs.js';
import { SpecBuilder } from './spec.js';
import { ServerGroupService } from './server-groups.js';
import { AggregateService } from './aggregates.js';
import { MigrationService } from './migrations.js';
import { LiveMigrationControl } from './live-migration-control.js';
import { ResizeConfirmSweep } from './resize-confirm.js';
import { InterfaceService } from './interfaces.js';
import { HostRegistry } from '../hosts/registry.js';
import { ImageService } from '../images/service.js';
import { NetworkController } from '../network/index.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { Placement, type PlacementDecision } from '../scheduler/placement.js';
import { TaskEngine, type EngineOptions, type TaskLogger } from '../tasks/engine.js';
import { TASKS } from '../tasks/registry.js';
import { recoverTasks, type RecoveryReport } from '../tasks/recovery.js';
import { VolumeService } from '../volumes/service.js';
import { BootVolumes } from '../volumes/boot-volumes.js';
import { VolumeAttachments } from '../volumes/attachments.js';
import { ServerVolumes } from '../volumes/server-volumes.js';
import { VolumeFencing } from '../volumes/fencing.js';
import { VolumeBackedSnapshots } from './volume-backed-snapshot.js';
import { ClusterDuty, PeriodicDuty } from '../cluster-duty.js';
import { HostFailureHandling, hostLogger, type HostFailureLogger } from '../host-monitor/index.js';

export interface ComputeOptions {
  /** this controller's id (tasks it owns); stable across restarts of the same controller */
  controllerId: string;
  log?: TaskLogger;
  failpoints?: ReadonlyMap<string, 'before' | 'after'>;
  /** observers for metrics (src/api/metrics.ts): ended task drives and scheduler decisions */
  observe?: { taskFinished?: EngineOptions['onFinished']; placement?: (decision: PlacementDecision) => void };
}

export class ComputeController {
  readonly tasks: TaskEngine;
  readonly quotas: QuotaService;
  readonly servers: ServerService;
  readonly actions: ServerActions;
  readonly console: ConsoleService;
  readonly shelving: ShelveService;
  readonly keypairs: KeypairService;
  readonly hosts: HostRegistry;
  readonly images: ImageService;
  readonly scheduler: Scheduler;
  readonly placement: Placement;
  readonly serverGroups: ServerGroupService;
  /** host aggregates and the availability zones made of them */
  readonly aggregates: AggregateService;
  /** block storage (Cinder subset) and the servers' side of it (os-volume_attachments) */
  readonly volumes: VolumeService;
  readonly volumeAttachments: VolumeAttachments;
  readonly serverVolumes: ServerVolumes;
  /** the volumes a server is built with (block_device_mapping_v2), and those its host definitions carry */
  readonly bootVolumes: BootVolumes;
  readonly migrations: MigrationService;
  readonly liveMigrations: LiveMigrationControl;
  readonly resizeConfirm: ResizeConfirmSweep;
  /** automatic confirm of VERIFY_RESIZE, once per cluster */
  private readonly confirmDuty: PeriodicDuty | null;
  readonly network: NetworkController;
  readonly interfaces: InterfaceService;
  private reclaimTimer: NodeJS.Timeout | null = null;
  /** the recycle bin's reclaim runs on one controller of those sharing the database */
  readonly reclaimDuty: ClusterDuty;
  /** offload of shelved servers past shelved_offload_time, once per cluster */
  private readonly offloadDuty: PeriodicDuty | null;
  /** host monitor (up/down history), fencing of returning hosts, automatic evacuation (host-monitor/) */
  readonly hostFailure: HostFailureHandling;
  get fencer() { return this.hostFailure.fencer; }
  private readonly hostLog: HostFailureLogger;

  constructor(readonly store: Store, readonly cfg: ControllerConfig, transport: HostTransport, o: ComputeOptions) {
    this.reclaimDuty = new ClusterDuty(store, 'reclaim', o.controllerId, 3 * this.reclaimEveryMs());
    this.hosts = new HostRegistry(store, cfg);
    this.network = new NetworkController(store, cfg, transport);
    this.images = new ImageService(store, cfg.imageDir);
    this.quotas = new QuotaService(store, cfg);
    this.scheduler = new Scheduler(cfg.scheduler);
    this.aggregates = new AggregateService(store, cfg.defaultAvailabilityZone);
    this.volumes = new VolumeService(store, cfg, this.images, o.log);
    this.volumeAttachments = new VolumeAttachments(store, this.volumes);
    this.bootVolumes = new BootVolumes(store, this.volumes, this.volumeAttachments);
    const volumeFencing = new VolumeFencing(store, this.volumes);
    this.placement = new Placement(store, this.scheduler, this.hosts, cfg.schedulerMaxAttempts, o.observe?.placement, this.aggregates);
    this.tasks = new TaskEngine(TASKS, {
      store, hosts: transport, placement: this.placement, net: this.network.servers, images: this.images,
      specs: new SpecBuilder(store, transport, (id) => this.bootVolumes.disks(id)), volumes: this.volumeAttachments,
      bootVolumes: this.bootVolumes, volumeFencing,
    }, {
      owner: o.controllerId, leaseMs: cfg.taskLeaseSeconds * 1000, ...(o.log ? { log: o.log } : {}), ...(o.failpoints ? { failpoints: o.failpoints } : {}),
      ...(o.observe?.taskFinished ? { onFinished: o.observe.taskFinished } : {}),
    });
    this.actions = new ServerActions(store, this.tasks, this.quotas, this.hosts, { allowResizeToSameHost: cfg.allowResizeToSameHost, liveMigration: cfg.liveMigration }, this.placement);
    this.actions.volumeBacked = new VolumeBackedSnapshots(store, this.volumes);
    this.console = new ConsoleService(store, transport);
    this.shelving = new ShelveService(store, this.actions, cfg, this.aggregates);
    this.serverGroups = new ServerGroupService(store, this.quotas);
    this.servers = new ServerService(store, cfg, this.tasks, this.quotas, this.actions, this.serverGroups, this.network.servers, this.bootVolumes, this.aggregates);
    this.keypairs = new KeypairService(store, this.quotas);
    this.serverVolumes = new ServerVolumes(store, this.actions, this.volumes, this.volumeAttachments);
    this.migrations = new MigrationService(store);
    this.liveMigrations = new LiveMigrationControl(store, transport);
    this.resizeConfirm = new ResizeConfirmSweep(store, this.tasks, cfg.resizeConfirmWindowSeconds);
    this.interfaces = new InterfaceService(store, this.actions, this.network.servers);
    this.confirmDuty = cfg.resizeConfirmWindowSeconds > 0
      ? new PeriodicDuty(store, 'resize-confirm', o.controllerId, Math.min(cfg.resizeConfirmWindowSeconds, 60) * 1000, () => this.resizeConfirm.sweep())
      : null;
    this.offloadDuty = cfg.shelvedOffloadTime > 0
      ? new PeriodicDuty(store, 'shelved-offload', o.controllerId, Math.min(cfg.shelvedOffloadTime, 60) * 1000, () => this.shelving.offloadExpired())
      : null;
    this.hostLog = hostLogger(o.log);
    this.hostFailure = new HostFailureHandling(store, cfg, this.hosts, transport, this.actions, o.controllerId, this.hostLog, volumeFencing);
    // a host back from down gets what it missed while away (network specs, port filters, removals); once per
    // cluster (the monitor duty's holder), in the background: the monitor's round does not wait on an agent
    this.hostFailure.monitor.onChange((c) => {
      if (c.state !== 'up' || c.from !== 'down') return;
      void this.hostFailure.duty.held().then((held) => { if (held) this.resyncHostNetworks(c.host, 'host back from down'); });
    });
    // Neutron -> Nova: a port deleted in the network API leaves its server (network-vif-deleted), in the background
    this.network.servers.onVifDeleted(async (p) => { void this.interfaces.vifDeleted(p); });
  }

  /**
   * Send `host` the full state of its tenant networks and port filters again, in the background (the caller's round
   * does not wait on an agent): after it was down, or after its agent restarted (agents/heartbeats.ts), either of
   * which may have lost calls sent meanwhile. Idempotent on the agent's side.
   */
  resyncHostNetworks(host: string, why: string): void {
    const requestId = `req-${randomUUID()}`;
    void this.network.servers.resyncHost(host, requestId).then((r) => {
      if (r.ensured.length || r.removed.length) this.hostLog.info({ host, requestId, why, ...r }, 'networks sent to the host again');
    }, (err: unknown) => this.hostLog.warn({ host, requestId, why, err: (err as Error).message }, 'network resync failed'));
  }

  /**
   * call once at start, before serving: take back this controller's tasks from before a restart (and any whose
   * owner's lease ran out), finish or fail what a controller from before persisted tasks left, then keep the
   * leases renewed and watch for orphaned tasks
   */
  async recover(): Promise<RecoveryReport> {
    const report = await recoverTasks(this.store, this.tasks);
    await this.volumes.recover();
    this.tasks.start();
    return report;
  }

  private reclaimEveryMs(): number { return Math.max(1, Math.min(this.cfg.reclaimIntervalSeconds, 60)) * 1000; }

  /** periodic reclaim of the recycle bin (Nova's _reclaim_queued_deletes), every min(interval, 60 s), once per cluster */
  startPeriodic(): void {
    this.hostFailure.start();
    // automatic confirm of VERIFY_RESIZE (Nova's resize_confirm_window), every min(window, 60 s)
    this.confirmDuty?.start();
    // shelved servers past shelved_offload_time are offloaded (Nova's _poll_shelved_instances), every min(time, 60 s)
    this.offloadDuty?.start();
    if (this.cfg.reclaimIntervalSeconds <= 0 || this.reclaimTimer) return;
    this.reclaimTimer = setInterval(() => { void this.reclaimRound().catch(() => {}); }, this.reclaimEveryMs());
    this.reclaimTimer.unref();
  }

  /** one reclaim round: by this controller only while it holds the reclaim duty; how many deletes it started */
  async reclaimRound(nowMs = Date.now()): Promise<number> {
    if (this.cfg.reclaimIntervalSeconds <= 0 || !(await this.reclaimDuty.held(nowMs))) return 0;
    return this.servers.reclaim(nowMs);
  }

  async close(): Promise<void> {
    if (this.reclaimTimer) clearInterval(this.reclaimTimer);
    this.reclaimTimer = null;
    await Promise.all([this.reclaimDuty.release(), this.confirmDuty?.stop(), this.offloadDuty?.stop(), this.hostFailure.stop()]);
    await this.tasks.close();
    await this.volumes.idle();
  }
}
