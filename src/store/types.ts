/**
 * Records the store keeps. Plain data: no behaviour, no SQL. Timestamps are ISO-8601 strings produced by
 * `new Date().toISOString()` so that they sort lexicographically in every backend.
 */

export interface Domain { id: string; name: string; enabled: boolean; }

export interface Project { id: string; name: string; domainId: string; enabled: boolean; description: string; }

export interface User {
  id: string;
  name: string;
  domainId: string;
  /** `scrypt$N$r$p$salt$hash` (see controller/identity/passwords.ts); never leaves the controller */
  passwordHash: string;
  enabled: boolean;
  defaultProjectId: string | null;
  /** tokens issued before this instant are invalid (set when the user is disabled or the password changes) */
  tokensValidAfter: string;
}

export interface Role { id: string; name: string; }

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  rxtxFactor: number;
  isPublic: boolean;
  description: string | null;
  disabled: boolean;
  extraSpecs: Record<string, string>;
  createdAt: string;
}

export interface Keypair {
  userId: string;
  name: string;
  type: 'ssh' | 'x509';
  publicKey: string;
  fingerprint: string;
  createdAt: string;
}

export interface Image {
  id: string;
  name: string | null;
  status: 'queued' | 'saving' | 'active' | 'killed' | 'deleted' | 'deactivated' | 'uploading' | 'importing';
  visibility: 'public' | 'private' | 'shared' | 'community';
  owner: string | null;
  diskFormat: string | null;
  containerFormat: string | null;
  size: number | null;
  checksum: string | null;
  osHashAlgo: string | null;
  osHashValue: string | null;
  minDisk: number;
  minRam: number;
  protected: boolean;
  /** free-form properties (kernel_id, ramdisk_id, os_distro, ...) */
  properties: Record<string, string>;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

/** A flavor as the server recorded it at create/resize time (Nova's instance.flavor). */
export interface FlavorSnapshot {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  extraSpecs: Record<string, string>;
}

export interface RequestedNetwork { uuid: string; name: string; port?: string | null; fixed_ip?: string; tag?: string; }

export interface ServerAddress { network: string; addr: string; version: 4 | 6; mac: string; type: 'fixed' | 'floating'; }

export interface Server {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  imageRef: string;
  flavor: FlavorSnapshot;
  /** the flavor a resize came from, kept until confirm/revert */
  oldFlavor: FlavorSnapshot | null;
  vmState: string;
  taskState: string | null;
  powerState: number;
  /** derived from vm_state + task_state on every write (store/status.ts) so that list filters are plain SQL */
  status: string;
  host: string | null;
  node: string | null;
  availabilityZone: string | null;
  keyName: string | null;
  keyData: string | null;
  userData: string | null;
  accessIPv4: string;
  accessIPv6: string;
  configDrive: string;
  diskConfig: 'AUTO' | 'MANUAL';
  description: string | null;
  locked: boolean;
  lockedReason: string | null;
  /** 'owner' or 'admin' (Nova's instance.locked_by) */
  lockedBy: string | null;
  reservationId: string;
  launchIndex: number;
  hostname: string;
  kernelId: string;
  ramdiskId: string;
  rootDeviceName: string | null;
  progress: number;
  addresses: ServerAddress[];
  /** the networks requested at create, resolved: [] for 'none', else {uuid, name, port?, fixed_ip?} per NIC */
  requestedNetworks: RequestedNetwork[] | null;
  securityGroups: string[];
  blockDeviceMapping: unknown[];
  metadata: Record<string, string>;
  tags: string[];
  fault: { code: number; message: string; details?: string; created: string } | null;
  createdAt: string;
  updatedAt: string;
  launchedAt: string | null;
  terminatedAt: string | null;
  /** set when soft-deleted (recycle bin) or deleted */
  deletedAt: string | null;
  /** hard-deleted rows are kept (Nova's deleted=1) so that `deleted=true` and changes-since see them */
  deleted: boolean;
  /** incremented by every write to the server (its row, metadata or tags): equal revisions, equal server */
  revision: number;
}

export interface ServerRevision { id: string; revision: number }

export type NewServer = Omit<Server, 'status' | 'updatedAt' | 'deleted' | 'deletedAt' | 'terminatedAt' | 'revision'>;

/** Fields an update may change (not id, project or user). */
export type ServerChanges = Partial<Omit<Server, 'id' | 'projectId' | 'userId' | 'status' | 'createdAt' | 'metadata' | 'tags' | 'revision'>>;

export interface ServerExpect {
  /** required task_state (null = no task running); omitted = any */
  taskState?: string | null | ReadonlyArray<string | null>;
  /** task_states that must NOT be current (e.g. delete refuses only while already deleting) */
  taskStateNot?: ReadonlyArray<string>;
  /** allowed vm_states; omitted = any */
  vmState?: ReadonlyArray<string>;
  /** required lock state; omitted = any */
  locked?: boolean;
}

export type SortDir = 'asc' | 'desc';
export type ServerSortKey =
  | 'created_at' | 'updated_at' | 'display_name' | 'uuid' | 'vm_state' | 'task_state' | 'power_state'
  | 'host' | 'launched_at' | 'terminated_at' | 'availability_zone' | 'key_name' | 'project_id' | 'user_id'
  | 'image_ref' | 'flavor_id' | 'display_description' | 'hostname' | 'locked' | 'progress';

export interface ServerQuery {
  projectId?: string;
  userId?: string;
  /** JavaScript regular expression (Nova uses Python's re.search) */
  nameRegex?: string;
  statuses?: string[];
  vmStates?: string[];
  imageRef?: string;
  flavorId?: string;
  host?: string;
  node?: string;
  reservationId?: string;
  /** regex over IPv4 addresses / IPv6 addresses */
  ipRegex?: string;
  ip6Regex?: string;
  changesSince?: string;
  changesBefore?: string;
  /** 'exclude' (default), 'include' (changes-since) or 'only' (deleted=true) */
  deleted?: 'exclude' | 'include' | 'only';
  locked?: boolean;
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
  availabilityZone?: string;
  keyName?: string;
  /** only these servers */
  ids?: string[];
  /** only servers with a task in progress (controller restart recovery) */
  withTask?: boolean;
  sort?: Array<{ key: ServerSortKey; dir: SortDir }>;
  limit?: number;
  /** id of the last server of the previous page */
  marker?: string;
  /**
   * Only the fields the API's server views show (a list page of 1,000 reads ~15 % less): keyData,
   * requestedNetworks and oldFlavor come back null. For listings that are shown, never for work on the servers.
   */
  viewFieldsOnly?: boolean;
}

export interface InstanceAction {
  id: number;
  serverId: string;
  action: string;
  requestId: string;
  userId: string;
  projectId: string;
  startTime: string;
  finishTime: string | null;
  message: string | null;
  updatedAt: string;
}

export interface InstanceActionEvent {
  id: number;
  actionId: number;
  event: string;
  startTime: string;
  finishTime: string | null;
  result: string | null;
  traceback: string | null;
  host: string | null;
}

/** A hypervisor host (Nova's compute service + hypervisor, one per agent). */
export interface Host {
  name: string;
  serviceId: string;
  hypervisorId: string;
  disabled: boolean;
  disabledReason: string | null;
  forcedDown: boolean;
  /** last heartbeat; null = never reported */
  lastSeenAt: string | null;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  hypervisorType: string;
  hypervisorVersion: number;
  hostIp: string;
  createdAt: string;
  updatedAt: string;
}

export interface FixedIp { networkId: string; address: string; serverId: string; mac: string; }

export interface HostUsage { instances: number; vcpus: number; memoryMb: number; diskGb: number; }

export interface QuotaLimits { [resource: string]: number; }

export interface QuotaUsage { instances: number; cores: number; ram: number; keyPairs: number; }
