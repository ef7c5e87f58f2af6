/** Hosts (compute services + hypervisors); what their servers use is in ClaimRepo. */
import type { Host, HostTransition } from '../types.js';

export interface HostRepo {
  upsertHost(h: Host): Promise<void>;
  getHost(name: string): Promise<Host | null>;
  listHosts(): Promise<Host[]>;
  updateHost(name: string, changes: Partial<Omit<Host, 'name' | 'serviceId' | 'hypervisorId' | 'createdAt'>>): Promise<boolean>;
  /** the host monitor's record of an up/down change (append only) */
  recordHostTransition(t: Omit<HostTransition, 'id'>): Promise<void>;
  /** newest first; `host` narrows to one host */
  listHostTransitions(o?: { host?: string; limit?: number }): Promise<HostTransition[]>;
}
