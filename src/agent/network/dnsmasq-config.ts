/**
 * One dnsmasq per tenant network per host, bound to the network's bridge, answering exactly the ports of this
 * host (static host entries, no dynamic range, `dhcp-ignore=tag:!known`): two hosts on one network never answer
 * each other's guests (and the tunnel guard drops DHCP between hosts anyway). No DNS (port=0), no lease file
 * (the hosts file is the truth), no /etc/hosts or resolv.conf. The hosts and options files are re-read on SIGHUP,
 * so a port coming or going never restarts the server.
 *
 * IPv6 (there is no router here, so this host's dnsmasq also sends the router advertisements, with a router lifetime
 * of 0: the prefix, its flags and the MTU, never itself as default router): SLAAC subnets get RAs with the
 * autonomous flag (the guest forms the EUI-64 address the controller allocated), DHCPv6-stateless ones the same
 * plus the O flag and options, DHCPv6-stateful ones (and those without a mode, as Neutron) the M flag and static
 * host entries only, exactly the allocated addresses.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { DhcpHost, SubnetSpec } from '../../rpc/protocol/networks.js';
import { contains, dhcpServerAddress, intToIp, netmask, parseCidr4 } from './ipv4.js';
import { bigToIp6, contains6, dhcpServerAddress6, parseCidr6 } from './ipv6.js';

export interface DnsmasqFiles {
  dir: string;
  conf: string;
  hosts: string;
  opts: string;
  pid: string;
}

export interface DnsmasqInput {
  bridge: string;
  mtu: number;
  subnets: readonly SubnetSpec[];
  dhcpHosts: readonly DhcpHost[];
  files: DnsmasqFiles;
}

/** The IPv4 subnets this host serves by DHCP, with the server's address on each. */
export function dhcpSubnets(subnets: readonly SubnetSpec[]): { subnet: SubnetSpec; tag: string; server: string; prefix: number }[] {
  return subnets.filter((s) => s.ipVersion === 4 && s.enableDhcp).map((s, i) => ({
    subnet: s, tag: `s${i}`, server: dhcpServerAddress(s.cidr, s.gatewayIp), prefix: parseCidr4(s.cidr).prefix,
  }));
}

/** How an IPv6 subnet is served: the dnsmasq range mode (RA flags and whether DHCPv6 hands out addresses). */
export type Dhcp6Mode = 'ra-only' | 'ra-stateless' | 'static';

function dhcp6Mode(s: SubnetSpec): Dhcp6Mode | null {
  const m = s.ipv6AddressMode ?? null;
  if (m === 'slaac') return 'ra-only';
  if (!s.enableDhcp) return null;
  return m === 'dhcpv6-stateless' ? 'ra-stateless' : 'static';
}

/** The IPv6 subnets this host serves (RA, and DHCPv6 where the mode has it), with the server's address on each. */
export function dhcpSubnets6(subnets: readonly SubnetSpec[]): { subnet: SubnetSpec; tag: string; server: string; prefix: number; mode: Dhcp6Mode }[] {
  const out: { subnet: SubnetSpec; tag: string; server: string; prefix: number; mode: Dhcp6Mode }[] = [];
  for (const s of subnets) {
    if (s.ipVersion !== 6) continue;
    const mode = dhcp6Mode(s);
    if (!mode) continue;
    const c = parseCidr6(s.cidr);
    if (mode !== 'static' && c.prefix !== 64) throw new Error(`subnet ${s.cidr}: SLAAC needs a /64`);
    out.push({ subnet: s, tag: `v6s${out.length}`, server: dhcpServerAddress6(s.cidr, s.gatewayIp), prefix: c.prefix, mode });
  }
  return out;
}

const LEASE = '86400s';
/** seconds between unsolicited router advertisements (a booting guest solicits one at once anyway) */
const RA_INTERVAL = 30;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function dnsmasqConf(i: DnsmasqInput): string {
  const lines = [
    `# novalet: DHCP of tenant network bridge ${i.bridge} (generated; rewritten by the agent)`,
    'port=0',
    `interface=${i.bridge}`,
    'except-interface=lo',
    'bind-dynamic',
    'no-hosts',
    'no-resolv',
    'leasefile-ro',
    'dhcp-no-override',
    'dhcp-ignore=tag:!known',
    `pid-file=${i.files.pid}`,
    `dhcp-hostsfile=${i.files.hosts}`,
    `dhcp-optsfile=${i.files.opts}`,
  ];
  for (const d of dhcpSubnets(i.subnets)) {
    const c = parseCidr4(d.subnet.cidr);
    // `static`: only addresses of host entries are handed out (no dynamic range)
    lines.push(`dhcp-range=set:${d.tag},${intToIp(c.network)},static,${netmask(c)},${LEASE}`);
  }
  const v6 = dhcpSubnets6(i.subnets);
  if (v6.length) {
    // router lifetime 0: the host advertises prefixes, it routes nothing
    lines.push('enable-ra', `ra-param=${i.bridge},mtu:${i.mtu},${RA_INTERVAL},0`);
    for (const d of v6) lines.push(`dhcp-range=set:${d.tag},${bigToIp6(parseCidr6(d.subnet.cidr).network)},${d.mode},${d.prefix},${LEASE}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `mac,ip[,[ip6]…][,hostname],lease` per served IPv4 address of this host's ports, the port's DHCPv6-stateful
 * addresses on its first line (one line per MAC where it can: dnsmasq takes the first entry of a MAC that has no
 * address of the asked family as "known, nothing to give").
 */
export function dnsmasqHosts(i: Pick<DnsmasqInput, 'subnets' | 'dhcpHosts'>): string {
  const served = new Map(dhcpSubnets(i.subnets).map((d) => [d.subnet.id, d]));
  const served6 = new Map(dhcpSubnets6(i.subnets).map((d) => [d.subnet.id, d]));
  const lines: string[] = [];
  for (const h of i.dhcpHosts) {
    const v4: string[] = [];
    const v6: string[] = [];
    for (const ip of h.ips) {
      const d = served.get(ip.subnetId);
      if (d && isIPv4(ip.address)) {
        if (!contains(parseCidr4(d.subnet.cidr), ip.address)) throw new Error(`port ${h.portId}: ${ip.address} is not in subnet ${d.subnet.cidr}`);
        if (ip.address === d.server) throw new Error(`port ${h.portId}: ${ip.address} is the network's DHCP server address on every host`);
        v4.push(ip.address);
      }
      const d6 = served6.get(ip.subnetId);
      if (d6 && isIPv6(ip.address)) {
        if (!contains6(parseCidr6(d6.subnet.cidr), ip.address)) throw new Error(`port ${h.portId}: ${ip.address} is not in subnet ${d6.subnet.cidr}`);
        if (bigToIp6(parseCidr6(`${ip.address}/128`).network) === d6.server) throw new Error(`port ${h.portId}: ${ip.address} is the network's DHCP server address on every host`);
        if (d6.mode === 'static') v6.push(`[${ip.address}]`);
      }
    }
    const name = h.hostname && HOSTNAME.test(h.hostname) ? `,${h.hostname}` : '';
    const mac = h.mac.toLowerCase();
    // a stateless DHCPv6 client is known by its MAC alone (options only)
    const statelessOnly = v4.length === 0 && v6.length === 0 && h.ips.some((ip) => served6.get(ip.subnetId)?.mode === 'ra-stateless');
    if (v4.length === 0 && (v6.length || statelessOnly)) lines.push(`${mac}${v6.map((a) => `,${a}`).join('')}${name},${LEASE}`);
    v4.forEach((a, k) => lines.push(`${mac},${a}${k === 0 ? v6.map((x) => `,${x}`).join('') : ''}${name},${LEASE}`));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Options per subnet: router (none without a gateway), DNS servers, classless routes (121), the MTU (26). */
export function dnsmasqOpts(i: Pick<DnsmasqInput, 'subnets' | 'mtu'>): string {
  const lines: string[] = [];
  for (const d of dhcpSubnets(i.subnets)) {
    const s = d.subnet;
    const t = `tag:${d.tag}`;
    lines.push(s.gatewayIp ? `${t},option:router,${s.gatewayIp}` : `${t},option:router`);
    const dns = s.dnsNameservers.filter((a) => isIPv4(a));
    lines.push(dns.length ? `${t},option:dns-server,${dns.join(',')}` : `${t},option:dns-server`);
    const routes = s.hostRoutes.filter((r) => isIPv4(r.nexthop));
    if (routes.length) {
      // a client that gets option 121 ignores option 3 (RFC 3442): the default route goes in too, as Neutron does
      const all = [...routes.map((r) => `${r.destination},${r.nexthop}`), ...(s.gatewayIp ? [`0.0.0.0/0,${s.gatewayIp}`] : [])];
      lines.push(`${t},option:classless-static-route,${all.join(',')}`);
    }
    lines.push(`${t},option:mtu,${i.mtu}`);
  }
  for (const d of dhcpSubnets6(i.subnets)) {
    const dns = d.subnet.dnsNameservers.filter((a) => isIPv6(a));
    // empty: dnsmasq would otherwise offer itself (it serves no DNS here: port=0)
    lines.push(dns.length ? `tag:${d.tag},option6:dns-server,${dns.map((a) => `[${a}]`).join(',')}` : `tag:${d.tag},option6:dns-server`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
