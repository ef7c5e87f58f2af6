/** PostgreSQL repository of hosts (their usage: claims.ts). */
import type { HostRepo } from '../repos/hosts.js';
import type { Host, HostTransition } from '../types.js';
import { assignments, bool, now, type FieldMap } from '../sqlite/columns.js';
import type { Row } from './db.js';
import { PgRepository } from './repository.js';

const HOST_FIELDS: FieldMap = {
  disabled: ['disabled', (v: boolean) => (v ? 1 : 0)], disabledReason: ['disabled_reason', (v: string | null) => v],
  forcedDown: ['forced_down', (v: boolean) => (v ? 1 : 0)], lastSeenAt: ['last_seen_at', (v: string | null) => v],
  vcpus: ['vcpus', (v: number) => v], memoryMb: ['memory_mb', (v: number) => v], diskGb: ['disk_gb', (v: number) => v],
  hypervisorType: ['hypervisor_type', (v: string) => v], hypervisorVersion: ['hypervisor_version', (v: number) => v],
  hostIp: ['host_ip', (v: string) => v], updatedAt: ['updated_at', (v: string) => v],
};

export class PgHosts extends PgRepository implements HostRepo {
  async upsertHost(h: Host): Promise<void> {
    await this.run(`INSERT INTO hosts (name, service_id, hypervisor_id, disabled, disabled_reason, forced_down, last_seen_at, vcpus,
      memory_mb, disk_gb, hypervisor_type, hypervisor_version, host_ip, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, vcpus = excluded.vcpus, memory_mb = excluded.memory_mb,
        disk_gb = excluded.disk_gb, hypervisor_type = excluded.hypervisor_type, hypervisor_version = excluded.hypervisor_version,
        host_ip = excluded.host_ip, updated_at = excluded.updated_at`, [h.name, h.serviceId, h.hypervisorId, h.disabled ? 1 : 0,
      h.disabledReason, h.forcedDown ? 1 : 0, h.lastSeenAt, h.vcpus, h.memoryMb, h.diskGb, h.hypervisorType, h.hypervisorVersion,
      h.hostIp, h.createdAt, h.updatedAt]);
  }
  async getHost(name: string): Promise<Host | null> { return host(await this.one('SELECT * FROM hosts WHERE name = ?', [name])); }
  async listHosts(): Promise<Host[]> { return (await this.all('SELECT * FROM hosts ORDER BY created_at COLLATE "C", name COLLATE "C"')).map((r) => host(r)!); }
  async updateHost(name: string, c: Partial<Omit<Host, 'name' | 'serviceId' | 'hypervisorId' | 'createdAt'>>): Promise<boolean> {
    const { sets, params } = assignments(c, HOST_FIELDS, 'host');
    if (c.updatedAt === undefined) { sets.push('updated_at = ?'); params.push(now()); }
    return (await this.run(`UPDATE hosts SET ${sets.join(', ')} WHERE name = ?`, [...params, name])) === 1;
  }
  async recordHostTransition(t: Omit<HostTransition, 'id'>): Promise<void> {
    await this.run('INSERT INTO host_transitions (host, state, reason, at) VALUES (?, ?, ?, ?)', [t.host, t.state, t.reason, t.at]);
  }
  async listHostTransitions(o: { host?: string; limit?: number } = {}): Promise<HostTransition[]> {
    const where = o.host !== undefined ? 'WHERE host = ?' : '';
    const params: unknown[] = o.host !== undefined ? [o.host] : [];
    return (await this.all(`SELECT * FROM host_transitions ${where} ORDER BY id DESC LIMIT ?`, [...params, o.limit ?? 1000])).map((r) => transition(r));
  }
}

function host(x: Row | undefined): Host | null {
  if (!x) return null;
  return {
    name: x.name as string, serviceId: x.service_id as string, hypervisorId: x.hypervisor_id as string, disabled: bool(x.disabled),
    disabledReason: (x.disabled_reason as string | null) ?? null, forcedDown: bool(x.forced_down), lastSeenAt: (x.last_seen_at as string | null) ?? null,
    vcpus: x.vcpus as number, memoryMb: x.memory_mb as number, diskGb: x.disk_gb as number, hypervisorType: x.hypervisor_type as string,
    hypervisorVersion: x.hypervisor_version as number, hostIp: x.host_ip as string, createdAt: x.created_at as string, updatedAt: x.updated_at as string,
  };
}

function transition(x: Row): HostTransition {
  return { id: Number(x.id), host: x.host as string, state: x.state as 'up' | 'down', reason: (x.reason as string | null) ?? null, at: x.at as string };
}
