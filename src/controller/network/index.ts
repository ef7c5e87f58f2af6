/**
 * The network controller: Neutron's resources (networks.ts, ports.ts, security-groups.ts, quotas.ts) over the
 * store, and the compute side that servers use (server-ports.ts).
 */
import type { Store } from '../../store/index.js';
import type { ControllerConfig } from '../config.js';
import type { HostTransport } from '../hosts/transport.js';
import { NetworkService } from './networks.js';
import { PortService } from './ports.js';
import { NetworkQuotas } from './quotas.js';
import { SecurityGroupService } from './security-groups.js';
import { ServerPorts } from './server-ports.js';

export class NetworkController {
  readonly quotas: NetworkQuotas;
  readonly networks: NetworkService;
  readonly groups: SecurityGroupService;
  readonly ports: PortService;
  readonly servers: ServerPorts;

  constructor(store: Store, cfg: Pick<ControllerConfig, 'networks'>, hosts?: HostTransport) {
    this.quotas = new NetworkQuotas(store);
    this.networks = new NetworkService(store, cfg.networks, this.quotas);
    this.groups = new SecurityGroupService(store, this.quotas);
    this.ports = new PortService(store, this.networks, this.groups, this.quotas);
    this.servers = new ServerPorts(store, this.networks, this.ports, this.groups, hosts);
  }
}
