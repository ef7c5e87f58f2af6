/** Host facts from libvirt for the agent's inventory. */
import type { LibvirtConnection } from '../libvirt/index.js';
import type { DomainType, HostInfo } from '../hypervisor.js';
import { findFirst, textOf } from '../domain-xml/xml.js';

const MiB = 1024 * 1024;

export async function readHostInfo(conn: LibvirtConnection, domainType: DomainType, caps: string): Promise<HostInfo> {
  const [hostname, node, free, hv, lib] = await Promise.all([
    conn.getHostname(), conn.getNodeInfo(), conn.getFreeMemory(), conn.getVersion(), conn.getLibVersion(),
  ]);
  const host = findFirst(caps, 'host')?.inner ?? '';
  const cpu = findFirst(host, 'cpu')?.inner ?? '';
  return {
    hostname,
    domainType,
    cpus: node.cpus,
    // the host CPU model libvirt derived (e.g. 'Skylake-Client-IBRS'); the node info only says 'x86_64'
    cpuModel: textOf(cpu, 'model') ?? node.model,
    memoryMiB: Math.floor(Number(node.memory) / 1024),
    freeMemoryMiB: Math.floor(Number(free) / MiB),
    hypervisorVersion: hv.text,
    libvirtVersion: lib.text,
    hostUuid: textOf(host, 'uuid') ?? '',
    arch: textOf(cpu, 'arch') ?? node.model,
  };
}
