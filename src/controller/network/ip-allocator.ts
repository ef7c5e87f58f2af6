/**
 * Fixed IPs for the configured networks (until the networking issue brings Neutron-like ports): the controller
 * picks a MAC and an address per NIC when a server is scheduled, the store makes the choice atomic, and the agent
 * turns the pair into a DHCP host entry on its host, so the guest gets exactly the address the API shows.
 */
import { randomBytes } from 'node:crypto';
import type { Store, ServerAddress, RequestedNetwork } from '../../store/index.js';
import type { NetworkDef } from '../config.js';
import { badRequest, conflict } from '../errors.js';

/** Neutron's default base MAC fa:16:3e:00:00:00 with the last three octets random */
export function randomMac(): string {
  return ['fa', '16', '3e', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** usable host addresses of an IPv4 CIDR, without network, broadcast and gateway addresses */
export function* hostAddresses(cidr: string, gateway: string): Generator<string> {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!base || !Number.isInteger(bits) || bits < 8 || bits > 30) throw new Error(`unsupported CIDR ${cidr}`);
  const size = 2 ** (32 - bits);
  const first = toInt(base) - (toInt(base) % size);
  for (let n = first + 1; n < first + size - 1; n++) {
    const ip = toIp(n);
    if (ip !== gateway) yield ip;
  }
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const size = 2 ** (32 - Number(bitsText));
  const first = toInt(base!) - (toInt(base!) % size);
  const n = toInt(ip);
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && n > first && n < first + size - 1;
}

export interface AllocatedNic { network: NetworkDef; mac: string; address: string; }

export class IpAllocator {
  constructor(private readonly store: Store, private readonly networks: NetworkDef[]) {}

  /**
   * One NIC per requested network; idempotent per server (a re-driven spawn gets the same MACs and addresses).
   * A requested fixed_ip must be inside the subnet and free.
   */
  async allocate(serverId: string, requested: RequestedNetwork[]): Promise<AllocatedNic[]> {
    const held = await this.store.listFixedIps(serverId);
    const out: AllocatedNic[] = [];
    for (const [i, r] of requested.entries()) {
      const network = this.networks.find((n) => n.id === r.uuid);
      if (!network) throw badRequest(`Network ${r.uuid} could not be found.`);
      const mine = held.filter((h) => h.networkId === network.id)[requested.slice(0, i).filter((x) => x.uuid === r.uuid).length];
      const mac = mine?.mac ?? randomMac();
      let candidates: Iterable<string> = hostAddresses(network.cidr, network.gateway);
      if (r.fixed_ip) {
        if (!inCidr(r.fixed_ip, network.cidr)) throw badRequest(`Fixed IP address ${r.fixed_ip} is not valid on network ${network.id}.`);
        candidates = [r.fixed_ip];
      }
      const address = await this.store.allocateFixedIp(network.id, serverId, mac, candidates);
      if (!address) {
        throw r.fixed_ip
          ? badRequest(`Fixed IP address ${r.fixed_ip} is already in use on instance.`)
          : conflict(`No more IP addresses available on network ${network.id}.`);
      }
      out.push({ network, mac, address });
    }
    return out;
  }

  release(serverId: string): Promise<number> { return this.store.releaseFixedIps(serverId); }

  static addresses(nics: AllocatedNic[]): ServerAddress[] {
    return nics.map((n) => ({ network: n.network.name, addr: n.address, version: 4, mac: n.mac, type: 'fixed' }));
  }
}
