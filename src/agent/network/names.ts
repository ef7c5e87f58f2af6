/**
 * Names of everything the agent creates for tenant networks, derived from ids alone, so that after a restart the
 * agent finds what it made (and only that: every name starts with a prefix no one else uses) and can remove it.
 * Linux interface names are at most 15 characters.
 *
 *   bridge  nvb<12>   one per network          (Neutron's linuxbridge agent: brq<11 of the id>)
 *   vxlan   nvx<12>   one per vxlan network
 *   tap     nvt<12>   one per port (libvirt's <target dev>)
 *
 * <12> is the first 12 hex digits of a UUID id (readable: `ip link | grep nvb3f2a`), else of its sha256.
 */
import { createHash } from 'node:crypto';

export const BRIDGE_PREFIX = 'nvb';
export const VXLAN_PREFIX = 'nvx';
export const TAP_PREFIX = 'nvt';
/** nftables tables (inet and bridge family) holding every tenant-network rule of this host */
export const NFT_TABLE = 'novalet';

export function shortId(id: string): string {
  const hex = id.toLowerCase().replace(/-/g, '');
  if (/^[0-9a-f]{12,}$/.test(hex)) return hex.slice(0, 12);
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

export const bridgeName = (networkId: string): string => BRIDGE_PREFIX + shortId(networkId);
export const vxlanName = (networkId: string): string => VXLAN_PREFIX + shortId(networkId);
export const tapName = (portId: string): string => TAP_PREFIX + shortId(portId);

/** nftables chain names of a port's filter (the tap name keeps them unique on the host) */
export const egressChain = (tap: string): string => `egress_${tap}`;
export const ingressChain = (tap: string): string => `ingress_${tap}`;
export const spoofChain = (tap: string): string => `spoof_${tap}`;

/**
 * Packet marks identify a filtered port inside the inet family: with br_netfilter the inet hooks see only the
 * bridge as in/out interface, never the tap, so the bridge family (which sees the tap) marks the packet and the
 * inet chains (where conntrack works) select the port's chain by mark. One id per filtered port (journaled),
 * two marks: the direction bit tells egress (from the guest) from ingress (to the guest).
 */
export const MARK_BASE = 0x6e000000;
export const MARK_INGRESS_BIT = 0x00800000;
export const MAX_MARK_ID = 0x007fffff;
export const egressMark = (id: number): number => MARK_BASE | id;
export const ingressMark = (id: number): number => MARK_BASE | MARK_INGRESS_BIT | id;
export const hexMark = (m: number): string => `0x${m.toString(16).padStart(8, '0')}`;
