// Public entry point of the project's libvirt binding.
export { LibvirtConnection, libvirtVersion, splitVersion } from './connection.js';
export type { DomainStatsRecord, NodeInfo, OpenOptions, VersionInfo } from './connection.js';
export { LibvirtDomain, LibvirtSnapshot, describeState } from './domain.js';
export type { BlockJobInfo, DomainInfo, DomainStateInfo, JobInfo, JobStats } from './domain.js';
export { StoragePool, StorageVolume } from './storage.js';
export type { StoragePoolInfo, StorageVolumeInfo } from './storage.js';
export { LibvirtError, ErrorLevel, isLibvirtError, toLibvirtError } from './errors.js';
export { LIBVIRT_EVENT_NAMES } from './events.js';
export type {
  BlockJobEvent, CloseEvent, DeviceEvent, DomainEventBase, JobCompletedEvent, LibvirtConnectionEvents, LibvirtEventName,
  LifecycleEvent, LifecycleEventName, MigrationIterationEvent, RebootEvent,
} from './events.js';
export type { BlockCopyParams, MigrateParams } from './params.js';
export { blockCopyParamsToTuples, migrateParamsToTuples } from './params.js';
export type { TypedParamRecord, TypedParamValue } from './native.js';
export { NATIVE_ADDON_PATH } from './native.js';
export * from './constants.js';
export * from './codes.js';
