// Typed event payloads delivered by LibvirtConnection (an EventEmitter) and the converter from the
// addon's raw payloads. Numeric codes are kept next to their names for callers that need them.
import {
  BLOCK_JOB_STATUS_NAMES, BLOCK_JOB_TYPE_NAMES, CLOSE_REASON_NAMES, LIFECYCLE_DETAIL_NAMES, LIFECYCLE_EVENT_NAMES,
} from './codes.js';
import type { NativeEventPayload, TypedParamRecord } from './native.js';

export type LifecycleEventName =
  | 'defined' | 'undefined' | 'started' | 'suspended' | 'resumed' | 'stopped' | 'shutdown' | 'pmsuspended' | 'crashed';

/** Every domain event names its domain. */
export interface DomainEventBase { name: string; uuid: string }

export interface LifecycleEvent extends DomainEventBase {
  /** e.g. 'started', 'stopped' (virDomainEventType, lower case without prefix) */
  event: LifecycleEventName | `unknown_${number}`;
  /** e.g. 'booted', 'destroyed', 'migrated', 'shutdown' (per-event detail enum, lower case without prefix) */
  detail: string;
  eventCode: number;
  detailCode: number;
}
export type RebootEvent = DomainEventBase;
export interface DeviceEvent extends DomainEventBase { alias: string }
export interface BlockJobEvent extends DomainEventBase {
  /** Disk target (e.g. 'vda') — BLOCK_JOB_2 reports targets, not paths. */
  disk: string;
  /** 'pull' | 'copy' | 'commit' | 'active_commit' | 'backup' | 'unknown' */
  type: string;
  typeCode: number;
  /** 'completed' | 'failed' | 'canceled' | 'ready' */
  status: string;
  statusCode: number;
}
export interface JobCompletedEvent extends DomainEventBase { stats: TypedParamRecord }
export interface MigrationIterationEvent extends DomainEventBase { iteration: number }
export interface CloseEvent {
  /** 'error' | 'eof' | 'keepalive' | 'client' */
  reason: string;
  reasonCode: number;
}

/** Event map for LibvirtConnection (Node's typed EventEmitter). */
export interface LibvirtConnectionEvents {
  lifecycle: [LifecycleEvent];
  reboot: [RebootEvent];
  deviceAdded: [DeviceEvent];
  deviceRemoved: [DeviceEvent];
  blockJob: [BlockJobEvent];
  jobCompleted: [JobCompletedEvent];
  migrationIteration: [MigrationIterationEvent];
  /** The connection died (daemon gone, keepalive timeout). Call close() to release it. */
  close: [CloseEvent];
}
export type LibvirtEventName = keyof LibvirtConnectionEvents;
export const LIBVIRT_EVENT_NAMES: readonly LibvirtEventName[] = [
  'lifecycle', 'reboot', 'deviceAdded', 'deviceRemoved', 'blockJob', 'jobCompleted', 'migrationIteration', 'close',
];

type AnyEvent = { [K in LibvirtEventName]: [K, LibvirtConnectionEvents[K][0]] }[LibvirtEventName];

/** Convert a raw addon event; returns undefined for unknown types (newer addon, older TS). */
export function convertEvent(type: string, p: NativeEventPayload): AnyEvent | undefined {
  const base: DomainEventBase = { name: p.name ?? '', uuid: p.uuid ?? '' };
  switch (type) {
    case 'lifecycle': {
      const eventCode = p.event ?? -1;
      const detailCode = p.detail ?? -1;
      const event = (LIFECYCLE_EVENT_NAMES[eventCode] ?? `unknown_${eventCode}`) as LifecycleEvent['event'];
      const detail = LIFECYCLE_DETAIL_NAMES[event]?.[detailCode] ?? `unknown_${detailCode}`;
      return ['lifecycle', { ...base, event, detail, eventCode, detailCode }];
    }
    case 'reboot':
      return ['reboot', base];
    case 'deviceAdded':
    case 'deviceRemoved':
      return [type, { ...base, alias: p.alias ?? '' }];
    case 'blockJob': {
      const typeCode = p.type ?? 0;
      const statusCode = p.status ?? -1;
      return ['blockJob', {
        ...base, disk: p.disk ?? '', typeCode, statusCode,
        type: BLOCK_JOB_TYPE_NAMES[typeCode] ?? `unknown_${typeCode}`,
        status: BLOCK_JOB_STATUS_NAMES[statusCode] ?? `unknown_${statusCode}`,
      }];
    }
    case 'jobCompleted':
      return ['jobCompleted', { ...base, stats: p.stats ?? {} }];
    case 'migrationIteration':
      return ['migrationIteration', { ...base, iteration: p.iteration ?? 0 }];
    case 'close': {
      const reasonCode = p.reason ?? 0;
      return ['close', { reasonCode, reason: CLOSE_REASON_NAMES[reasonCode] ?? `unknown_${reasonCode}` }];
    }
    default:
      return undefined;
  }
}
