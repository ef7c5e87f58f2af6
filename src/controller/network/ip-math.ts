/**
 * Address arithmetic for IPAM, IPv4 and IPv6 alike (BigInt): CIDRs, Neutron's default gateway and allocation
 * pools, membership, and the candidate addresses of a subnet's pools in order.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { randomBytes } from 'node:crypto';
import { canonicalIPv6 } from '../../common/ipv6.js';
import type { AllocationPool } from '../../store/index.js';

export interface Cidr { version: 4 | 6; base: bigint; prefix: number; bits: number; text: string; }

export function ipVersion(ip: string): 4 | 6 | null {
  return isIPv4(ip) ? 4 : isIPv6(ip) && !ip.includes('%') ? 6 : null;
}

export function toBig(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((n, o) => n * 256n + BigInt(o), 0n);
  const c = canonicalIPv6(ip);
  const [head = '', tail = ''] = c.includes('::') ? c.split('::') : [c, ''];
  const g = (s: string) => (s ? s.split(':').flatMap((x) => (x.includes('.') ? ((v) => [Number(v >> 16n), Number(v & 0xffffn)])(toBig(x)) : [parseInt(x, 16)])) : []);
  const h = g(head); const t = g(tail);
  const all = c.includes('::') ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  return all.reduce((n, x) => n * 65536n + BigInt(x), 0n);
}

export function fromBig(n: bigint, version: 4 | 6): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return canonicalIPv6(parts.join(':'));
}

/** the network of a CIDR (host bits cleared) or null when it is not one */
export function parseCidr(text: string): Cidr | null {
  const [ip, p] = text.split('/');
  const version = ip ? ipVersion(ip) : null;
  if (!version || p === undefined || !/^\d{1,3}$/.test(p)) return null;
  const bits = version === 4 ? 32 : 128;
  const prefix = Number(p);
  if (prefix > bits) return null;
  const size = 1n << BigInt(bits - prefix);
  const base = toBig(ip!) - (toBig(ip!) % size);
  return { version, base, prefix, bits, text: `${fromBig(base, version)}/${prefix}` };
}

const size = (c: Cidr) => 1n << BigInt(c.bits - c.prefix);

export function contains(c: Cidr, ip: string): boolean {
  if (ipVersion(ip) !== c.version) return false;
  const n = toBig(ip);
  return n >= c.base && n < c.base + size(c);
}

/** an address usable by a port: inside, and not the IPv4 network or broadcast address */
export function usable(c: Cidr, ip: string): boolean {
  if (!contains(c, ip)) return false;
  if (c.version === 6 || c.prefix >= 31) return true;
  const n = toBig(ip);
  return n !== c.base && n !== c.base + size(c) - 1n;
}

/** Neutron's default gateway: the first address after the network's */
export const defaultGateway = (c: Cidr) => fromBig(c.base + 1n, c.version);

/** Neutron's default pools: every usable address but the gateway (IPv6: the subnet-router anycast address excluded) */
export function defaultPools(c: Cidr, gateway: string | null): AllocationPool[] {
  const first = c.base + 1n;
  const last = c.base + size(c) - (c.version === 4 && c.prefix < 31 ? 2n : 1n);
  if (last < first) return [];
  const g = gateway ? toBig(gateway) : null;
  if (g === null || g < first || g > last) return [{ start: fromBig(first, c.version), end: fromBig(last, c.version) }];
  const out: AllocationPool[] = [];
  if (g > first) out.push({ start: fromBig(first, c.version), end: fromBig(g - 1n, c.version) });
  if (g < last) out.push({ start: fromBig(g + 1n, c.version), end: fromBig(last, c.version) });
  return out;
}

/** the pools' addresses in order (lazily: a /8 is not expanded) */
export function* poolAddresses(pools: AllocationPool[], version: 4 | 6): Generator<string> {
  for (const p of pools) for (let n = toBig(p.start); n <= toBig(p.end); n++) yield fromBig(n, version);
}

/** Neutron's default base MAC fa:16:3e:00:00:00 with the last three octets random */
export function randomMac(): string {
  return ['fa', '16', '3e', ...[...randomBytes(3)].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

export const isMac = (m: string) => /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(m);

/** the SLAAC (EUI-64) address a guest with `mac` takes in an IPv6 /64 */
export function eui64(c: Cidr, mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const iid = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!].reduce((n, x) => n * 256n + BigInt(x), 0n);
  return fromBig(c.base + iid, 6);
}

/**
 * The address each host's DHCP server takes on a DHCP-enabled subnet (the agent's rule, src/agent/network/ipv4.ts
 * and ipv6.ts: the last usable address, the one below it when that is the gateway; none under /29 for IPv4). Like
 * Neutron's DHCP port's, it is never given to a port. IPv6: also on a SLAAC subnet (the host sends its router
 * advertisements from there); never an EUI-64 address, so no SLAAC port can collide with it.
 */
export function dhcpServerAddress(s: { cidr: string; gatewayIp: string | null; enableDhcp: boolean; ipVersion: number; ipv6AddressMode?: string | null }): string | null {
  const c = parseCidr(s.cidr);
  if (!c || c.version !== s.ipVersion) return null;
  if (c.version === 6) {
    if ((!s.enableDhcp && s.ipv6AddressMode !== 'slaac') || c.prefix > 126) return null;
    let a = c.base + size(c) - 1n;
    if (s.gatewayIp !== null && ipVersion(s.gatewayIp) === 6 && toBig(s.gatewayIp) === a) a -= 1n;
    return fromBig(a, 6);
  }
  if (!s.enableDhcp || c.prefix > 29) return null;
  let a = c.base + size(c) - 2n;
  if (s.gatewayIp !== null && fromBig(a, 4) === s.gatewayIp) a -= 1n;
  return fromBig(a, 4);
}
