/**
 * The all-in-one's default network: a libvirt NAT network (Linux bridge + dnsmasq DHCP + masquerade), defined
 * persistent and autostarted so it survives a libvirtd restart. The controller hands out fixed IPs inside it and
 * the agent adds a DHCP host entry per NIC, so a guest gets the address the API shows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export interface NatNetwork { name: string; bridge: string; gateway: string; prefix: number; dhcpStart: string; dhcpEnd: string; }

export function natNetworkXml(n: NatNetwork): string {
  return `<network>
  <name>${n.name}</name>
  <forward mode='nat'/>
  <bridge name='${n.bridge}' stp='off' delay='0'/>
  <ip address='${n.gateway}' prefix='${n.prefix}'>
    <dhcp><range start='${n.dhcpStart}' end='${n.dhcpEnd}'/></dhcp>
  </ip>
</network>
`;
}

const virsh = (uri: string, ...args: string[]) => execa('virsh', ['-c', uri, ...args], { reject: false });

/** define (if missing), autostart and start (if inactive); idempotent */
export async function ensureNatNetwork(uri: string, n: NatNetwork): Promise<void> {
  const info = await virsh(uri, 'net-info', n.name);
  if (info.exitCode !== 0) {
    // virsh cannot read XML from /dev/stdin under execa: go through a file
    const dir = mkdtempSync(join(tmpdir(), 'novalet-net-'));
    try {
      writeFileSync(join(dir, 'net.xml'), natNetworkXml(n));
      const def = await virsh(uri, 'net-define', join(dir, 'net.xml'));
      if (def.exitCode !== 0) throw new Error(`virsh net-define ${n.name}: ${def.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await virsh(uri, 'net-autostart', n.name);
  const now = await virsh(uri, 'net-info', n.name);
  if (!/Active:\s+yes/.test(now.stdout)) {
    const st = await virsh(uri, 'net-start', n.name);
    if (st.exitCode !== 0) throw new Error(`virsh net-start ${n.name}: ${st.stderr}`);
  }
}
