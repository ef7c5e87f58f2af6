import { createHash } from 'node:crypto';

/**
 * The port id of a NIC made before ports were stored (issue 12): derived from (server, MAC), as the agent was told
 * then, so the port adopted from a legacy fixed IP and the agent's NIC keep agreeing.
 */
export function portIdFor(serverId: string, mac: string): string {
  const h = createHash('sha1').update(`${serverId}/${mac}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
