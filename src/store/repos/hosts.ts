/** Hosts (compute services + hypervisors); what their servers use is in ClaimRepo. */
import type { Host } from '../types.js';

export interface HostRepo {
  upsertHost(h: Host): Promise<void>;
  getHost(name: string): Promise<Host | null>;
  listHosts(): Promise<Host[]>;
  updateHost(name: string, changes: Partial<Omit<Host, 'name' | 'serviceId' | 'hypervisorId' | 'createdAt'>>): Promise<boolean>;
}
