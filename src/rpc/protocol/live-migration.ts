import { Type, type Static } from '@sinclair/typebox';

/** Where an agent keeps instances and cached images (a live migration rewrites the source's paths to these). */
export const AgentPathsView = Type.Object({ instances: Type.String(), images: Type.String() });
export type AgentPathsView = Static<typeof AgentPathsView>;

/**
 * GET /v1/servers/:uuid/live-migration on the SOURCE host: the running migration's progress as the monitor last
 * read it (every ~0.5 s), or the last one's final reading after it ended (from the journal).
 */
export const LiveMigrationProgress = Type.Object({
  operationId: Type.String(),
  requestId: Type.String(),
  serverUuid: Type.String(),
  /** running: pre-copy; postcopy: switched; paused: forced to complete by pausing the guest; aborting; then the operation's final state */
  phase: Type.Union([
    Type.Literal('starting'), Type.Literal('running'), Type.Literal('postcopy'), Type.Literal('paused'), Type.Literal('aborting'),
    Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('rolled_back'),
  ]),
  destUri: Type.String(),
  blockMigration: Type.Boolean(),
  autoConverge: Type.Boolean(),
  postCopy: Type.Boolean(),
  /** the max downtime currently allowed (Nova's steps) */
  maxDowntimeMs: Type.Number(),
  elapsedMs: Type.Number(),
  memoryTotal: Type.Number(), memoryProcessed: Type.Number(), memoryRemaining: Type.Number(),
  diskTotal: Type.Number(), diskProcessed: Type.Number(), diskRemaining: Type.Number(),
  dataTotal: Type.Number(), dataProcessed: Type.Number(), dataRemaining: Type.Number(),
  /** memory passes so far */
  iterations: Type.Number(),
  /** why the monitor acted (abort on timeout / no progress, switch to post-copy, force complete) */
  events: Type.Array(Type.String()),
  updatedAt: Type.String(),
});
export type LiveMigrationProgress = Static<typeof LiveMigrationProgress>;

export const LiveMigrationResponse = Type.Object({ migration: Type.Union([LiveMigrationProgress, Type.Null()]) });
export type LiveMigrationResponse = Static<typeof LiveMigrationResponse>;

/** POST /v1/servers/:uuid/live-migration/{abort,force-complete} */
export const LiveMigrationActionResponse = Type.Object({
  /** abort: 'abort'; force-complete: 'postcopy' (switched) or 'pause' (the guest is paused until it arrives) */
  action: Type.Union([Type.Literal('abort'), Type.Literal('postcopy'), Type.Literal('pause')]),
  operationId: Type.String(),
});
export type LiveMigrationActionResponse = Static<typeof LiveMigrationActionResponse>;

/**
 * Nova's check_can_live_migrate: the destination writes a marker file in its instances dir
 * (POST /v1/storage/markers -> {marker}), the source looks for it (GET /v1/storage/markers/:marker -> {exists}),
 * the destination removes it (DELETE). Seen on both = the instances dir is shared storage.
 */
export const StorageMarker = Type.Object({ marker: Type.String() });
export type StorageMarker = Static<typeof StorageMarker>;
export const StorageMarkerParams = Type.Object({ marker: Type.String({ pattern: '^\\.novalet-shared-[0-9a-f-]{36}$' }) });
export const StorageMarkerCheck = Type.Object({ exists: Type.Boolean() });
export type StorageMarkerCheck = Static<typeof StorageMarkerCheck>;
