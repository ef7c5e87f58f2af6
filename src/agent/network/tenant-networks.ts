/**
 * Tenant networks on this host (issue 12): what the controller gave the agent (PUT/DELETE /v1/networks, journaled
 * before anything is realised), the NICs of servers on them (bridge + tap + MTU for the domain, the port filter),
 * and the reconcile pass that re-ensures the journaled networks and filters after a restart and removes every
 * bridge, VXLAN device, dnsmasq and filter that carries our names but is not journaled.
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { AgentError } from '../../rpc/errors.js';
import type { HostNetworkView, NetworkSpec, PeerChangesRequest, PeerChangesResponse, PortSecurity } from '../../rpc/protocol/networks.js';
import type { NicSpec } from '../../rpc/protocol/server-spec.js';
import type { NicSpec as VirtNicSpec } from '../../virt/hypervisor.js';
import type { AgentConfig } from '../config.js';
import type { Journal, ServerRow } from '../journal/journal.js';
import { dnsmasqHosts, dhcpSubnets, dhcpSubnets6 } from './dnsmasq-config.js';
import { parseCidr6 } from './ipv6.js';
import { checkPeers } from './fdb.js';
import { parseCidr4 } from './ipv4.js';
import { NetworkJournal, type NetworkRow } from './network-journal.js';
import { BRIDGE_PREFIX, bridgeName, shortId, tapName, VXLAN_PREFIX, vxlanName } from './names.js';
import { portScript } from './nft-rules.js';
import type { PortNft } from './nft-rules.js';

/** What realises networks: HostNetworkDriver on a real host; JournalOnlyDriver for simulated hosts. */
export interface NetworkDriver {
  ensure(networkId: string, spec: NetworkSpec, o: { local: string | undefined; physicalNetworks: Record<string, string> }): Promise<void>;
  remove(networkId: string, spec: NetworkSpec | undefined): Promise<void>;
  /** only the VXLAN flood entries of an ensured network follow `peers` (a peer delta) */
  setPeers(networkId: string, peers: readonly string[], local: string | undefined): Promise<void>;
  removeLinks(bridge: string, vxlan: string, dhcpAddresses: string[]): Promise<void>;
  installPort(p: PortNft): Promise<void>;
  removePort(p: Pick<PortNft, 'tap' | 'markId'>): Promise<void>;
  presentLinks(): Promise<string[]>;
  filteredTaps(): Promise<Map<string, number>>;
  pruneStateDirs(keep: Set<string>): Promise<string[]>;
  /** drops the nftables tables (no network and no filtered port left on this host) */
  dropAll(): Promise<void>;
}

/** Simulated hosts (src/sim): networks are journaled and reported, nothing is realised. */
export class JournalOnlyDriver implements NetworkDriver {
  async ensure(): Promise<void> {}
  async remove(): Promise<void> {}
  async setPeers(): Promise<void> {}
  async removeLinks(): Promise<void> {}
  async installPort(p: PortNft): Promise<void> { portScript(p); }
  async removePort(): Promise<void> {}
  async presentLinks(): Promise<string[]> { return []; }
  async filteredTaps(): Promise<Map<string, number>> { return new Map(); }
  async pruneStateDirs(): Promise<string[]> { return []; }
  async dropAll(): Promise<void> {}
}

export const tenantNetworkOf = (n: NicSpec): string | undefined => (n.attachment.type === 'tenant' ? n.attachment.network : undefined);

export class TenantNetworks {
  readonly journal: NetworkJournal;
  private learnedLocal: string | undefined;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly o: { journal: Journal; config: AgentConfig; log: Logger; driver: NetworkDriver }) {
    this.journal = new NetworkJournal(o.journal.db);
  }

  /** Runs fn after every earlier call with the same key (one change of a network or port at a time). */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    const tail = next.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => { if (this.locks.get(key) === tail) this.locks.delete(key); });
    return next;
  }

  /** The VXLAN local address: config `tunnelIp`, else the address the controller reached this agent on. */
  tunnelIp(): string | undefined {
    return this.o.config.tunnelIp ?? this.learnedLocal;
  }

  noteLocalAddress(addr: string | undefined): void {
    if (!addr) return;
    const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
    if (isIP(a) !== 0) this.learnedLocal = a;
  }

  private validate(id: string, spec: NetworkSpec): void {
    const bad = (m: string): never => { throw new AgentError('bad_request', `network ${id}: ${m}`); };
    if (spec.type === 'vxlan' && spec.vni === undefined) bad('a vxlan network needs a vni');
    if (spec.type === 'flat') {
      if (!spec.physicalNetwork) bad('a flat network needs a physicalNetwork');
      if (!this.o.config.physicalNetworks[spec.physicalNetwork ?? '']) {
        throw new AgentError('invalid_state', `network ${id}: physical network ${spec.physicalNetwork ?? ''} is not mapped to a bridge on this host (agent config physicalNetworks)`);
      }
    }
    try {
      checkPeers(spec.peers, undefined);
      for (const s of spec.subnets) if (s.ipVersion === 4) parseCidr4(s.cidr); else parseCidr6(s.cidr);
      dhcpSubnets(spec.subnets);
      dhcpSubnets6(spec.subnets);
      dnsmasqHosts(spec);
    } catch (err) {
      bad((err as Error).message);
    }
    const other = this.journal.list().find((r) => r.id !== id && r.spec.type === 'vxlan' && spec.type === 'vxlan' && r.spec.vni === spec.vni);
    if (other) throw new AgentError('invalid_state', `network ${id}: VNI ${spec.vni ?? ''} is network ${other.id}'s on this host`);
    const clash = this.journal.list().find((r) => r.id !== id && shortId(r.id) === shortId(id));
    if (clash) throw new AgentError('invalid_state', `network ${id}: its device names would clash with network ${clash.id}'s`);
  }

  async put(id: string, spec: NetworkSpec): Promise<HostNetworkView> {
    this.validate(id, spec);
    return this.serial(`net:${id}`, async () => {
      const local = this.tunnelIp();
      this.o.journal.durable(() => this.journal.put(id, spec, local ?? null));
      await this.o.driver.ensure(id, spec, { local, physicalNetworks: this.o.config.physicalNetworks });
      return this.view(this.journal.get(id)!);
    });
  }

  /**
   * POST /v1/network-peers: the peers of each network this host carries, changed by delta (journaled, then only the
   * flood entries touched); networks it does not carry are skipped. Idempotent: adding a present peer or removing
   * an absent one changes nothing. All checked before anything changes.
   */
  async changePeers(req: PeerChangesRequest): Promise<PeerChangesResponse> {
    try {
      for (const c of req.changes) checkPeers([...c.add, ...c.remove], undefined);
    } catch (err) {
      throw new AgentError('bad_request', (err as Error).message);
    }
    const out: PeerChangesResponse = { networks: [], unknown: [] };
    // every network's new peers journaled in one durable transaction (one fsync per request, not per network); a
    // PUT of the same network meanwhile journals the controller's whole view and is realised after it (same lock)
    const changed: { id: string; peers: string[]; local: string | undefined; vxlan: boolean }[] = [];
    this.o.journal.durable(() => this.o.journal.db.transaction(() => {
      for (const c of req.changes) {
        const row = this.journal.get(c.networkId);
        if (!row) { out.unknown.push(c.networkId); continue; }
        const remove = new Set(c.remove);
        const peers = [...new Set([...row.spec.peers, ...c.add])].filter((p) => !remove.has(p)).sort();
        if (peers.join(',') !== [...row.spec.peers].sort().join(',')) this.journal.put(c.networkId, { ...row.spec, peers }, row.localIp);
        changed.push({ id: c.networkId, peers, local: this.tunnelIp() ?? row.localIp ?? undefined, vxlan: row.spec.type === 'vxlan' });
      }
    })());
    for (const c of changed) {
      // realised whether or not the journal changed: a retried request finds the host as it should be
      await this.serial(`net:${c.id}`, async () => {
        const now = this.journal.get(c.id);
        if (c.vxlan && now) await this.o.driver.setPeers(c.id, now.spec.peers, c.local);
      });
      out.networks.push({ id: c.id, peers: checkPeers(c.peers, c.local) });
    }
    return out;
  }

  /** 409 network_in_use while a server of this host has a NIC on it; an unknown network is already gone. */
  delete(id: string): Promise<void> {
    return this.serial(`net:${id}`, async () => {
      const users = this.portsOn(id);
      if (users.length) throw new AgentError('network_in_use', `network ${id} has ports on this host: ${users.join(', ')}`);
      await this.o.driver.remove(id, this.journal.get(id)?.spec);
      this.journal.delete(id);
      // the last one gone: nothing of ours stays in the host's ruleset
      if (this.journal.list().length === 0 && this.journal.marks().size === 0) await this.o.driver.dropAll();
    });
  }

  list(): HostNetworkView[] {
    return this.journal.list().map((r) => this.view(r));
  }

  private view(r: NetworkRow): HostNetworkView {
    const v: HostNetworkView = {
      id: r.id, type: r.spec.type, bridge: this.bridgeOf(r), mtu: r.spec.mtu, peers: checkPeers(r.spec.peers, r.localIp ?? undefined), ports: this.portsOn(r.id),
    };
    if (r.spec.vni !== undefined) v.vni = r.spec.vni;
    return v;
  }

  private bridgeOf(r: NetworkRow): string {
    return r.spec.type === 'vxlan' ? bridgeName(r.id) : (this.o.config.physicalNetworks[r.spec.physicalNetwork ?? ''] ?? '');
  }

  private liveServers(): ServerRow[] {
    return this.o.journal.listServers().filter((s) => s.status !== 'deleted');
  }

  /** Port ids of this host's NICs on the network (servers not deleted). */
  portsOn(networkId: string): string[] {
    return this.liveServers().flatMap((s) => (s.spec.nics ?? []).filter((n) => tenantNetworkOf(n) === networkId).map((n) => n.portId)).sort();
  }

  /** 409 invalid_state for a tenant NIC on a network this host was not given (the controller ensures it first). */
  checkNics(nics: readonly NicSpec[] | undefined): void {
    for (const n of nics ?? []) {
      const net = tenantNetworkOf(n);
      if (net !== undefined && !this.journal.get(net)) throw new AgentError('invalid_state', `port ${n.portId}: network ${net} was not given to this host (PUT /v1/networks/${net} first)`);
    }
  }

  /** The NIC as the domain sees it: a tenant port is a bridge port with a tap named from the port id. */
  resolveNic = (n: NicSpec): VirtNicSpec => {
    const base = { portId: n.portId, mac: n.mac, ...(n.model ? { model: n.model } : {}) };
    const a = n.attachment;
    if (a.type !== 'tenant') return { ...base, attachment: a };
    const row = this.journal.get(a.network);
    if (!row) throw new AgentError('invalid_state', `port ${n.portId}: network ${a.network} was not given to this host`);
    return { ...base, attachment: { type: 'bridge', bridge: this.bridgeOf(row) }, tap: tapName(n.portId), mtu: n.mtu ?? row.spec.mtu };
  };

  /** Installs the port's filter (or removes it: security null/absent), before the guest can send. */
  applyPortFilter(n: NicSpec): Promise<void> {
    if (n.attachment.type !== 'tenant') return Promise.resolve();
    return this.serial(`port:${n.portId}`, () => this.installFilter(n));
  }

  /** Only inside serial(`port:…`): the caller holds the port's turn. */
  private async installFilter(n: NicSpec): Promise<void> {
    const tap = tapName(n.portId);
    if (!n.security) {
      const markId = this.journal.existingMarkId(n.portId);
      if (markId !== undefined) {
        await this.o.driver.removePort({ tap, markId });
        this.journal.releaseMark(n.portId);
      }
      return;
    }
    const markId = this.journal.markId(n.portId);
    try {
      await this.o.driver.installPort({ tap, mac: n.mac, markId, security: n.security });
    } catch (err) {
      throw new AgentError('bad_request', `port ${n.portId}: filter not applied: ${(err as Error).message}`);
    }
  }

  /** The journaled tenant NIC of a live server with this port, as it is now. */
  private liveNic(portId: string): { server: ServerRow; nic: NicSpec } | undefined {
    for (const server of this.liveServers()) {
      const nic = (server.spec.nics ?? []).find((n) => n.portId === portId && n.attachment.type === 'tenant');
      if (nic) return { server, nic };
    }
    return undefined;
  }

  removePortFilter(n: NicSpec): Promise<void> {
    if (n.attachment.type !== 'tenant') return Promise.resolve();
    return this.applyPortFilter({ ...n, security: null });
  }

  /**
   * PUT /v1/ports/:portId/security: the journaled NIC, then the live port's filter, in the port's turn. Journal
   * first: a reconcile pass that installs this port's filter after us reads the new rules, never the ones it
   * listed before (that once put an ICMPv6 rule back out for a whole reconcile interval).
   */
  async setPortSecurity(portId: string, security: PortSecurity): Promise<void> {
    await this.serial(`port:${portId}`, async () => {
      const live = this.liveNic(portId);
      if (!live) throw new AgentError('unknown_port', `no tenant port ${portId} on this host`);
      const { server } = live;
      this.o.journal.updateServer(server.uuid, { spec: { ...server.spec, nics: (server.spec.nics ?? []).map((n) => (n.portId === portId ? { ...n, security } : n)) } });
      await this.installFilter({ ...live.nic, security });
    });
  }

  /**
   * After a restart and every reconcile interval: the journaled networks realised again, the filters of live
   * tenant NICs installed, and whatever carries our names but is not journaled removed. `gone` tells servers
   * whose NICs no longer exist (deleted, or a rolled-back spawn without a domain).
   */
  async reconcile(gone: (s: ServerRow) => boolean): Promise<void> {
    const rows = this.journal.list();
    const live = this.o.journal.listServers(true).filter((s) => !gone(s));
    const tenantNics = (s: ServerRow): NicSpec[] => (s.spec.nics ?? []).filter((n) => n.attachment.type === 'tenant');
    const nics = live.flatMap((s) => tenantNics(s).map((n) => ({ ...n, serverUuid: s.uuid })));
    const present = await this.o.driver.presentLinks();
    if (rows.length === 0 && nics.length === 0 && present.length === 0 && this.journal.marks().size === 0) return;
    for (const r of rows) {
      await this.serial(`net:${r.id}`, () => this.o.driver.ensure(r.id, r.spec, { local: this.tunnelIp() ?? r.localIp ?? undefined, physicalNetworks: this.o.config.physicalNetworks }))
        .catch((err: unknown) => this.o.log.warn({ err, network: r.id }, 'tenant network not realised'));
    }
    const ours = new Set(rows.filter((r) => r.spec.type === 'vxlan').flatMap((r) => [bridgeName(r.id), vxlanName(r.id)]));
    const orphans = new Set(present.filter((l) => !ours.has(l)).map((l) => l.slice(3)));
    for (const short of orphans) {
      this.o.log.info({ bridge: BRIDGE_PREFIX + short }, 'removing a tenant network this host no longer has');
      await this.o.driver.removeLinks(BRIDGE_PREFIX + short, VXLAN_PREFIX + short, []).catch((err: unknown) => this.o.log.warn({ err }, 'orphan removal failed'));
    }
    await this.o.driver.pruneStateDirs(new Set(rows.map((r) => r.id))).catch((err: unknown) => this.o.log.warn({ err }, 'dnsmasq prune failed'));
    // each filter as journaled when its turn comes: a PUT of the port's security may have landed since `nics`
    for (const n of nics) {
      await this.serial(`port:${n.portId}`, async () => {
        const server = this.o.journal.getServer(n.serverUuid);
        const now = server && !gone(server) ? tenantNics(server).find((x) => x.portId === n.portId) : undefined;
        if (now) await this.installFilter(now);
      }).catch((err: unknown) => this.o.log.warn({ err, port: n.portId }, 'port filter not applied'));
    }
    // what is filtered now (the journal again: a port may have gained a filter while the pass ran)
    const filtered = this.o.journal.listServers(true).filter((s) => !gone(s)).flatMap((s) => tenantNics(s).filter((n) => n.security));
    const wanted = new Set(filtered.map((n) => tapName(n.portId)));
    for (const [tap, markId] of await this.o.driver.filteredTaps()) {
      if (!wanted.has(tap)) await this.o.driver.removePort({ tap, markId }).catch((err: unknown) => this.o.log.warn({ err, tap }, 'stale port filter not removed'));
    }
    const keepMarks = new Set(filtered.map((n) => n.portId));
    for (const portId of this.journal.marks().keys()) if (!keepMarks.has(portId)) this.journal.releaseMark(portId);
  }
}
