/**
 * What a host needs to build a server (the agent's ServerSpec): flavor sizes, the image (and, for AMI-style
 * images, kernel and ramdisk) as the host reads them, the NICs with their addresses, and what goes on the config
 * drive.
 */
import type { Server, Store } from '../../store/index.js';
import type { ImageRef, NicSpec, ServerSpec } from '../../rpc/protocol/server-spec.js';
import type { HostTransport } from '../hosts/transport.js';
import type { VolumeDisks } from '../volumes/boot-volumes.js';

/** the volumes a server's host definition carries (volumes/boot-volumes.ts); absent: none */
export type VolumeDisksOf = (serverId: string) => Promise<VolumeDisks>;

export class SpecBuilder {
  constructor(private readonly store: Store, private readonly hosts: HostTransport, private readonly volumeDisks?: VolumeDisksOf) {}

  async imageRef(host: string, imageId: string): Promise<ImageRef> {
    const img = await this.store.getImage(imageId);
    if (!img || img.status !== 'active') throw new Error(`Image ${imageId} is not active.`);
    return { id: img.id, format: img.diskFormat === 'raw' ? 'raw' : 'qcow2', source: this.hosts.imageSource(host, img.id) };
  }

  /**
   * AMI-style images (kernel_id / ramdisk_id properties) boot their kernel and ramdisk directly, with the image's
   * os_command_line (Nova's libvirt driver does the same, with the same default). The agent caches kernel and
   * ramdisk like base images, so this works for agents on any host.
   */
  private async kernelBoot(s: Server, host: string, imageId: string): Promise<ServerSpec['boot']> {
    if (!s.kernelId) return undefined;
    const img = imageId ? await this.store.getImage(imageId) : null;
    const ref = async (id: string) => { const r = await this.imageRef(host, id); return { id: r.id, source: r.source }; };
    return {
      kind: 'kernel', kernel: await ref(s.kernelId),
      ...(s.ramdiskId ? { ramdisk: await ref(s.ramdiskId) } : {}),
      cmdline: img?.properties.os_command_line ?? 'root=/dev/vda console=tty0 console=ttyS0 console=hvc0',
    };
  }

  /** `nics`: the server's ports as NICs (network/server-ports.ts), in order */
  async spec(s: Server, host: string, nics: NicSpec[]): Promise<ServerSpec> {
    const f = s.flavor;
    const vols = this.volumeDisks ? await this.volumeDisks(s.id) : { disks: [] };
    // booted from a volume: the host boots that (or, AMI-style, the kernel of the volume's image), and needs no image
    const boot = await this.kernelBoot(s, host, vols.rootVolume ? (vols.rootImageId ?? '') : s.imageRef);
    return {
      ...(boot ? { boot } : {}),
      uuid: s.id, displayName: s.name, vcpus: f.vcpus, memoryMiB: f.ram, rootGiB: f.disk,
      ...(f.ephemeral > 0 ? { ephemeralGiB: f.ephemeral } : {}),
      ...(f.swap > 0 ? { swapMiB: f.swap } : {}),
      ...(vols.rootVolume ? { rootVolume: vols.rootVolume } : { image: await this.imageRef(host, s.imageRef) }),
      ...(vols.disks.length ? { disks: vols.disks } : {}),
      nics,
      metadata: s.metadata,
      hostname: s.hostname, projectId: s.projectId,
      ...(s.availabilityZone ? { availabilityZone: s.availabilityZone } : {}),
      ...(s.userData ? { userData: s.userData } : {}),
      ...(s.keyName && s.keyData ? { keyName: s.keyName, keyData: s.keyData } : {}),
      // there is no metadata service: user data and keys reach the guest only on a config drive (Nova with
      // force_config_drive), so one is built whenever there is something to deliver or the user asked for it
      configDrive: s.configDrive === 'True' || !!s.userData || !!s.keyData,
    };
  }
}
