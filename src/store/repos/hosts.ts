/** Hosts (compute services + hypervisors) and the resources their servers use. */
import type { Host, HostUsage } from '../types.js';

export interface HostRepo {
  upsertHost(h: Host): Promise<void>;
  getHost(name: string): Promise<Host | null>;
  listHosts(): Promise<Host[]>;
  updateHost(name: string, changes: Partial<Omit<Host, 'name' | 'serviceId' | 'hypervisorId' | 'createdAt'>>): Promise<boolean>;
  /** resources of the non-deleted servers placed on the host */
  getHostUsage(name: string): Promise<HostUsage>;
  /** usage of every host that has servers, in one query (the scheduler's cache) */
  listHostUsage(): Promise<Map<string, HostUsage>>;
}
