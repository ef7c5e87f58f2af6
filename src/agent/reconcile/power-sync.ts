import type { DomainStatus, HypervisorEvent, PowerState } from '../../virt/hypervisor.js';
import { powerOf } from '../ops/helpers.js';
import type { AgentDeps } from '../ops/types.js';

/**
 * Keeps the journal's power states equal to libvirt's: lifecycle events as they come, plus a periodic sweep
 * for anything missed (events are lost while libvirtd restarts). It only records: deciding what to do about
 * a guest that is off but should run is the controller's job (it owns intent). Domains the journal does not
 * know are reported as unknown and never touched — not even a managed-looking one (the journal may have
 * been lost; killing on suspicion is the failure KubeVirt #18763 describes).
 * It is the one place that turns events into power: every read it makes is also reported to the PowerWatch,
 * where operations wait for the guest (power-watch.ts).
 */
export class PowerSync {
  private unsubscribe: (() => void) | undefined;
  private unknown = new Map<string, DomainStatus>();
  /** server (lower case) -> ticket of its newest event re-read in flight: only that one may write the journal */
  private readonly rereads = new Map<string, number>();

  constructor(private readonly deps: AgentDeps) {}

  start(): void {
    this.unsubscribe = this.deps.hv.onEvent((e) => this.onEvent(e));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  unknownDomains(): DomainStatus[] {
    return [...this.unknown.values()];
  }

  private onEvent(e: HypervisorEvent): void {
    const { journal, events, log } = this.deps;
    if (e.type === 'connectionLost') {
      log.warn({ reason: e.reason }, 'hypervisor connection lost');
      events.emit({ type: 'hypervisor', message: `connection lost: ${e.reason}` });
      return;
    }
    if (e.type === 'connectionRestored') {
      // events were missed while the connection was down: re-read every power state now
      events.emit({ type: 'hypervisor', message: 'connection restored; sweeping power states' });
      void this.sweep().catch((err) => log.warn({ err }, 'power sweep after reconnect failed'));
      return;
    }
    if (e.type !== 'power') return;
    const s = journal.getServer(e.uuid);
    if (!s || s.status === 'deleted') {
      events.emit({ type: 'power', uuid: e.uuid, message: `unknown domain ${e.libvirtEvent}/${e.detail} -> ${e.power}` });
      return;
    }
    events.emit({ type: 'power', uuid: e.uuid, message: `${e.libvirtEvent}/${e.detail} -> ${e.power}`, data: { power: e.power } });
    // an event is a hint: a managed save also ends in 'stopped' (the re-read tells suspended from shut off), and
    // an event may arrive after a newer change
    void this.reread(e.uuid);
  }

  private async reread(uuid: string): Promise<void> {
    const { journal, hv, powerWatch } = this.deps;
    const key = uuid.toLowerCase();
    const ticket = powerWatch.ticket();
    this.rereads.set(key, ticket);
    let power: PowerState;
    try {
      power = powerOf(await hv.getDomain(uuid));
    } catch {
      if (this.rereads.get(key) === ticket) this.rereads.delete(key);
      return; // the sweep will catch up
    }
    powerWatch.observe(uuid, power, ticket);
    // reads can complete out of order: an older one must not overwrite what a newer one will record
    if (this.rereads.get(key) !== ticket) return;
    this.rereads.delete(key);
    const cur = journal.getServer(uuid);
    if (cur && cur.status !== 'deleted' && cur.power !== power) journal.updateServer(uuid, { power });
  }

  /** One sweep: returns what changed and the unknown domains. */
  async sweep(): Promise<{ changed: string[]; unknown: DomainStatus[] }> {
    const { journal, hv, events, powerWatch } = this.deps;
    const ticket = powerWatch.ticket();
    const doms = await hv.listDomains();
    const byUuid = new Map(doms.map((d) => [d.uuid.toLowerCase(), d]));
    const changed: string[] = [];
    for (const s of journal.listServers()) {
      const d = byUuid.get(s.uuid.toLowerCase());
      byUuid.delete(s.uuid.toLowerCase());
      // a building server has no domain until spawn defines it: not a vanished one
      const power = d ? powerOf(d) : s.status === 'building' ? s.power : 'nostate';
      if (d || s.status !== 'building') powerWatch.observe(s.uuid, power, ticket);
      if (power !== s.power) {
        journal.updateServer(s.uuid, { power });
        changed.push(s.uuid);
        events.emit({ type: 'power', uuid: s.uuid, message: `sweep: ${s.power} -> ${power}` });
      }
    }
    const unknown = new Map<string, DomainStatus>();
    for (const [uuid, d] of byUuid) {
      unknown.set(uuid, { ...d, power: powerOf(d) });
      if (!this.unknown.has(uuid)) events.emit({ type: 'unknown_domain', uuid: d.uuid, message: `domain ${d.name} (${d.power}) is not in the journal; left alone` });
    }
    this.unknown = unknown;
    return { changed, unknown: [...unknown.values()] };
  }
}
