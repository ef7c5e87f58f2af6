/**
 * IPv6 arithmetic for tenant subnets on the host: CIDR parsing, the address each host's DHCPv6/RA server takes
 * on the bridge, and a port's link-local address (the only one besides its fixed IPs it may send from).
 */
import { isIPv6 } from 'node:net';
import { canonicalIPv6 } from '../../common/ipv6.js';

export interface Cidr6 {
  network: bigint;
  prefix: number;
}

export function ip6ToBig(ip: string): bigint {
  const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const groups = (s: string): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = ip.includes('::') ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  return all.reduce((n, x) => n * 65536n + BigInt(x), 0n);
}

export function bigToIp6(n: bigint): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return canonicalIPv6(parts.join(':'));
}

export function parseCidr6(cidr: string): Cidr6 {
  const [addr, len] = cidr.split('/');
  const prefix = Number(len);
  // no dotted IPv4 tail: tenant prefixes are plain hex
  if (!addr || !isIPv6(addr) || addr.includes('.') || addr.includes('%') || len === undefined || !/^\d{1,3}$/.test(len) || prefix > 128) {
    throw new Error(`not an IPv6 CIDR: ${cidr}`);
  }
  const size = 1n << BigInt(128 - prefix);
  return { network: ip6ToBig(addr) - (ip6ToBig(addr) % size), prefix };
}

export const contains6 = (c: Cidr6, ip: string): boolean => {
  if (!isIPv6(ip) || ip.includes('.') || ip.includes('%')) return false;
  const n = ip6ToBig(ip);
  return n >= c.network && n < c.network + (1n << BigInt(128 - c.prefix));
};

/**
 * The address the host's DHCPv6 server and router advertisements take on the network's bridge (dnsmasq serves a
 * prefix only on an interface with an address in it): the last address of the subnet, the one below when that is
 * the gateway. Never an EUI-64 (SLAAC) address (those have ff:fe in the middle of the interface id); the
 * controller keeps it out of the allocation pools (src/controller/network/ip-math.ts dhcpServerAddress).
 */
export function dhcpServerAddress6(cidr: string, gatewayIp: string | null): string {
  const c = parseCidr6(cidr);
  if (c.prefix > 126) throw new Error(`subnet ${cidr} is too small for a DHCP server address (at most /126)`);
  let a = c.network + (1n << BigInt(128 - c.prefix)) - 1n;
  if (gatewayIp !== null && isIPv6(gatewayIp) && ip6ToBig(gatewayIp) === a) a -= 1n;
  return bigToIp6(a);
}

/** The modified EUI-64 interface id of a MAC (RFC 4291 appendix A) on a /64 network. */
export function eui64Address(network: bigint, mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  if (b.length !== 6 || b.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad MAC ${mac}`);
  const iid = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!].reduce((n, x) => n * 256n + BigInt(x), 0n);
  return bigToIp6(network + iid);
}

/** The link-local address a guest's kernel forms from its MAC (fe80::/64 + EUI-64). */
export const linkLocal = (mac: string): string => eui64Address(0xfe80n << 112n, mac);
