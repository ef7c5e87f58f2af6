/**
 * The hypervisor interface: everything the agent may ask of a host's hypervisor. Only the agent uses it.
 * Implementations: LibvirtHypervisor (src/virt/libvirt-hypervisor/, the real one, through the native
 * binding) and FakeHypervisor (src/virt/fake/, in-memory, for fast unit tests only).
 *
 * Servers are identified by their UUID everywhere (the libvirt domain UUID is the server id); domain names
 * are derived (`novalet-<uuid>`) so that an operator's own domains are never mistaken for servers.
 * Every method is idempotent where the underlying operation can be (define twice = redefine, destroy of a
 * stopped domain = no-op) because the agent re-drives interrupted operations after a crash.
 * Failures are VirtError (src/virt/errors.ts) with a stable `code`: 'domain_not_found', 'invalid_state'
 * (e.g. pause of a shut-off domain), 'hypervisor_unavailable', 'operation_failed', 'timeout'.
 * The full table of no-ops and invalid states is in src/virt/README.md.
 */

import type { MigrateRequest, MigrationStats } from './migration.js';

export type { MigrateRequest, MigrationStats } from './migration.js';

export type DomainType = 'kvm' | 'qemu';

/** Power states as Nova reports them (nova.compute.power_state), derived from libvirt's domain state. */
export type PowerState = 'nostate' | 'running' | 'paused' | 'shutdown' | 'crashed' | 'suspended';

export interface DiskSpec {
  /** guest target, e.g. 'vda' */
  target: string;
  /** absolute path of the image file or block device */
  path: string;
  format: 'qcow2' | 'raw';
  /** what the disk is for; the agent uses it to clean up and to snapshot the right disk */
  role: 'root' | 'ephemeral' | 'swap' | 'config' | 'volume';
  bus?: 'virtio' | 'sata' | 'ide';
  device?: 'disk' | 'cdrom';
  readonly?: boolean;
  /** block device (e.g. a shared LUN) instead of a file; `network`: QEMU opens it itself (rbd: `path` is pool/image) */
  sourceType?: 'file' | 'block' | 'network';
  /** network disks: the Ceph monitors and the cephx user whose key is the libvirt secret `secretUuid` */
  rbd?: RbdDiskSource;
  /** volume id for role 'volume' */
  volumeId?: string;
  /** libvirt's cache mode (a file disk without one gets the hypervisor's default); block devices always get 'none' */
  cache?: DiskCache;
}

export type DiskCache = 'none' | 'writeback' | 'writethrough' | 'directsync' | 'unsafe';
export interface RbdDiskSource {
  /** monitor addresses */
  hosts: Array<{ name: string; port?: number }>;
  /** cephx user without `client.` */
  user: string;
  /** the libvirt secret (usage type ceph) holding the user's key */
  secretUuid: string;
}

/** a libvirt secret of usage type ceph: the cephx key QEMU authenticates rbd disks with */
export interface CephSecret { uuid: string; user: string; /** base64, as in a keyring */ key: string }

export interface NicSpec {
  /** port id (Neutron port); also used as the libvirt device alias 'ua-<portId>' */
  portId: string;
  mac: string;
  /** how the NIC attaches on this host */
  attachment: { type: 'network'; network: string } | { type: 'bridge'; bridge: string } | { type: 'ethernet'; tap: string };
  model?: 'virtio' | 'e1000';
  /** bridge attachment: the tap's name (`<target dev>`), so the host can filter the port by name */
  tap?: string;
  /** the guest NIC's MTU (`<mtu size>`), e.g. 1450 on a VXLAN network */
  mtu?: number;
}

export type BootSpec =
  | { kind: 'disk' }
  /** AMI-style: kernel + ramdisk booted directly, root disk beside it (Nova's libvirt driver does the same) */
  | { kind: 'kernel'; kernel: string; ramdisk?: string; cmdline: string };

/** What the agent asks to be defined for a server. */
export interface DomainSpec {
  uuid: string;
  /** display name of the server (stored in the domain metadata, not the libvirt name) */
  displayName: string;
  vcpus: number;
  /** `<vcpu current>` headroom: maximum vCPUs hot-pluggable later (>= vcpus) */
  maxVcpus: number;
  memoryMiB: number;
  domainType: DomainType;
  boot: BootSpec;
  disks: DiskSpec[];
  nics: NicSpec[];
  /** file the serial console is logged to */
  consoleLog: string;
  /** novalet metadata kept in the domain XML (flavor, project, request id ...) */
  metadata: Record<string, string>;
}

export interface DomainStatus {
  uuid: string;
  /** libvirt domain name */
  name: string;
  power: PowerState;
  /** libvirt's state and reason names, e.g. 'shutoff' / 'saved' (for logs and `novalet ctl`) */
  libvirtState: string;
  libvirtReason: string;
  /** a managed-save image exists (Nova's SUSPENDED) */
  managedSave: boolean;
  /** defined by novalet (its domain name and metadata say so) */
  managed: boolean;
}

export interface HostInfo {
  hostname: string;
  domainType: DomainType;
  cpus: number;
  cpuModel: string;
  memoryMiB: number;
  freeMemoryMiB: number;
  hypervisorVersion: string;
  libvirtVersion: string;
  /** libvirt host UUID (stable per host) */
  hostUuid: string;
  /** the host CPU's architecture as libvirt names it (x86_64, aarch64, ...): what guests run here natively */
  arch?: string;
}

export type HypervisorEvent =
  | { type: 'power'; uuid: string; power: PowerState; libvirtEvent: string; detail: string }
  | { type: 'deviceRemoved'; uuid: string; alias: string }
  | { type: 'blockJob'; uuid: string; disk: string; status: string }
  /** a job of the domain ended (libvirt's JOB_COMPLETED, on both sides of a migration): its final numbers */
  | { type: 'jobCompleted'; uuid: string; stats: MigrationStats }
  | { type: 'connectionLost'; reason: string }
  /** A new connection replaced a lost one: events in between were missed, so re-read the power states. */
  | { type: 'connectionRestored' };

/** A DHCP host entry of a host network: the guest NIC with this MAC gets this IPv4 address. */
export interface DhcpHost {
  mac: string;
  ip: string;
}

export interface DiskSnapshotResult {
  /** overlay files created by the external disk-only snapshot, by disk target */
  overlays: Record<string, string>;
}

export interface Hypervisor {
  hostInfo(): Promise<HostInfo>;
  // --- live migration (src/virt/migration.ts) ---
  /**
   * Peer-to-peer live migration with Nova's flags (LIVE | PEER2PEER | PERSIST_DEST | UNDEFINE_SOURCE, plus
   * NON_SHARED_INC for block migration, AUTO_CONVERGE, POSTCOPY as asked). Resolves when the guest runs on the
   * destination (a paused guest arrives paused) and its source definition is gone; VirtError 'aborted' when
   * the job was aborted (the guest keeps running here). Blocks for the whole migration (its own thread).
   */
  migrate(uuid: string, req: MigrateRequest): Promise<void>;
  /** The running migration job's numbers; `active: false` when no job runs. */
  migrationStats(uuid: string): Promise<MigrationStats>;
  /** Max downtime QEMU may take for the switch-over (ms). */
  setMigrationMaxDowntime(uuid: string, ms: number): Promise<void>;
  /** Switches a migration started with `postCopy` to post-copy. */
  startPostCopy(uuid: string): Promise<void>;
  /** Aborts the running job (the migration call then rejects with 'aborted'); invalid_state when none runs. */
  abortJob(uuid: string): Promise<void>;
  /** All domains on the host, managed or not. */
  listDomains(): Promise<DomainStatus[]>;
  /** null if no such domain. */
  getDomain(uuid: string): Promise<DomainStatus | null>;
  /** Current (live if running) XML, for `novalet ctl show` and resize revert. */
  getDomainXml(uuid: string, inactive?: boolean): Promise<string>;
  /** Defines (or redefines) the persistent domain. */
  define(spec: DomainSpec): Promise<void>;
  /** Defines from raw XML (resize revert restores the saved definition). */
  defineXml(xml: string): Promise<void>;
  /** Removes the definition, managed-save image and snapshot metadata; files are the caller's. */
  undefine(uuid: string): Promise<void>;
  /** Starts (restores from a managed-save image if there is one). */
  start(uuid: string): Promise<void>;
  /** Sends the ACPI power button; resolves once sent (the guest may ignore it). */
  shutdown(uuid: string): Promise<void>;
  /** Hard power-off; no-op if not running. */
  destroy(uuid: string): Promise<void>;
  /** Soft reboot (ACPI) or hard reset. */
  reboot(uuid: string, hard: boolean): Promise<void>;
  pause(uuid: string): Promise<void>;
  unpause(uuid: string): Promise<void>;
  /** Nova's suspend: managed save. */
  managedSave(uuid: string): Promise<void>;
  /** Live (if running) and persistent. */
  attachDisk(uuid: string, disk: DiskSpec): Promise<void>;
  /** defines (or redefines) a ceph secret with its key; absent where the hypervisor has no secrets (fakes) */
  setCephSecret?(secret: CephSecret): Promise<void>;
  detachDisk(uuid: string, target: string): Promise<void>;
  attachNic(uuid: string, nic: NicSpec): Promise<void>;
  detachNic(uuid: string, portId: string): Promise<void>;
  /** Disk-only external snapshot of every writable disk (running, paused or stopped). */
  snapshotDisks(uuid: string, name: string): Promise<DiskSnapshotResult>;
  /** Merges an overlay back into its base (active block commit with pivot when running). */
  commitDisk(uuid: string, target: string): Promise<void>;
  /** DHCP host entries of a host network (libvirt network name); MACs in lower case. */
  listDhcpHosts(network: string): Promise<DhcpHost[]>;
  /**
   * Makes mac -> ip an entry of the network, live and persistent: an identical entry is a no-op, entries
   * with the same MAC or the same IP (another pair) are replaced.
   */
  setDhcpHost(network: string, host: DhcpHost): Promise<void>;
  /** Removes exactly this mac -> ip entry; no-op when absent (or the network is gone). */
  removeDhcpHost(network: string, host: DhcpHost): Promise<void>;
  /** Subscribe to events; returns the unsubscribe function. */
  onEvent(listener: (event: HypervisorEvent) => void): () => void;
  close(): Promise<void>;
}

/** libvirt domain name of a server. */
export function domainNameFor(uuid: string): string {
  return `novalet-${uuid}`;
}
