import { statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import type { HostInfo } from '../../virt/hypervisor.js';
import { PROTOCOL } from '../../rpc/protocol/version.js';
import type { Inventory } from '../../rpc/protocol/inventory.js';
import type { AgentDeps } from '../ops/types.js';

type Si = typeof import('systeminformation');
let siModules: Pick<Si, 'cpu' | 'mem'> | undefined;

/**
 * The two systeminformation modules the heartbeat uses, loaded on the first heartbeat. Its index loads all 23
 * of them (~700 KB of source kept in the heap, ~3 MB of the agent's RSS) for nothing else.
 */
function si(): Pick<Si, 'cpu' | 'mem'> {
  if (!siModules) {
    const req = createRequire(import.meta.url);
    siModules = { cpu: (req('systeminformation/lib/cpu.js') as Si).cpu, mem: (req('systeminformation/lib/memory.js') as Si).mem };
  }
  return siModules;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * Host inventory = the heartbeat body: systeminformation (CPU, memory), statfs of the data dir, the
 * hypervisor's node info, and every server with power and task state. Built on demand; the controller
 * polls it (a missed answer is a missed beat), so the agent needs no controller address to keep working.
 */
export class InventoryService {
  private seq = 0;
  private hostInfoCache: { at: number; info: HostInfo } | undefined;
  private cpuCache: { cores: number; model: string } | undefined;

  constructor(private readonly deps: AgentDeps, private readonly state: { startedAt: string; drained: () => boolean; unknownDomains: () => number }) {}

  async collect(): Promise<Inventory> {
    const { hv, journal, paths } = this.deps;
    // node info changes rarely; a 30 s cache keeps heartbeats cheap
    if (!this.hostInfoCache || Date.now() - this.hostInfoCache.at > 30_000) this.hostInfoCache = { at: Date.now(), info: await hv.hostInfo() };
    const host = this.hostInfoCache.info;
    if (!this.cpuCache) {
      const cpu = await si().cpu();
      this.cpuCache = { cores: cpu.cores, model: `${cpu.manufacturer} ${cpu.brand}`.trim() };
    }
    const [mem, fs] = await Promise.all([si().mem(), statfs(paths.instances).catch(() => statfs('/'))]);
    return {
      protocol: PROTOCOL,
      hostname: host.hostname,
      hostUuid: host.hostUuid,
      seq: ++this.seq,
      startedAt: this.state.startedAt,
      time: new Date().toISOString(),
      drained: this.state.drained(),
      hypervisor: {
        domainType: host.domainType, hypervisorVersion: host.hypervisorVersion, libvirtVersion: host.libvirtVersion,
        cpus: host.cpus, cpuModel: host.cpuModel, memoryMiB: host.memoryMiB, freeMemoryMiB: host.freeMemoryMiB,
        ...(host.arch ? { arch: host.arch } : {}),
      },
      cpu: { cores: this.cpuCache.cores, model: this.cpuCache.model, load1: loadavg()[0] ?? 0 },
      memory: { totalMiB: Math.round(mem.total / MiB), availableMiB: Math.round(mem.available / MiB) },
      disk: { path: paths.instances, totalGiB: round2((fs.blocks * fs.bsize) / GiB), freeGiB: round2((fs.bavail * fs.bsize) / GiB) },
      servers: journal.listServers().map((s) => ({
        uuid: s.uuid, status: s.status, power: s.power, task: s.task, vcpus: s.spec.vcpus, memoryMiB: s.spec.memoryMiB,
      })),
      unknownDomains: this.state.unknownDomains(),
      ...(this.deps.networks.tunnelIp() ? { tunnelIp: this.deps.networks.tunnelIp()! } : {}),
    };
  }
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
