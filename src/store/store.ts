/**
 * The one store interface. Every method is async so that a PostgreSQL implementation (network round trips) can
 * satisfy it later; the SQLite implementation answers synchronously underneath. Only src/store/ talks SQL.
 */
import type {
  Domain, FixedIp, Flavor, Host, HostUsage, Image, InstanceAction, InstanceActionEvent, Keypair, NewServer, Project, QuotaLimits, QuotaUsage,
  Role, Server, ServerChanges, ServerExpect, ServerQuery, ServerRevision, User, BeginTask, FinishTask, TaskRow, Resources,
} from './types.js';

export interface Store {
  close(): Promise<void>;

  // settings (e.g. the token signing secret, so tokens survive a controller restart)
  getSetting(key: string): Promise<string | null>;
  setSettingIfAbsent(key: string, value: string): Promise<string>;

  // identity
  createDomain(d: Domain): Promise<void>;
  getDomain(id: string): Promise<Domain | null>;
  getDomainByName(name: string): Promise<Domain | null>;
  createProject(p: Project): Promise<void>;
  getProject(id: string): Promise<Project | null>;
  getProjectByName(domainId: string, name: string): Promise<Project | null>;
  listProjects(): Promise<Project[]>;
  createUser(u: User): Promise<void>;
  getUser(id: string): Promise<User | null>;
  getUserByName(domainId: string, name: string): Promise<User | null>;
  updateUser(id: string, changes: Partial<Omit<User, 'id'>>): Promise<void>;
  listUsers(): Promise<User[]>;
  createRole(r: Role): Promise<void>;
  getRoleByName(name: string): Promise<Role | null>;
  listRoles(): Promise<Role[]>;
  assignRole(userId: string, projectId: string, roleId: string): Promise<void>;
  unassignRole(userId: string, projectId: string, roleId: string): Promise<void>;
  /** roles the user holds on the project */
  listUserProjectRoles(userId: string, projectId: string): Promise<Role[]>;
  revokeToken(tokenId: string, expiresAt: string): Promise<void>;
  isTokenRevoked(tokenId: string): Promise<boolean>;
  purgeExpiredRevocations(now: string): Promise<number>;

  // flavors
  createFlavor(f: Flavor): Promise<void>;
  getFlavor(id: string): Promise<Flavor | null>;
  getFlavorByName(name: string): Promise<Flavor | null>;
  listFlavors(opts: { includePrivate: boolean; minRam?: number; minDisk?: number; sortKey?: string; sortDir?: 'asc' | 'desc'; limit?: number; marker?: string }): Promise<Flavor[]>;
  deleteFlavor(id: string): Promise<boolean>;
  setFlavorExtraSpecs(id: string, specs: Record<string, string>): Promise<void>;
  deleteFlavorExtraSpec(id: string, key: string): Promise<boolean>;
  updateFlavorDescription(id: string, description: string | null): Promise<void>;

  // keypairs
  createKeypair(k: Keypair): Promise<boolean>;
  getKeypair(userId: string, name: string): Promise<Keypair | null>;
  listKeypairs(userId: string, opts?: { limit?: number; marker?: string }): Promise<Keypair[]>;
  deleteKeypair(userId: string, name: string): Promise<boolean>;

  // images
  createImage(i: Image): Promise<void>;
  getImage(id: string): Promise<Image | null>;
  listImages(opts: { projectId: string | null; isAdmin: boolean; name?: string; status?: string; visibility?: string; limit?: number; marker?: string }): Promise<Image[]>;
  updateImage(id: string, changes: Partial<Omit<Image, 'id' | 'createdAt'>>): Promise<void>;
  deleteImage(id: string): Promise<boolean>;

  // servers
  createServer(s: NewServer): Promise<Server>;
  getServer(id: string, opts?: { includeDeleted?: boolean }): Promise<Server | null>;
  listServers(q: ServerQuery): Promise<Server[]>;
  /** the id and revision of each server listServers(q) would return, in the same order */
  listServerRevisions(q: ServerQuery): Promise<ServerRevision[]>;
  countServers(q: ServerQuery): Promise<number>;
  /** unconditional update (e.g. rename); returns false if the server does not exist */
  updateServer(id: string, changes: ServerChanges): Promise<boolean>;
  /**
   * Compare-and-swap: apply `changes` only if the server's task_state (and vm_state / lock, if given) still match
   * `expected`. One conditional UPDATE, so exactly one of any number of concurrent callers wins.
   */
  updateServerIf(id: string, expected: ServerExpect, changes: ServerChanges): Promise<boolean>;
  /** mark deleted (keeps the row, Nova-style) */
  markServerDeleted(id: string, at: string): Promise<void>;
  /** soft-deleted servers whose deleted_at is older than `before` (for the reclaim task) */
  listReclaimable(before: string): Promise<Server[]>;
  setServerMetadata(id: string, metadata: Record<string, string>, replace: boolean): Promise<Record<string, string>>;
  deleteServerMetadataKey(id: string, key: string): Promise<boolean>;
  setServerTags(id: string, tags: string[]): Promise<void>;
  addServerTag(id: string, tag: string): Promise<void>;
  deleteServerTag(id: string, tag: string): Promise<boolean>;

  // instance actions
  createInstanceAction(a: Omit<InstanceAction, 'id' | 'finishTime' | 'updatedAt'>): Promise<InstanceAction>;
  finishInstanceAction(id: number, at: string, message: string | null): Promise<void>;
  listInstanceActions(serverId: string): Promise<InstanceAction[]>;
  getInstanceActionByRequest(serverId: string, requestId: string): Promise<InstanceAction | null>;
  startActionEvent(actionId: number, event: string, at: string, host: string | null): Promise<InstanceActionEvent>;
  finishActionEvent(id: number, at: string, result: 'Success' | 'Error', traceback: string | null): Promise<void>;
  listActionEvents(actionId: number): Promise<InstanceActionEvent[]>;
  /** close every unfinished action (and its events, as Error) of a server; returns how many */
  failOpenActions(serverId: string, at: string, message: string): Promise<number>;

  // hosts
  upsertHost(h: Host): Promise<void>;
  getHost(name: string): Promise<Host | null>;
  listHosts(): Promise<Host[]>;
  updateHost(name: string, changes: Partial<Omit<Host, 'name' | 'serviceId' | 'hypervisorId' | 'createdAt'>>): Promise<boolean>;
  /** resources claimed on the host (the sum of its servers' allocations, kept as one row) */
  getHostUsage(name: string): Promise<HostUsage>;
  /** usage of every host that has claims, in one query (the scheduler's cache) */
  listHostUsage(): Promise<Map<string, HostUsage>>;

  // claims: one allocation per placed server, one usage row per host (store/sqlite/claims.ts)
  /**
   * Claims `r` on `host` for the server and records the host on the server, in one transaction, only if the host's
   * usage stays within `limits` (null: unchecked). Idempotent for the same server and host.
   */
  claimHost(serverId: string, host: string, r: Resources, limits: Resources | null): Promise<boolean>;
  /** changes the server's claim to `r` (resize); growth must fit `limits` */
  resizeClaim(serverId: string, r: Resources, limits: Resources | null): Promise<boolean>;
  releaseClaim(serverId: string): Promise<void>;
  getAllocation(serverId: string): Promise<(Resources & { host: string }) | null>;

  // tasks: persisted multi-step operations with an owner and a lease (store/sqlite/tasks.ts)
  /** server write (insert or CAS) + instance action + event + task row in one transaction; null when the CAS lost */
  beginTask(b: BeginTask): Promise<TaskRow | null>;
  getTask(id: string): Promise<TaskRow | null>;
  /** records the step about to run and the data so far; false when `owner` no longer holds the task */
  checkpointTask(id: string, owner: string, step: number, data: Record<string, unknown>): Promise<boolean>;
  finishTask(f: FinishTask, owner: string): Promise<{ owned: boolean; won: boolean }>;
  renewTaskLeases(owner: string, until: number): Promise<number>;
  takeOverTask(id: string, owner: string, until: number, now: number): Promise<TaskRow | null>;
  listAdoptableTasks(owner: string, now: number, limit: number): Promise<TaskRow[]>;
  listServerTasks(serverId: string): Promise<TaskRow[]>;
  cancelOtherTasks(serverId: string, exceptId: string): Promise<number>;

  // fixed IPs
  /**
   * Atomically takes the first address of `candidates` not yet used on the network for (serverId, mac); an
   * address already held by the same server and mac is returned again (idempotent). null when all are taken.
   */
  allocateFixedIp(networkId: string, serverId: string, mac: string, candidates: Iterable<string>): Promise<string | null>;
  listFixedIps(serverId: string): Promise<FixedIp[]>;
  releaseFixedIps(serverId: string): Promise<number>;

  // quotas
  getQuotaLimits(projectId: string): Promise<QuotaLimits>;
  setQuotaLimits(projectId: string, limits: QuotaLimits): Promise<void>;
  /** usage of non-deleted servers (soft-deleted servers still count, as in Nova) and key pairs of the user */
  getQuotaUsage(projectId: string, userId: string): Promise<QuotaUsage>;
}
