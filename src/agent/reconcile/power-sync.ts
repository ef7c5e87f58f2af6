import type { DomainStatus, HypervisorEvent } from '../../virt/hypervisor.js';
import { powerOf } from '../ops/helpers.js';
import type { AgentDeps } from '../ops/types.js';

/**
 * Keeps the journal's power states equal to libvirt's: lifecycle events as they come, plus a periodic sweep
 * for anything missed (events are lost while libvirtd restarts). It only records: deciding what to do about
 * a guest that is off but should run is the controller's job (it owns intent). Domains the journal does not
 * know are reported as unknown and never touched — not even a managed-looking one (the journal may have
 * been lost; killing on suspicion is the failure KubeVirt #18763 describes).
 */
export class PowerSync {
  private unsubscribe: (() => void) | undefined;
  private unknown = new Map<string, DomainStatus>();

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
    if (e.power === 'shutdown') {
      // a managed save also ends in 'stopped': re-read to tell suspended from shut off
      void this.deps.hv.getDomain(e.uuid).then((d) => {
        const cur = journal.getServer(e.uuid);
        if (cur && cur.status !== 'deleted' && cur.power !== powerOf(d)) journal.updateServer(e.uuid, { power: powerOf(d) });
      }).catch(() => { /* the sweep will catch up */ });
      return;
    }
    if (s.power !== e.power) journal.updateServer(e.uuid, { power: e.power });
  }

  /** One sweep: returns what changed and the unknown domains. */
  async sweep(): Promise<{ changed: string[]; unknown: DomainStatus[] }> {
    const { journal, hv, events } = this.deps;
    const doms = await hv.listDomains();
    const byUuid = new Map(doms.map((d) => [d.uuid.toLowerCase(), d]));
    const changed: string[] = [];
    for (const s of journal.listServers()) {
      const d = byUuid.get(s.uuid.toLowerCase());
      byUuid.delete(s.uuid.toLowerCase());
      // a building server has no domain until spawn defines it: not a vanished one
      const power = d ? powerOf(d) : s.status === 'building' ? s.power : 'nostate';
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
