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

/** a volume as the server row lists it (the attachment record itself is the volume store's) */
export interface AttachedVolume { volumeId: string; attachmentId: string; device: string; tag: string | null; deleteOnTermination: boolean }

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
  /** volumes attached (os-volume_attachments), in attach order; kept on the row so that the view follows it */
  volumesAttached?: AttachedVolume[];
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
  /** shelve (migration 12): the snapshot a shelved server is unshelved from, and when it was shelved (Nova's system metadata) */
  shelvedImageId?: string | null;
  shelvedAt?: string | null;
  /** the availability zone the create asked for (migration 15; Nova's request_spec): moves stay in it; null: any */
  requestedZone?: string | null;
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

/** One up/down change of a host as the host monitor saw it (migration 14). */
export interface HostTransition { id: number; host: string; state: 'up' | 'down'; reason: string | null; at: string; }

export interface FixedIp { networkId: string; address: string; serverId: string; mac: string; }

export interface HostUsage { instances: number; vcpus: number; memoryMb: number; diskGb: number; }

export interface QuotaLimits { [resource: string]: number; }

export interface QuotaUsage { instances: number; cores: number; ram: number; keyPairs: number; }

/** Resources a server holds on its host (Nova's placement allocation): what a claim adds to the host's usage. */
export interface Resources { vcpus: number; memoryMb: number; diskGb: number; }

/**
 * A persisted multi-step task (controller/tasks/): one row per running operation on a server. `step` is the index
 * of the step being (or about to be) run; it is written before the step acts, so a controller that takes the task
 * over re-drives exactly that step with the same request id. `owner` holds the task while `leaseUntil` (epoch ms)
 * is in the future; the owner renews its leases, so a task whose lease ran out has lost its owner.
 */
export interface TaskRow {
  id: string;
  serverId: string;
  kind: string;
  step: number;
  params: Record<string, unknown>;
  /** checkpoint data the steps saved (host chosen, allocated NICs, ...) */
  data: Record<string, unknown>;
  requestId: string;
  userId: string;
  projectId: string;
  actionId: number;
  eventId: number;
  owner: string;
  leaseUntil: number;
  /** a delete asked this task to stop before its next host call */
  cancelled: boolean;
  /** how many times a controller (re)started driving it */
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

export interface BeginTask {
  /** create: the server row is inserted in the same transaction */
  newServer?: NewServer;
  serverId: string;
  /** CAS condition on the existing server (ignored with newServer); the task is not created when it fails */
  expect?: ServerExpect;
  changes?: ServerChanges;
  action: { action: string; requestId: string; userId: string; projectId: string; message: string | null };
  /** an open action of the same request to continue instead of a new one (re-driving legacy tasks) */
  actionId?: number;
  event: string;
  eventHost: string | null;
  task: { id: string; kind: string; params: Record<string, unknown>; owner: string; leaseUntil: number };
}

export interface FinishTask {
  taskId: string;
  serverId: string;
  /** the server changes apply only while task_state is still this, or one of these (a delete or reset-state since wins) */
  expectTaskState: string | ReadonlyArray<string>;
  changes: ServerChanges;
  /** mark the server deleted (after the changes) and give back its claim and fixed IPs */
  deleteServer?: boolean;
  /** give back the server's claim on its host */
  releaseClaim?: boolean;
  eventId: number;
  actionId: number;
  result: 'Success' | 'Error';
  /** the event's traceback column: the error's code and message (never a stack) */
  detail: string | null;
  /** the action's message (Nova: 'Error' for a failed action) */
  message: string | null;
}

/** Nova's server group policies (affinity and anti-affinity; the soft ones from 2.15) */
export type ServerGroupPolicy = 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';

/** A server group (os-server-groups): members are placed by its policy. */
export interface ServerGroup {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  policy: ServerGroupPolicy;
  /** 2.64: { max_server_per_host } for anti-affinity */
  rules: { max_server_per_host?: number };
  createdAt: string;
}

/**
 * A host aggregate (os-aggregates, migration 15): a named set of hosts with metadata; the metadata key
 * `availability_zone` makes it an availability zone (a host is in at most one zone, the service checks).
 */
export interface Aggregate {
  id: number;
  uuid: string;
  name: string;
  metadata: Record<string, string>;
  /** host names, in the order they were added */
  hosts: string[];
  createdAt: string;
  updatedAt: string | null;
}

/** Placement rule a claim checks inside its transaction, so that racing members never break their group's policy. */
export interface GroupRule { groupId: string; policy: 'affinity' | 'anti-affinity'; maxPerHost: number; }

/** Nova's migration types: cold migration, resize, live migration, evacuation */
export type MigrationType = 'migration' | 'resize' | 'live-migration' | 'evacuation';

/**
 * A migration record (Nova's `migrations` table, migration 9): one per cold/live migration, resize or evacuation of
 * a server, with its hosts, flavors and status. While a cold migration or resize awaits confirm/revert, the
 * record's uuid is the consumer of the server's claim on the source host (store/sqlite/claims.ts claimMigration),
 * so the resources stay held on both hosts. The progress fields are the live migration monitor's (bytes).
 */
export interface Migration {
  /** Nova's integer id (the API's `id`, /servers/{id}/migrations/{id}) */
  id: number;
  uuid: string;
  serverId: string;
  sourceCompute: string | null;
  sourceNode: string | null;
  destCompute: string | null;
  destNode: string | null;
  /** the destination host's address (Nova's dest_host) */
  destHost: string | null;
  /** flavor ids before and after (Nova's old/new_instance_type_id) */
  oldFlavorId: string | null;
  newFlavorId: string | null;
  status: string;
  migrationType: MigrationType;
  projectId: string;
  userId: string;
  createdAt: string;
  updatedAt: string;
  memoryTotal: number | null;
  memoryProcessed: number | null;
  memoryRemaining: number | null;
  diskTotal: number | null;
  diskProcessed: number | null;
  diskRemaining: number | null;
}

export type NewMigration = Omit<Migration, 'id' | 'createdAt' | 'updatedAt' | 'memoryTotal' | 'memoryProcessed' | 'memoryRemaining' | 'diskTotal' | 'diskProcessed' | 'diskRemaining'>;

export type MigrationChanges = Partial<Pick<Migration, 'sourceCompute' | 'sourceNode' | 'destCompute' | 'destNode' | 'destHost' | 'status' |
  'memoryTotal' | 'memoryProcessed' | 'memoryRemaining' | 'diskTotal' | 'diskProcessed' | 'diskRemaining'>>;

/** GET /os-migrations filters (Nova's), newest first (created_at, id descending) */
export interface MigrationQuery {
  serverId?: string;
  /** source or destination compute */
  host?: string;
  sourceCompute?: string;
  statuses?: string[];
  migrationType?: MigrationType;
  userId?: string;
  projectId?: string;
  changesSince?: string;
  changesBefore?: string;
  /** updated strictly before (the automatic confirm's sweep) */
  updatedBefore?: string;
  /** the page starts after this migration (its uuid) */
  marker?: string;
  limit?: number;
}

/** A Neutron network (migration 10). `vni` is the VXLAN id of a tenant network, unique in the cloud. */
export interface Network {
  id: string;
  name: string;
  projectId: string;
  description: string;
  shared: boolean;
  adminStateUp: boolean;
  mtu: number;
  /** 'vxlan' (tenant), 'flat' (provider network on a host bridge) or 'local' (a seeded network of the config file) */
  networkType: 'vxlan' | 'flat' | 'local';
  physicalNetwork: string | null;
  vni: number | null;
  routerExternal: boolean;
  portSecurityEnabled: boolean;
  /** seeded config networks: the host bridge or libvirt network NICs plug into (today's attachments) */
  legacyBridge: string | null;
  legacyLibvirtNetwork: string | null;
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
  revision: number;
}

export interface AllocationPool { start: string; end: string; }
export interface HostRoute { destination: string; nexthop: string; }

export interface Subnet {
  id: string;
  networkId: string;
  projectId: string;
  name: string;
  description: string;
  cidr: string;
  ipVersion: 4 | 6;
  gatewayIp: string | null;
  enableDhcp: boolean;
  allocationPools: AllocationPool[];
  dnsNameservers: string[];
  hostRoutes: HostRoute[];
  ipv6AddressMode: string | null;
  ipv6RaMode: string | null;
  createdAt: string;
  updatedAt: string;
  revision: number;
}

export interface PortIp { subnetId: string; address: string; }

export interface Port {
  id: string;
  networkId: string;
  projectId: string;
  name: string;
  description: string;
  macAddress: string;
  fixedIps: PortIp[];
  deviceId: string;
  deviceOwner: string;
  hostId: string;
  adminStateUp: boolean;
  portSecurityEnabled: boolean;
  securityGroups: string[];
  /** created by compute for a server (deleted with it); a port the user passed in is only unbound */
  deleteWithDevice: boolean;
  createdAt: string;
  updatedAt: string;
  revision: number;
}

/** One address a new port asks for: a given address, or the first free one of `candidates` (the subnet's pools). */
export type IpRequest = { subnetId: string; address: string } | { subnetId: string; candidates: () => Iterable<string> };

/** Why a port's addresses or MAC could not be taken (the controller maps these to Neutron's errors). */
export type PortConflict =
  | { kind: 'ip_in_use'; subnetId: string; address: string }
  | { kind: 'exhausted'; subnetId: string }
  | { kind: 'mac_in_use'; mac: string }
  | { kind: 'port_in_use'; portId: string; deviceId: string }
  | { kind: 'not_found'; portId: string };

/** A port to create: its addresses are taken in the same transaction (`ips`). */
export interface NewPort extends Omit<Port, 'fixedIps' | 'revision'> { ips: IpRequest[]; }

/** Binding a port the user created to a server (compute), compare-and-swap on an empty device_id. */
export interface PortBind { portId: string; deviceId: string; deviceOwner: string; hostId: string; }

export interface SecurityGroup {
  id: string;
  projectId: string;
  name: string;
  description: string;
  stateful: boolean;
  createdAt: string;
  updatedAt: string;
  revision: number;
}

export interface SecurityGroupRule {
  id: string;
  securityGroupId: string;
  projectId: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  portRangeMin: number | null;
  portRangeMax: number | null;
  remoteIpPrefix: string | null;
  remoteGroupId: string | null;
  description: string;
  createdAt: string;
}
