export { LibvirtHypervisor, type LibvirtHypervisorOptions } from './hypervisor.js';
export { ConnectionKeeper, type KeeperOptions } from './connection.js';
