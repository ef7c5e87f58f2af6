/**
 * Heartbeats: every `intervalMs` the controller asks each agent for its inventory (GET /v1/inventory). An answer
 * is a heartbeat for the host it names (os-services / os-hypervisors, host up/down) and refreshes the scheduler;
 * a missing answer is a missed beat, and after service_down_time the host is down. The inventory's server list
 * also syncs power states (Nova's _sync_power_states): the agent owns that fact; the controller records it for
 * servers with no task running, and a guest that shut itself down moves its server to STOPPED, as in Nova.
 *
 * Several controllers on one database split the hosts (`ClusterMembers`, rendezvous hashing over the live
 * controllers): each still asks every agent (it needs the agent's host name to route tasks, and its drained flag),
 * but only the host's owner records the heartbeat, syncs power and reaps orphans, so N controllers do not write
 * each host N times a round. A dead controller's hosts move to the others once its membership lease (three
 * rounds) ran out; power sync writes with compare-and-swap, so a round that overlaps a hand-over does no harm.
 */
import type { Store, Server } from '../../store/index.js';
import type { Inventory } from '../../rpc/protocol/inventory.js';
import type { HostRegistry } from '../hosts/registry.js';
import { POWER, novaPower } from '../compute/power.js';
import type { AgentDirectory, AgentEntry } from './directory.js';
import type { OrphanReaper } from './orphans.js';
import type { ClusterMembers } from '../cluster-duty.js';
import type { HostFencer } from '../host-monitor/fencing.js';

/** every this many rounds, all of a host's guests are checked for orphans (in between, only new ones) */
const FULL_ORPHAN_CHECK_ROUNDS = 6;

export interface HeartbeatLogger { warn(obj: object, msg: string): void; }

/** "9.0.0" -> 9000000 (Nova reports hypervisor versions as integers) */
export function versionNumber(v: string): number {
  const [a = 0, b = 0, c = 0] = v.split('.').map((x) => Number.parseInt(x, 10) || 0);
  return a * 1_000_000 + b * 1_000 + c;
}

export class HeartbeatMonitor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /**
   * host -> server -> last power reported, so that an unchanged report costs no store access. Rebuilt from each
   * inventory, so a server the agent no longer reports (deleted, migrated away) drops out.
   */
  private readonly lastPower = new Map<string, Map<string, string>>();
  private rounds = 0;
  /** host -> its agent's start time as last reported (`Inventory.startedAt`): a change is a restart */
  private readonly agentStarts = new Map<string, string>();
  private readonly restartListeners: Array<(host: string) => void> = [];

  constructor(
    private readonly agents: AgentDirectory,
    private readonly hosts: HostRegistry,
    /** rebuilds the scheduler's view (placement.refresh) */
    private readonly refreshView: () => Promise<void>,
    private readonly store: Store,
    private readonly log: HeartbeatLogger = { warn: () => {} },
    private readonly reaper: OrphanReaper | null = null,
    private readonly concurrency = 64,
    /** the live controllers sharing the database; null: this controller owns every host */
    private readonly members: ClusterMembers | null = null,
    /** a host that is not up is fenced (guests evacuated away destroyed) before its heartbeat counts */
    private readonly fencer: HostFencer | null = null,
  ) {}

  /**
   * the host's record is older than a membership lease: its owner does not reach its agent (its config lacks it,
   * or its network to the host is cut) or died a moment ago; this controller records it rather than let it go down
   */
  private unrecorded(host: string): boolean {
    if (!this.members) return false;
    const seen = this.hosts.lastSeenMs(host);
    return seen === null || Date.now() - seen > this.members.leaseMs;
  }

  /** true when this controller records the host's heartbeats (its owner among the live controllers) */
  owns(host: string): boolean { return this.members?.owns(host) ?? true; }

  /**
   * `fn(host)` when a host's agent restarted since the previous heartbeat this controller recorded (not on the first
   * one it sees): a restart quicker than service_down_time is no down -> up transition, yet the agent may have missed
   * calls sent while it was away. Called by the host's owner only.
   */
  onAgentRestart(fn: (host: string) => void): void { this.restartListeners.push(fn); }

  /** one round over every agent, then a scheduler refresh; concurrent callers share the round */
  poll(): Promise<void> {
    this.running ??= this.round().finally(() => { this.running = null; });
    return this.running;
  }

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.poll(); }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** a controller stopping leaves the cluster: its hosts go to the others at their next round */
  async leave(): Promise<void> { await this.members?.leave(); }

  /** never rejects: a failing round (e.g. the database busy) is logged and the next one tries again */
  private async round(): Promise<void> {
    this.rounds++;
    await this.members?.refresh();
    const queue = [...this.agents.all()];
    // hosts with evacuations still to fence, in one query a round: an up host among them is fenced too (a host
    // forced down, evacuated and un-forced within one round)
    const toFence = this.fencer ? await this.fencer.hostsToFence().catch(() => new Set<string>()) : new Set<string>();
    const worker = async () => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        await this.beat(e, toFence).catch((err: unknown) => this.log.warn({ agent: e.endpoint.url, err: (err as Error).message }, 'recording a heartbeat failed'));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
    await this.refreshScheduler().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'scheduler refresh failed'));
  }

  refreshScheduler(): Promise<void> { return this.refreshView(); }

  private async beat(e: AgentEntry, toFence: ReadonlySet<string> = new Set()): Promise<void> {
    let inv: Inventory;
    try {
      inv = await e.client.inventory();
    } catch (err) {
      this.log.warn({ agent: e.endpoint.url, host: e.host, err: (err as Error).message }, 'agent missed a heartbeat');
      return;
    }
    if (!this.agents.name(e, inv.hostname)) {
      this.log.warn({ agent: e.endpoint.url, host: inv.hostname }, 'two agents report the same host name; ignoring this one');
      return;
    }
    if (!this.owns(inv.hostname) && !this.unrecorded(inv.hostname)) {
      // another controller records this host; a later hand-over starts from a full check
      this.hosts.noteDrained(inv.hostname, inv.drained);
      this.hosts.noteCapabilities(inv.hostname, { ...(inv.hypervisor.arch ? { arch: inv.hypervisor.arch } : {}), domainType: inv.hypervisor.domainType });
      this.lastPower.delete(inv.hostname);
      this.agentStarts.delete(inv.hostname);
      return;
    }
    // a host that is not up (or has evacuations to fence) counts only once fenced: its guests of servers evacuated
    // away destroyed (host-monitor/fencing.ts)
    if (this.fencer && (toFence.has(inv.hostname) || !(await this.hosts.isUpByName(inv.hostname))) && !(await this.fencer.fence(inv.hostname))) return;
    await this.hosts.heartbeat(inv.hostname, {
      vcpus: inv.hypervisor.cpus, memoryMb: Math.floor(inv.hypervisor.memoryMiB), diskGb: Math.floor(inv.disk.totalGiB),
      hypervisorType: inv.hypervisor.domainType === 'kvm' || inv.hypervisor.domainType === 'qemu' ? 'QEMU' : inv.hypervisor.domainType,
      hypervisorVersion: versionNumber(inv.hypervisor.hypervisorVersion), hostIp: new URL(e.endpoint.url).hostname,
      drained: inv.drained, ...(inv.hypervisor.arch ? { arch: inv.hypervisor.arch } : {}), domainType: inv.hypervisor.domainType,
    });
    const started = this.agentStarts.get(inv.hostname);
    this.agentStarts.set(inv.hostname, inv.startedAt);
    if (started !== undefined && started !== inv.startedAt) for (const fn of this.restartListeners) fn(inv.hostname);
    const before = this.lastPower.get(inv.hostname);
    const now = new Map<string, string>();
    for (const s of inv.servers) {
      const known = before?.get(s.uuid);
      if (s.task !== null || known === s.power) {
        if (known !== undefined) now.set(s.uuid, known);
        continue;
      }
      const cur = await this.store.getServer(s.uuid);
      if (!cur || cur.host !== inv.hostname) continue;
      if (await this.syncPower(cur, novaPower(s.power))) now.set(s.uuid, s.power);
    }
    this.lastPower.set(inv.hostname, now);
    if (this.reaper) {
      // guests of deleted servers: new ones every round, all of them every few rounds
      const full = this.rounds % FULL_ORPHAN_CHECK_ROUNDS === 1;
      const idle = inv.servers.filter((s) => s.task === null && (full || !before?.has(s.uuid))).map((s) => s.uuid);
      await this.reaper.check(inv.hostname, idle);
    }
  }

  /** true when the store now agrees with the agent */
  private async syncPower(s: Server, power: number): Promise<boolean> {
    if (s.taskState !== null) return false;
    // a guest that shut itself down, crashed, or vanished with its host's libvirt state (the agent reports no
    // domain): SHUTOFF, so that the user's start (or hard reboot) brings it back from its spec. Nova logs and
    // ignores the vanished case; showing ACTIVE for a guest that is not there helps nobody.
    // A paused guest that is gone the same way is stopped too (Nova's sync stops a PAUSED instance whose power is
    // SHUTDOWN or CRASHED): PAUSED with nothing running would refuse unpause and lie to the user.
    const stoppedItself = (s.vmState === 'active' || s.vmState === 'paused') && (power === POWER.SHUTDOWN || power === POWER.CRASHED || power === POWER.NOSTATE);
    if (s.powerState === power && !stoppedItself) return true;
    return this.store.updateServerIf(s.id, { taskState: null, vmState: [s.vmState] }, {
      powerState: power, ...(stoppedItself ? { vmState: 'stopped' } : {}),
    });
  }
}
