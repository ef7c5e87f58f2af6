/**
 * nftables scripts (for `nft -f -`, each applied as one atomic transaction) of tenant networks and port filters.
 *
 * Why two tables: with br_netfilter the inet family sees bridged IP traffic (and conntrack works there, which the
 * bridge family cannot do on this kernel), but its in/out interface is the bridge, never the tap. So:
 *   bridge novalet  sees the taps: anti-spoofing per port (stateless), the port's mark set on the packet (egress mark
 *                   in prerouting: from the guest; ingress mark in forward: to the guest), and the tunnel guard
 *                   (DHCP and the DHCP server address never cross the VXLAN: each host's guests use their own host's);
 *   inet novalet    stateful security groups: prerouting selects the egress chain by mark, forward the ingress
 *                   chain; a tenant bridge never routes through this host, and the host answers only DHCP on it.
 * Port chains are reached through verdict maps keyed by mark / interface name: adding or removing a port touches
 * only its own chains and map elements. Every script is idempotent (re-applying it changes nothing).
 */
import { isIP } from 'node:net';
import type { FilterRule, PortSecurity } from '../../rpc/protocol/networks.js';
import { linkLocal } from './ipv6.js';
import { egressChain, egressMark, hexMark, ingressChain, ingressMark, NFT_TABLE as T, spoofChain } from './names.js';

const q = (s: string): string => {
  if (!/^[A-Za-z0-9_.-]+$/.test(s)) throw new Error(`unsafe nftables name: ${s}`);
  return `"${s}"`;
};

/** The base tables, sets, maps and hooked chains (their rules re-written, the port elements kept). */
export function baseScript(): string {
  return `add table inet ${T}
add map inet ${T} egress_ports { type mark : verdict; }
add map inet ${T} ingress_ports { type mark : verdict; }
add set inet ${T} bridges { type ifname; }
add set inet ${T} same_bridge { type ifname . ifname; }
add chain inet ${T} prerouting { type filter hook prerouting priority 0; policy accept; }
add chain inet ${T} forward { type filter hook forward priority 0; policy accept; }
add chain inet ${T} input { type filter hook input priority 0; policy accept; }
add chain inet ${T} bridge_input
flush chain inet ${T} prerouting
flush chain inet ${T} forward
flush chain inet ${T} input
flush chain inet ${T} bridge_input
add rule inet ${T} prerouting meta mark vmap @egress_ports
add rule inet ${T} forward iifname @bridges iifname . oifname != @same_bridge drop
add rule inet ${T} forward oifname @bridges iifname . oifname != @same_bridge drop
add rule inet ${T} forward meta mark vmap @ingress_ports
add rule inet ${T} input iifname @bridges jump bridge_input
add rule inet ${T} bridge_input ct state established,related accept
add rule inet ${T} bridge_input meta nfproto ipv4 udp sport 68 udp dport 67 accept
add rule inet ${T} bridge_input meta nfproto ipv6 udp sport 546 udp dport 547 accept
add rule inet ${T} bridge_input meta l4proto ipv6-icmp icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept
add rule inet ${T} bridge_input drop
add table bridge ${T}
add map bridge ${T} spoof_ports { type ifname : verdict; }
add map bridge ${T} egress_marks { type ifname : mark; }
add map bridge ${T} ingress_marks { type ifname : mark; }
add set bridge ${T} tunnels { type ifname; }
add set bridge ${T} tunnel_dhcp { type ifname . ipv4_addr; }
add set bridge ${T} tunnel_dhcp6 { type ifname . ipv6_addr; }
add chain bridge ${T} prerouting { type filter hook prerouting priority -200; policy accept; }
add chain bridge ${T} forward { type filter hook forward priority -200; policy accept; }
add chain bridge ${T} output { type filter hook output priority -200; policy accept; }
add chain bridge ${T} tunnel_out
flush chain bridge ${T} prerouting
flush chain bridge ${T} forward
flush chain bridge ${T} output
flush chain bridge ${T} tunnel_out
add rule bridge ${T} prerouting iifname vmap @spoof_ports
add rule bridge ${T} prerouting meta mark set iifname map @egress_marks
add rule bridge ${T} prerouting iifname @tunnels ether type ip udp dport { 67, 68 } drop
add rule bridge ${T} prerouting iifname @tunnels ether type ip6 udp dport { 546, 547 } drop
add rule bridge ${T} prerouting iifname @tunnels ether type ip6 icmpv6 type nd-router-advert drop
add rule bridge ${T} prerouting ether type ip6 iifname . ip6 saddr @tunnel_dhcp6 drop
add rule bridge ${T} prerouting ether type ip6 iifname . ip6 daddr @tunnel_dhcp6 drop
add rule bridge ${T} prerouting ether type arp iifname . arp saddr ip @tunnel_dhcp drop
add rule bridge ${T} prerouting ether type arp iifname . arp daddr ip @tunnel_dhcp drop
add rule bridge ${T} prerouting ether type ip iifname . ip saddr @tunnel_dhcp drop
add rule bridge ${T} prerouting ether type ip iifname . ip daddr @tunnel_dhcp drop
add rule bridge ${T} forward meta mark set oifname map @ingress_marks
add rule bridge ${T} forward jump tunnel_out
add rule bridge ${T} output jump tunnel_out
add rule bridge ${T} tunnel_out oifname @tunnels ether type ip udp dport { 67, 68 } drop
add rule bridge ${T} tunnel_out oifname @tunnels ether type ip6 udp dport { 546, 547 } drop
add rule bridge ${T} tunnel_out oifname @tunnels ether type ip6 icmpv6 type nd-router-advert drop
add rule bridge ${T} tunnel_out ether type ip6 oifname . ip6 saddr @tunnel_dhcp6 drop
add rule bridge ${T} tunnel_out ether type ip6 oifname . ip6 daddr @tunnel_dhcp6 drop
add rule bridge ${T} tunnel_out ether type arp oifname . arp saddr ip @tunnel_dhcp drop
add rule bridge ${T} tunnel_out ether type arp oifname . arp daddr ip @tunnel_dhcp drop
add rule bridge ${T} tunnel_out ether type ip oifname . ip saddr @tunnel_dhcp drop
add rule bridge ${T} tunnel_out ether type ip oifname . ip daddr @tunnel_dhcp drop
`;
}

/** Drops both tables (the last network is gone, or a test cleans up). */
export function dropAllScript(): string {
  return `add table inet ${T}\ndelete table inet ${T}\nadd table bridge ${T}\ndelete table bridge ${T}\n`;
}

export interface NetworkNft {
  bridge: string;
  /** vxlan device (absent: a flat network on the operator's bridge, no tunnel) */
  vxlan?: string | undefined;
  /** the DHCP server addresses of this network, both families (kept off the tunnel) */
  dhcpAddresses: readonly string[];
}

function networkElements(n: NetworkNft): string[] {
  const out = [
    `inet ${T} bridges { ${q(n.bridge)} }`,
    `inet ${T} same_bridge { ${q(n.bridge)} . ${q(n.bridge)} }`,
  ];
  if (n.vxlan) {
    out.push(`bridge ${T} tunnels { ${q(n.vxlan)} }`);
    for (const a of n.dhcpAddresses) {
      const fam = isIP(a);
      if (fam === 0) throw new Error(`not an IP address: ${a}`);
      out.push(`bridge ${T} ${fam === 4 ? 'tunnel_dhcp' : 'tunnel_dhcp6'} { ${q(n.vxlan)} . ${a} }`);
    }
  }
  return out;
}

/** A network's set elements (the bridge is tenant; its tunnel guarded). */
export function networkScript(n: NetworkNft): string {
  return networkElements(n).map((e) => `add element ${e}\n`).join('');
}

/** Removes a network's elements (add first: deleting an element that is not there fails the transaction). */
export function removeNetworkScript(n: NetworkNft): string {
  return networkElements(n).map((e) => `add element ${e}\ndelete element ${e}\n`).join('');
}

export interface PortNft {
  tap: string;
  mac: string;
  /** the port's mark id (names.ts) */
  markId: number;
  security: Exclude<PortSecurity, null>;
}

const v4 = (a: string): boolean => isIP(a.split('/')[0] ?? '') === 4;
const v6 = (a: string): boolean => isIP(a.split('/')[0] ?? '') === 6;
const set = (items: readonly string[]): string => `{ ${items.join(', ')} }`;

function checkPrefix(p: string): string {
  const [addr, len, extra] = p.split('/');
  const fam = isIP(addr ?? '');
  const max = fam === 4 ? 32 : 128;
  if (!fam || extra !== undefined || (len !== undefined && !(/^\d+$/.test(len) && Number(len) <= max))) throw new Error(`not an IP prefix: ${p}`);
  return p;
}

const L4_NAMES: Record<string, string> = { tcp: 'tcp', udp: 'udp', sctp: 'sctp', icmp: 'icmp', icmpv6: 'ipv6-icmp', 'ipv6-icmp': 'ipv6-icmp', '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'ipv6-icmp', '132': 'sctp' };

/** One security group rule as an nft rule body (without the table/chain), or null when it can match nothing. */
export function ruleMatch(r: FilterRule): string | null {
  const fam = r.ethertype === 'IPv4' ? 'ipv4' : 'ipv6';
  const parts = [`meta nfproto ${fam}`];
  if (r.protocol !== null && r.protocol !== '' && r.protocol !== 'any') {
    let proto = L4_NAMES[r.protocol.toLowerCase()];
    if (!proto) {
      if (/^\d{1,3}$/.test(r.protocol) && Number(r.protocol) <= 255) proto = r.protocol;
      else if (/^[a-z][a-z0-9-]{0,15}$/.test(r.protocol)) proto = r.protocol;
      else throw new Error(`unknown protocol ${r.protocol}`);
    }
    // Neutron: 'icmp' in an IPv6 rule means ICMPv6
    if (proto === 'icmp' && fam === 'ipv6') proto = 'ipv6-icmp';
    parts.push(`meta l4proto ${proto}`);
    if (proto === 'tcp' || proto === 'udp' || proto === 'sctp') {
      const lo = r.portRangeMin;
      const hi = r.portRangeMax ?? lo;
      if (lo !== null && hi !== null) parts.push(lo === hi ? `th dport ${lo}` : `th dport ${Math.min(lo, hi)}-${Math.max(lo, hi)}`);
    } else if (proto === 'icmp' || proto === 'ipv6-icmp') {
      // Neutron puts the ICMP type in port_range_min and the code in port_range_max
      const kw = proto === 'icmp' ? 'icmp' : 'icmpv6';
      if (r.portRangeMin !== null) parts.push(`${kw} type ${r.portRangeMin}`);
      if (r.portRangeMin !== null && r.portRangeMax !== null) parts.push(`${kw} code ${r.portRangeMax}`);
    }
  }
  if (r.remotePrefixes.length) {
    const prefixes = r.remotePrefixes.map(checkPrefix).filter(fam === 'ipv4' ? v4 : v6);
    if (prefixes.length === 0) return null;
    const field = `${fam === 'ipv4' ? 'ip' : 'ip6'} ${r.direction === 'ingress' ? 'saddr' : 'daddr'}`;
    parts.push(`${field} ${set(prefixes)}`);
  }
  return parts.join(' ');
}

function elements(p: PortNft): string[] {
  return [
    `bridge ${T} spoof_ports { ${q(p.tap)} : jump ${spoofChain(p.tap)} }`,
    `bridge ${T} egress_marks { ${q(p.tap)} : ${hexMark(egressMark(p.markId))} }`,
    `bridge ${T} ingress_marks { ${q(p.tap)} : ${hexMark(ingressMark(p.markId))} }`,
    `inet ${T} egress_ports { ${hexMark(egressMark(p.markId))} : jump ${egressChain(p.tap)} }`,
    `inet ${T} ingress_ports { ${hexMark(ingressMark(p.markId))} : jump ${ingressChain(p.tap)} }`,
  ];
}

/**
 * A filtered port: anti-spoofing (its MAC, its allowed addresses and link-local, DHCP discovery from 0.0.0.0, no
 * DHCP or router advertisements from the guest), then stateful allow-lists per direction; everything else dropped.
 */
export function portScript(p: PortNft): string {
  const mac = p.mac.toLowerCase();
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) throw new Error(`bad MAC ${p.mac}`);
  const allowed = p.security.allowedAddresses.map(checkPrefix);
  const a4 = allowed.filter(v4);
  const a6 = allowed.filter(v6);
  const sp = `bridge ${T} ${spoofChain(p.tap)}`;
  const eg = `inet ${T} ${egressChain(p.tap)}`;
  const ing = `inet ${T} ${ingressChain(p.tap)}`;
  const lines = [
    `add chain ${sp}`, `flush chain ${sp}`,
    `add rule ${sp} ether saddr != ${mac} drop`,
    `add rule ${sp} ether type arp arp saddr ether != ${mac} drop`,
    `add rule ${sp} ether type arp arp saddr ip != ${set(['0.0.0.0', ...a4])} drop`,
    `add rule ${sp} ether type ip udp sport 67 drop`,
    `add rule ${sp} ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 return`,
    `add rule ${sp} ether type ip ip saddr != ${set(a4.length ? a4 : ['0.0.0.0'])} drop`,
    `add rule ${sp} ether type ip6 udp sport 547 drop`,
    `add rule ${sp} ether type ip6 icmpv6 type nd-router-advert drop`,
    // as Neutron: its fixed IPs and its own link-local only (:: for duplicate address detection)
    `add rule ${sp} ether type ip6 ip6 saddr != ${set(['::', linkLocal(mac), ...a6])} drop`,
    `add rule ${sp} ether type != { ip, ip6, arp } drop`,
    `add chain ${eg}`, `flush chain ${eg}`,
    `add rule ${eg} ct state established,related accept`,
    `add rule ${eg} ct state invalid drop`,
    `add rule ${eg} meta nfproto ipv4 udp sport 68 udp dport 67 accept`,
    `add rule ${eg} meta nfproto ipv6 udp sport 546 udp dport 547 accept`,
    `add rule ${eg} meta l4proto ipv6-icmp icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } accept`,
    `add chain ${ing}`, `flush chain ${ing}`,
    `add rule ${ing} ct state established,related accept`,
    `add rule ${ing} ct state invalid drop`,
    `add rule ${ing} meta nfproto ipv4 udp sport 67 udp dport 68 accept`,
    `add rule ${ing} meta nfproto ipv6 udp sport 547 udp dport 546 accept`,
    `add rule ${ing} meta l4proto ipv6-icmp icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept`,
  ];
  for (const r of p.security.rules) {
    const m = ruleMatch(r);
    if (m !== null) lines.push(`add rule ${r.direction === 'egress' ? eg : ing} ${m} accept`);
  }
  lines.push(`add rule ${eg} drop`, `add rule ${ing} drop`);
  for (const e of elements(p)) lines.push(`add element ${e}`);
  return `${lines.join('\n')}\n`;
}

/** Removes a port's filter: map elements first (they reference the chains), then the chains. */
export function removePortScript(p: Pick<PortNft, 'tap' | 'markId'>): string {
  const chains = [`bridge ${T} ${spoofChain(p.tap)}`, `inet ${T} ${egressChain(p.tap)}`, `inet ${T} ${ingressChain(p.tap)}`];
  const lines: string[] = chains.map((c) => `add chain ${c}`);
  for (const e of elements({ ...p, mac: '00:00:00:00:00:00', security: { rules: [], allowedAddresses: [] } })) lines.push(`add element ${e}`, `delete element ${e}`);
  for (const c of chains) lines.push(`flush chain ${c}`, `delete chain ${c}`);
  return `${lines.join('\n')}\n`;
}
