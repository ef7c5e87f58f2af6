/** IPv4 arithmetic for subnets (CIDR parsing, netmask, the DHCP server address). */
import { isIPv4 } from 'node:net';

export interface Cidr4 {
  network: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseCidr4(cidr: string): Cidr4 {
  const [addr, len] = cidr.split('/');
  const prefix = Number(len);
  if (!addr || !isIPv4(addr) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32 || len === undefined || len === '') {
    throw new Error(`not an IPv4 CIDR: ${cidr}`);
  }
  const size = 2 ** (32 - prefix);
  return { network: Math.floor(ipToInt(addr) / size) * size, prefix };
}

export const netmask = (c: Cidr4): string => intToIp(2 ** 32 - 2 ** (32 - c.prefix));
export const broadcast = (c: Cidr4): number => c.network + 2 ** (32 - c.prefix) - 1;
export const contains = (c: Cidr4, ip: string): boolean => isIPv4(ip) && ipToInt(ip) >= c.network && ipToInt(ip) <= broadcast(c);

/**
 * The address the host's DHCP server takes on the network's bridge: the last usable address of the subnet (the
 * one below the gateway when the gateway is that address). Every host uses the same one; the tunnel guard keeps
 * ARP and IP of it from crossing between hosts, so each host's guests reach their own host's server. The
 * controller must keep it out of the allocation pools.
 */
export function dhcpServerAddress(cidr: string, gatewayIp: string | null): string {
  const c = parseCidr4(cidr);
  if (c.prefix > 29) throw new Error(`subnet ${cidr} is too small for a DHCP server address (at most /29)`);
  let a = broadcast(c) - 1;
  if (gatewayIp !== null && intToIp(a) === gatewayIp) a -= 1;
  return intToIp(a);
}
