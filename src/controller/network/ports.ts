import { createHash } from 'node:crypto';

/**
 * A stable port id per (server, MAC): ports are not stored until Neutron-like networking exists, so the network
 * API's port ids and the agent's NIC ids are both derived from the pair and always agree.
 */
export function portIdFor(serverId: string, mac: string): string {
  const h = createHash('sha1').update(`${serverId}/${mac}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
