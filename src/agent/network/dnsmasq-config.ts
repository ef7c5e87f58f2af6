/**
 * One dnsmasq per tenant network per host, bound to the network's bridge, answering exactly the ports of this
 * host (static host entries, no dynamic range, `dhcp-ignore=tag:!known`): two hosts on one network never answer
 * each other's guests (and the tunnel guard drops DHCP between hosts anyway). No DNS (port=0), no lease file
 * (the hosts file is the truth), no /etc/hosts or resolv.conf. The hosts and options files are re-read on SIGHUP,
 * so a port coming or going never restarts the server.
 */
import { isIPv4 } from 'node:net';
import type { DhcpHost, SubnetSpec } from '../../rpc/protocol/networks.js';
import { contains, dhcpServerAddress, intToIp, netmask, parseCidr4 } from './ipv4.js';

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

const LEASE = '86400s';
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
  return `${lines.join('\n')}\n`;
}

/** `mac,ip[,hostname],lease` per served IPv4 address of this host's ports. */
export function dnsmasqHosts(i: Pick<DnsmasqInput, 'subnets' | 'dhcpHosts'>): string {
  const served = new Map(dhcpSubnets(i.subnets).map((d) => [d.subnet.id, d]));
  const lines: string[] = [];
  for (const h of i.dhcpHosts) {
    for (const ip of h.ips) {
      const d = served.get(ip.subnetId);
      if (!d || !isIPv4(ip.address)) continue;
      if (!contains(parseCidr4(d.subnet.cidr), ip.address)) throw new Error(`port ${h.portId}: ${ip.address} is not in subnet ${d.subnet.cidr}`);
      if (ip.address === d.server) throw new Error(`port ${h.portId}: ${ip.address} is the network's DHCP server address on every host`);
      const name = h.hostname && HOSTNAME.test(h.hostname) ? `,${h.hostname}` : '';
      lines.push(`${h.mac.toLowerCase()},${ip.address}${name},${LEASE}`);
    }
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
  return lines.length ? `${lines.join('\n')}\n` : '';
}
