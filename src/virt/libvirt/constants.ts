// GENERATED from /usr/include/libvirt (libvirt 9.0.0) enum definitions; values are libvirt's ABI
// and never change, so they are safe to hard-code. Regenerate only to add newer libvirt values.
/* eslint-disable */

/** virDomainState */
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;

/** virDomainModificationImpact */
export const DomainModificationImpact = {
  CURRENT: 0,
  LIVE: 1,
  CONFIG: 2,
} as const;

/** virDomainCreateFlags */
export const DomainCreateFlags = {
  NONE: 0,
  START_PAUSED: 1,
  START_AUTODESTROY: 2,
  START_BYPASS_CACHE: 4,
  START_FORCE_BOOT: 8,
  START_VALIDATE: 16,
  START_RESET_NVRAM: 32,
} as const;

/** virDomainDefineFlags */
export const DomainDefineFlags = {
  VALIDATE: 1,
} as const;

/** virDomainUndefineFlagsValues */
export const DomainUndefineFlags = {
  MANAGED_SAVE: 1,
  SNAPSHOTS_METADATA: 2,
  NVRAM: 4,
  KEEP_NVRAM: 8,
  CHECKPOINTS_METADATA: 16,
  TPM: 32,
  KEEP_TPM: 64,
} as const;

/** virDomainXMLFlags */
export const DomainXMLFlags = {
  SECURE: 1,
  INACTIVE: 2,
  UPDATE_CPU: 4,
  MIGRATABLE: 8,
} as const;

/** virDomainShutdownFlagValues */
export const ShutdownFlags = {
  DEFAULT: 0,
  ACPI_POWER_BTN: 1,
  GUEST_AGENT: 2,
  INITCTL: 4,
  SIGNAL: 8,
  PARAVIRT: 16,
} as const;

/** virDomainRebootFlagValues */
export const RebootFlags = {
  DEFAULT: 0,
  ACPI_POWER_BTN: 1,
  GUEST_AGENT: 2,
  INITCTL: 4,
  SIGNAL: 8,
  PARAVIRT: 16,
} as const;

/** virDomainDestroyFlagsValues */
export const DestroyFlags = {
  DEFAULT: 0,
  GRACEFUL: 1,
  REMOVE_LOGS: 2,
} as const;

/** virDomainSaveRestoreFlags */
export const SaveRestoreFlags = {
  BYPASS_CACHE: 1,
  RUNNING: 2,
  PAUSED: 4,
  RESET_NVRAM: 8,
} as const;

/** virDomainVcpuFlags */
export const VcpuFlags = {
  CURRENT: null,
  LIVE: null,
  CONFIG: null,
  MAXIMUM: 4,
  GUEST: 8,
  HOTPLUGGABLE: 16,
} as const;

/** virDomainMemoryModFlags */
export const MemoryModFlags = {
  CURRENT: null,
  LIVE: null,
  CONFIG: null,
  MAXIMUM: 4,
} as const;

/** virDomainDeviceModifyFlags */
export const DomainDeviceModifyFlags = {
  CURRENT: null,
  LIVE: null,
  CONFIG: null,
  FORCE: 4,
} as const;

/** virDomainMigrateFlags */
export const DomainMigrateFlags = {
  LIVE: 1,
  PEER2PEER: 2,
  TUNNELLED: 4,
  PERSIST_DEST: 8,
  UNDEFINE_SOURCE: 16,
  PAUSED: 32,
  NON_SHARED_DISK: 64,
  NON_SHARED_INC: 128,
  CHANGE_PROTECTION: 256,
  UNSAFE: 512,
  OFFLINE: 1024,
  COMPRESSED: 2048,
  ABORT_ON_ERROR: 4096,
  AUTO_CONVERGE: 8192,
  RDMA_PIN_ALL: 16384,
  POSTCOPY: 32768,
  TLS: 65536,
  PARALLEL: 131072,
  NON_SHARED_SYNCHRONOUS_WRITES: 262144,
  POSTCOPY_RESUME: 524288,
  ZEROCOPY: 1048576,
} as const;

/** virDomainMigrateMaxSpeedFlags */
export const MigrateMaxSpeedFlags = {
  POSTCOPY: 1,
} as const;

/** virDomainJobType */
export const DomainJobType = {
  NONE: 0,
  BOUNDED: 1,
  UNBOUNDED: 2,
  COMPLETED: 3,
  FAILED: 4,
  CANCELLED: 5,
} as const;

/** virDomainJobOperation */
export const DomainJobOperation = {
  UNKNOWN: 0,
  START: 1,
  SAVE: 2,
  RESTORE: 3,
  MIGRATION_IN: 4,
  MIGRATION_OUT: 5,
  SNAPSHOT: 6,
  SNAPSHOT_REVERT: 7,
  DUMP: 8,
  BACKUP: 9,
  SNAPSHOT_DELETE: 10,
} as const;

/** virDomainGetJobStatsFlags */
export const GetJobStatsFlags = {
  COMPLETED: 1,
  KEEP_COMPLETED: 2,
} as const;

/** virDomainAbortJobFlagsValues */
export const AbortJobFlags = {
  POSTCOPY: 1,
} as const;

/** virDomainBlockJobType */
export const BlockJobType = {
  UNKNOWN: 0,
  PULL: 1,
  COPY: 2,
  COMMIT: 3,
  ACTIVE_COMMIT: 4,
  BACKUP: 5,
} as const;

/** virConnectDomainEventBlockJobStatus */
export const BlockJobStatus = {
  COMPLETED: 0,
  FAILED: 1,
  CANCELED: 2,
  READY: 3,
} as const;

/** virDomainBlockJobAbortFlags */
export const BlockJobAbortFlags = {
  ASYNC: 1,
  PIVOT: 2,
} as const;

/** virDomainBlockJobInfoFlags */
export const BlockJobInfoFlags = {
  BANDWIDTH_BYTES: 1,
} as const;

/** virDomainBlockPullFlags */
export const BlockPullFlags = {
  BANDWIDTH_BYTES: 64,
} as const;

/** virDomainBlockCopyFlags */
export const BlockCopyFlags = {
  SHALLOW: 1,
  REUSE_EXT: 2,
  TRANSIENT_JOB: 4,
  SYNCHRONOUS_WRITES: 8,
} as const;

/** virDomainBlockCommitFlags */
export const BlockCommitFlags = {
  SHALLOW: 1,
  DELETE: 2,
  ACTIVE: 4,
  RELATIVE: 8,
  BANDWIDTH_BYTES: 16,
} as const;

/** virDomainBlockResizeFlags */
export const BlockResizeFlags = {
  BYTES: 1,
} as const;

/** virDomainSnapshotCreateFlags */
export const SnapshotCreateFlags = {
  REDEFINE: 1,
  CURRENT: 2,
  NO_METADATA: 4,
  HALT: 8,
  DISK_ONLY: 16,
  REUSE_EXT: 32,
  QUIESCE: 64,
  ATOMIC: 128,
  LIVE: 256,
  VALIDATE: 512,
} as const;

/** virDomainSnapshotXMLFlags */
export const SnapshotXMLFlags = {
  SECURE: null,
} as const;

/** virDomainSnapshotListFlags */
export const SnapshotListFlags = {
  ROOTS: 1,
  DESCENDANTS: 1,
  LEAVES: 4,
  NO_LEAVES: 8,
  METADATA: 2,
  NO_METADATA: 16,
  INACTIVE: 32,
  ACTIVE: 64,
  DISK_ONLY: 128,
  INTERNAL: 256,
  EXTERNAL: 512,
  TOPOLOGICAL: 1024,
} as const;

/** virDomainSnapshotRevertFlags */
export const SnapshotRevertFlags = {
  RUNNING: 1,
  PAUSED: 2,
  FORCE: 4,
  RESET_NVRAM: 8,
} as const;

/** virDomainSnapshotDeleteFlags */
export const SnapshotDeleteFlags = {
  CHILDREN: 1,
  METADATA_ONLY: 2,
  CHILDREN_ONLY: 4,
} as const;

/** virConnectListAllDomainsFlags */
export const ListAllDomainsFlags = {
  ACTIVE: 1,
  INACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  RUNNING: 16,
  PAUSED: 32,
  SHUTOFF: 64,
  OTHER: 128,
  MANAGEDSAVE: 256,
  NO_MANAGEDSAVE: 512,
  AUTOSTART: 1024,
  NO_AUTOSTART: 2048,
  HAS_SNAPSHOT: 4096,
  NO_SNAPSHOT: 8192,
  HAS_CHECKPOINT: 16384,
  NO_CHECKPOINT: 32768,
} as const;

/** virDomainStatsTypes */
export const DomainStatsTypes = {
  STATE: 1,
  CPU_TOTAL: 2,
  BALLOON: 4,
  VCPU: 8,
  INTERFACE: 16,
  BLOCK: 32,
  PERF: 64,
  IOTHREAD: 128,
  MEMORY: 256,
  DIRTYRATE: 512,
  VM: 1024,
} as const;

/** virConnectGetAllDomainStatsFlags */
export const GetAllDomainStatsFlags = {
  ACTIVE: null,
  INACTIVE: null,
  PERSISTENT: null,
  TRANSIENT: null,
  RUNNING: null,
  PAUSED: null,
  SHUTOFF: null,
  OTHER: null,
  NOWAIT: 536870912,
  BACKING: 1073741824,
  ENFORCE_STATS: -2147483648,
} as const;

/** virConnectCloseReason */
export const ConnectCloseReason = {
  ERROR: 0,
  EOF: 1,
  KEEPALIVE: 2,
  CLIENT: 3,
} as const;

/** virDomainEventType */
export const DomainEventType = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const;

/** virStoragePoolState */
export const StoragePoolState = {
  INACTIVE: 0,
  BUILDING: 1,
  RUNNING: 2,
  DEGRADED: 3,
  INACCESSIBLE: 4,
} as const;

/** virStoragePoolBuildFlags */
export const StoragePoolBuildFlags = {
  NEW: 0,
  REPAIR: 1,
  RESIZE: 2,
  NO_OVERWRITE: 4,
  OVERWRITE: 8,
} as const;

/** virStoragePoolCreateFlags */
export const StoragePoolCreateFlags = {
  NORMAL: 0,
  WITH_BUILD: 1,
  WITH_BUILD_OVERWRITE: 2,
  WITH_BUILD_NO_OVERWRITE: 4,
} as const;

/** virStoragePoolDefineFlags */
export const StoragePoolDefineFlags = {
  VALIDATE: 1,
} as const;

/** virStoragePoolDeleteFlags */
export const StoragePoolDeleteFlags = {
  NORMAL: 0,
  ZEROED: 1,
} as const;

/** virConnectListAllStoragePoolsFlags */
export const ListAllStoragePoolsFlags = {
  INACTIVE: 1,
  ACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  AUTOSTART: 16,
  NO_AUTOSTART: 32,
  DIR: 64,
  FS: 128,
  NETFS: 256,
  LOGICAL: 512,
  DISK: 1024,
  ISCSI: 2048,
  SCSI: 4096,
  MPATH: 8192,
  RBD: 16384,
  SHEEPDOG: 32768,
  GLUSTER: 65536,
  ZFS: 131072,
  VSTORAGE: 262144,
  ISCSI_DIRECT: 524288,
} as const;

/** virStorageVolType */
export const StorageVolType = {
  FILE: 0,
  BLOCK: 1,
  DIR: 2,
  NETWORK: 3,
  NETDIR: 4,
  PLOOP: 5,
} as const;

/** virStorageVolCreateFlags */
export const StorageVolCreateFlags = {
  PREALLOC_METADATA: 1,
  REFLINK: 2,
  VALIDATE: 4,
} as const;

/** virStorageVolDeleteFlags */
export const StorageVolDeleteFlags = {
  NORMAL: 0,
  ZEROED: 1,
  WITH_SNAPSHOTS: 2,
} as const;

/** virStorageVolResizeFlags */
export const StorageVolResizeFlags = {
  ALLOCATE: 1,
  DELTA: 2,
  SHRINK: 4,
} as const;

/** virStorageXMLFlags */
export const StorageXMLFlags = {
  INACTIVE: 1,
} as const;

