/**
 * Fencing on the storage side, for evacuation: before a server's volumes are opened on another host, the dead
 * host's clients are cut off every backend those volumes live on (rbd: its address blocklisted), so the stale QEMU
 * can no longer write even if the host was only cut off the network, and the new host gets the exclusive lock at
 * once. When the host is back and its agent has destroyed the stale guests (host-monitor/fencing.ts), every
 * backend lets it on again. Hosts are named as the API names them; their addresses are the ones they report.
 */
import type { Store } from '../../store/index.js';
import type { VolumeService } from './service.js';

export class VolumeFencing {
  constructor(private readonly store: Store, private readonly volumes: VolumeService) {}

  private async addressOf(host: string): Promise<string> {
    const h = await this.store.getHost(host);
    if (!h?.hostIp) throw new Error(`host ${host} has no address to fence`);
    return h.hostIp;
  }

  /** fences `host` on the backends of the server's attached volumes; the names of those that did something */
  async fenceFor(serverId: string, host: string): Promise<string[]> {
    const backends = new Set<string>();
    for (const a of await this.store.listAttachments({ serverId })) {
      const v = await this.store.getVolume(a.volumeId);
      if (v) backends.add(v.backend);
    }
    if (backends.size === 0) return [];
    const address = await this.addressOf(host);
    const fenced: string[] = [];
    for (const name of [...backends].sort()) {
      if (await this.volumes.backendOf({ backend: name }).fence(address)) fenced.push(name);
    }
    return fenced;
  }

  /** lets `host` back on every backend (idempotent: a host that was never fenced costs one call per backend that fences) */
  async unfence(host: string): Promise<void> {
    const address = await this.addressOf(host);
    for (const b of this.volumes.backends.values()) await b.unfence(address);
  }
}
