/** Fixed IPs handed out on the configured networks. */
import type { FixedIp } from '../types.js';

export interface FixedIpRepo {
  /**
   * Atomically takes the first address of `candidates` not yet used on the network for (serverId, mac); an
   * address already held by the same server and mac is returned again (idempotent). null when all are taken.
   */
  allocateFixedIp(networkId: string, serverId: string, mac: string, candidates: Iterable<string>): Promise<string | null>;
  listFixedIps(serverId: string): Promise<FixedIp[]>;
  releaseFixedIps(serverId: string): Promise<number>;
}
