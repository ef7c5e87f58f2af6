/** What the operation modules (devices, snapshots) share with LibvirtHypervisor. */
import type { LibvirtDomain } from '../libvirt/index.js';
import type { Subscribe } from './waits.js';

export interface OpContext {
  /** the domain, looked up on the current connection (VirtError 'domain_not_found' if missing) */
  dom: LibvirtDomain;
  uuid: string;
  subscribe: Subscribe;
  detachTimeoutMs: number;
  blockJobTimeoutMs: number;
  /** defines the domain from XML on the current connection */
  redefine: (xml: string) => Promise<void>;
}
