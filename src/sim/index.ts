export { startSimHosts, simHostName, simHostUuid, SIM_HOST_DEFAULTS, SIM_NETWORKS, type SimHost, type SimHosts, type SimHostsOptions } from './sim-hosts.js';
export { SimDiskTool, SimImageCache } from './sim-storage.js';
