import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Hypervisor } from '../virt/hypervisor.js';
import { fileDiskCache } from './direct-io.js';
import { AgentError } from '../rpc/errors.js';
import type { ListServersResponse, ServerView } from '../rpc/protocol/servers.js';
import type { OperationView } from '../rpc/protocol/operations.js';
import { agentPaths, type AgentConfig } from './config.js';
import type { DiskTool } from './disks/disk-tool.js';
import { QemuImgTool } from './disks/qemu-img-tool.js';
import { EventLog } from './events.js';
import { ImageCache } from './images/image-cache.js';
import { InventoryService } from './inventory/inventory.js';
import { Journal, type OperationRow, type ServerRow } from './journal/journal.js';
import { OperationRunner } from './ops/runner.js';
import type { AgentDeps } from './ops/types.js';
import { PowerSync } from './reconcile/power-sync.js';
import { ControllerLease } from './fencing/controller-lease.js';
import { PowerWatch } from './reconcile/power-watch.js';
import { LiveMigrations } from './migration/registry.js';
import { reconcileOperations, type RecoveredOp } from './reconcile/reconciler.js';
import { pruneDhcpEntries } from './network/dhcp-hosts.js';
import { JournalOnlyDriver, TenantNetworks, type NetworkDriver } from './network/tenant-networks.js';

export interface AgentOptions {
  hv: Hypervisor;
  config: AgentConfig;
  log: Logger;
  disks?: DiskTool;
  /** metrics: told of every finished operation (AgentMetrics.operationFinished) */
  onOperationFinished?: AgentDeps['onOperationFinished'];
  /**
   * Realises tenant networks (src/agent/network/host-driver.ts; `novalet agent` passes the real one). Absent:
   * networks are journaled and reported but nothing is created on the host (simulated hosts, unit tests).
   */
  networkDriver?: NetworkDriver;
}

/**
 * One host agent: journal + runner + reconciliation + power sync + inventory, wired together. The RPC server
 * and the ctl socket are thin front ends over this object (src/rpc/server.ts, src/agent/ctl/).
 */
export class Agent {
  readonly deps: AgentDeps;
  readonly runner: OperationRunner;
  readonly power: PowerSync;
  readonly inventory: InventoryService;
  readonly startedAt = new Date().toISOString();
  /** the fencing lease: renewed by each controller heartbeat poll; new work refused while it has run out */
  readonly lease: ControllerLease;
  private timers: NodeJS.Timeout[] = [];
  private sweeping: Promise<unknown> | undefined;

  private constructor(deps: AgentDeps) {
    this.deps = deps;
    this.runner = new OperationRunner(deps);
    this.lease = new ControllerLease(deps.config.controllerLeaseSec ?? 0);
    this.runner.fenced = () => this.lease.refusal();
    this.power = new PowerSync(deps);
    this.inventory = new InventoryService(deps, {
      startedAt: this.startedAt, drained: () => this.runner.drained, unknownDomains: () => this.power.unknownDomains().length,
    });
  }

  static async create(o: AgentOptions): Promise<Agent> {
    const paths = agentPaths(o.config.dataDir);
    mkdirSync(paths.instances, { recursive: true, mode: 0o755 });
    const disks = o.disks ?? new QemuImgTool();
    const journal = Journal.open(paths.journal);
    const networks = new TenantNetworks({ journal, config: o.config, log: o.log.child({ component: 'networks' }), driver: o.networkDriver ?? new JournalOnlyDriver() });
    const agent = new Agent({
      hv: o.hv, journal, disks, images: new ImageCache(paths.images, disks), paths, config: o.config,
      events: new EventLog(), log: o.log, powerWatch: new PowerWatch(), domainType: 'qemu', diskCache: fileDiskCache(paths.instances), networks,
      migrations: new LiveMigrations(),
      ...(o.onOperationFinished ? { onOperationFinished: o.onOperationFinished } : {}),
    });
    // libvirtd may be down while the agent starts (host boot order, a libvirtd restart): start anyway, with
    // every operation failing 'hypervisor_unavailable' until it is back, and learn the domain type then
    await agent.learnHost();
    return agent;
  }

  private hostKnown = false;

  private async learnHost(): Promise<void> {
    if (this.hostKnown) return;
    try {
      this.deps.domainType = (await this.deps.hv.hostInfo()).domainType;
      this.hostKnown = true;
    } catch (err) {
      this.deps.log.warn({ err }, 'hypervisor unavailable; will retry at the next reconcile');
    }
  }

  /** Recover interrupted operations, learn power states, then run the periodic loops. */
  async start(): Promise<RecoveredOp[]> {
    this.power.start();
    const recovered = await this.reconcile();
    const { config } = this.deps;
    this.timers.push(setInterval(() => void this.sweep(), config.syncPowerStateIntervalSec * 1000).unref());
    this.timers.push(setInterval(() => void this.reconcile().catch((err) => this.deps.log.error({ err }, 'reconcile failed')), config.reconcileIntervalSec * 1000).unref());
    this.pruneJournal();
    this.timers.push(setInterval(() => this.pruneJournal(), config.journalPruneIntervalSec * 1000).unref());
    return recovered;
  }

  /** Orphaned operations first (their recovery decides power), then a power sweep. */
  async reconcile(): Promise<RecoveredOp[]> {
    await this.learnHost();
    const recovered = await reconcileOperations(this.deps, this.runner);
    await pruneDhcpEntries(this.deps).catch((err: unknown) => this.deps.log.warn({ err }, 'dhcp prune failed'));
    await this.reconcileNetworks().catch((err: unknown) => this.deps.log.warn({ err }, 'tenant network reconcile failed'));
    await this.sweep();
    return recovered;
  }

  /** Journaled networks re-ensured, filters of live NICs installed, everything else of ours removed. */
  private async reconcileNetworks(): Promise<void> {
    const { hv, journal, networks } = this.deps;
    const withTenant = journal.listServers(true).filter((s) => (s.spec.nics ?? []).some((n) => n.attachment.type === 'tenant'));
    const domains = withTenant.length ? new Set((await hv.listDomains()).map((d) => d.uuid.toLowerCase())) : new Set<string>();
    await networks.reconcile((s) => !s.opId && (s.status === 'deleted' || (s.status === 'error' && !domains.has(s.uuid.toLowerCase()))));
  }

  /** Drops finished operations older than journalRetentionDays (and deleted servers); returns what it removed. */
  pruneJournal(now = new Date()): { operations: number; servers: number } {
    const days = this.deps.config.journalRetentionDays;
    if (!(days > 0)) return { operations: 0, servers: 0 };
    try {
      const r = this.deps.journal.pruneFinished(new Date(now.getTime() - days * 86_400_000));
      if (r.operations || r.servers) this.deps.log.info({ ...r, retentionDays: days }, 'journal pruned');
      return r;
    } catch (err) {
      this.deps.log.warn({ err }, 'journal prune failed');
      return { operations: 0, servers: 0 };
    }
  }

  async sweep(): Promise<void> {
    if (this.sweeping) return void (await this.sweeping);
    this.sweeping = this.power.sweep().catch((err) => this.deps.log.warn({ err }, 'power sweep failed')).finally(() => { this.sweeping = undefined; });
    await this.sweeping;
  }

  /** Stops the loops; running operations are left to finish or, if the process dies, to the next start. */
  async stop(opts: { waitForOperations?: boolean } = {}): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    // operations still running wait for the guest on power sync's events: stop listening after them
    if (opts.waitForOperations) await this.runner.idle();
    this.power.stop();
    if (this.sweeping) await this.sweeping;
  }

  close(): void {
    this.deps.journal.close();
  }

  // --- views shared by RPC and ctl --------------------------------------------------------------------

  listServers(): ListServersResponse {
    return {
      servers: this.deps.journal.listServers().map(serverView),
      unknownDomains: this.power.unknownDomains().map((d) => ({ uuid: d.uuid, name: d.name, power: d.power, managed: d.managed })),
    };
  }

  getServer(uuid: string): { server: ServerView; operations: OperationView[] } {
    const s = this.deps.journal.getServer(uuid);
    if (!s) throw new AgentError('unknown_server', `no server ${uuid} on this host`);
    return { server: serverView(s), operations: this.deps.journal.listOperations(uuid, 20).map(operationView) };
  }

  getOperation(id: string): OperationRow {
    const op = this.deps.journal.getOperation(id);
    if (!op) throw new AgentError('unknown_operation', `no operation ${id}`);
    return op;
  }
}

export function serverView(s: ServerRow): ServerView {
  return {
    uuid: s.uuid, displayName: s.spec.displayName, status: s.status, power: s.power, desiredPower: s.desiredPower,
    task: s.task, operationId: s.opId, spec: s.spec, resizePending: s.resizeOld !== null, files: s.files, updatedAt: s.updatedAt,
  };
}

/** an operation's params as shown (answers, `novalet agent ctl`): an admin password is never shown */
function shownParams(params: unknown): unknown {
  if (!params || typeof params !== 'object' || !('adminPass' in params)) return params;
  const { adminPass: _secret, ...rest } = params as Record<string, unknown>;
  return rest;
}

export function operationView(o: OperationRow): OperationView {
  const v: OperationView = {
    id: o.id, requestId: o.requestId, serverUuid: o.serverUuid, kind: o.kind, state: o.state, step: o.step,
    progress: o.progress, params: shownParams(o.params), createdAt: o.createdAt, updatedAt: o.updatedAt,
  };
  if (o.result !== undefined) v.result = o.result;
  if (o.error) v.error = o.error;
  if (o.finishedAt) v.finishedAt = o.finishedAt;
  return v;
}
