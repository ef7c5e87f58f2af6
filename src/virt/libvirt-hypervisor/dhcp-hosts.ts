/**
 * DHCP host entries (`<ip><dhcp><host mac ip/>`) of libvirt networks, through `virsh net-update` (the
 * native binding has no network calls; a host update is rare, once per port, so ~50 ms of virsh is fine).
 * Updates go to the running network (dnsmasq's hosts file is rewritten and reloaded) and to its persistent
 * definition, each only where it exists (a transient network has no config, an inactive one no live state).
 * Calls on one network are serialised: each is a read-modify-write of the entry list.
 */
import { execCapture } from '../exec.js';
import { VirtError } from '../errors.js';
import type { DhcpHost } from '../hypervisor.js';
import { xmlEscape as e } from '../domain-xml/xml.js';

const chains = new Map<string, Promise<unknown>>();

function serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = chains.get(key) ?? Promise.resolve();
  const p = prev.catch(() => undefined).then(fn);
  const tail = p.catch(() => undefined);
  chains.set(key, tail);
  void tail.then(() => { if (chains.get(key) === tail) chains.delete(key); });
  return p;
}

async function virsh(uri: string, args: string[]): Promise<string> {
  const r = await execCapture('virsh', ['-q', '-c', uri, ...args], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) {
    const msg = r.stderr.trim() || r.stdout.trim() || (r.timedOut ? 'timed out' : 'failed');
    if (/failed to connect|Connection refused|No such file or directory.*sock/i.test(msg)) throw new VirtError('hypervisor_unavailable', `virsh ${args[0]}: ${msg}`);
    throw new VirtError('operation_failed', `virsh ${args.slice(0, 2).join(' ')}: ${msg}`);
  }
  return r.stdout;
}

/** Host entries of a network XML (every `<host>` with a MAC and an IPv4 address, in order). */
export function parseDhcpHosts(xml: string): DhcpHost[] {
  const out: DhcpHost[] = [];
  for (const m of xml.matchAll(/<host\b([^>]*?)\/?>/g)) {
    const attrs = m[1] ?? '';
    const mac = /\bmac=['"]([^'"]+)['"]/.exec(attrs)?.[1];
    const ip = /\bip=['"]([0-9.]+)['"]/.exec(attrs)?.[1];
    if (mac && ip) out.push({ mac: mac.toLowerCase(), ip });
  }
  return out;
}

const hostXml = (h: DhcpHost): string => `<host mac='${e(h.mac.toLowerCase())}' ip='${e(h.ip)}'/>`;

export class DhcpHostTable {
  constructor(private readonly uri: string) {}

  /** Entries of the running network, or of its definition when it is not running. */
  list(network: string): Promise<DhcpHost[]> {
    return serial(network, () => this.read(network));
  }

  set(network: string, host: DhcpHost): Promise<void> {
    return serial(network, async () => {
      const want = { mac: host.mac.toLowerCase(), ip: host.ip };
      for (const scope of await this.scopes(network)) {
        const hosts = await this.read(network, scope === '--config');
        if (hosts.some((h) => h.mac === want.mac && h.ip === want.ip)) continue;
        for (const h of hosts.filter((h) => h.mac === want.mac || h.ip === want.ip)) await this.update(network, 'delete', h, scope);
        await this.update(network, 'add-last', want, scope);
      }
    });
  }

  remove(network: string, host: DhcpHost): Promise<void> {
    return serial(network, async () => {
      const want = { mac: host.mac.toLowerCase(), ip: host.ip };
      let scopes: string[];
      try {
        scopes = await this.scopes(network);
      } catch (err) {
        // the network itself is gone: so is the entry
        if (err instanceof VirtError && /network not found|no network with matching/i.test(err.message)) return;
        throw err;
      }
      for (const scope of scopes) {
        const hosts = await this.read(network, scope === '--config');
        if (hosts.some((h) => h.mac === want.mac && h.ip === want.ip)) await this.update(network, 'delete', want, scope);
      }
    });
  }

  private async read(network: string, inactive = false): Promise<DhcpHost[]> {
    return parseDhcpHosts(await virsh(this.uri, ['net-dumpxml', ...(inactive ? ['--inactive'] : []), network]));
  }

  /** --live where the network runs, --config where it is persistent. */
  private async scopes(network: string): Promise<string[]> {
    const info = await virsh(this.uri, ['net-info', network]);
    const flag = (name: string): boolean => new RegExp(`^${name}:\\s+yes`, 'mi').test(info);
    const out: string[] = [];
    if (flag('Active')) out.push('--live');
    if (flag('Persistent')) out.push('--config');
    return out;
  }

  private async update(network: string, cmd: 'add-last' | 'delete', h: DhcpHost, scope: string): Promise<void> {
    await virsh(this.uri, ['net-update', network, cmd, 'ip-dhcp-host', hostXml(h), scope]);
  }
}
