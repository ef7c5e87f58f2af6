import { Type, type Static } from '@sinclair/typebox';
import { PowerState } from './common.js';
import { OperationView } from './operations.js';
import { ServerSpec } from './server-spec.js';

/** Agent-side server status (the controller maps it to vm_state). */
export const ServerStatus = Type.Union([
  Type.Literal('building'), Type.Literal('active'), Type.Literal('resized'),
  Type.Literal('error'), Type.Literal('deleted'),
  /** live migration destination between live_migrate_prepare and live_migrate_finish / _rollback */
  Type.Literal('migrating'),
]);
export type ServerStatus = Static<typeof ServerStatus>;

export const ServerView = Type.Object({
  uuid: Type.String(),
  displayName: Type.String(),
  status: ServerStatus,
  /** libvirt's truth, from events + the periodic sweep */
  power: PowerState,
  /** what the last completed operation intended */
  desiredPower: PowerState,
  /** operation kind in progress, or null */
  task: Type.Union([Type.String(), Type.Null()]),
  operationId: Type.Union([Type.String(), Type.Null()]),
  spec: ServerSpec,
  /** a cold resize awaits confirm/revert */
  resizePending: Type.Boolean(),
  files: Type.Array(Type.String()),
  updatedAt: Type.String(),
});
export type ServerView = Static<typeof ServerView>;

/** A domain on the host the journal does not know: reported, never touched. */
export const UnknownDomain = Type.Object({
  uuid: Type.String(), name: Type.String(), power: PowerState, managed: Type.Boolean(),
});
export type UnknownDomain = Static<typeof UnknownDomain>;

/** GET /v1/servers */
export const ListServersResponse = Type.Object({
  servers: Type.Array(ServerView),
  unknownDomains: Type.Array(UnknownDomain),
});
export type ListServersResponse = Static<typeof ListServersResponse>;

/** GET /v1/servers/:uuid */
export const ServerResponse = Type.Object({
  server: ServerView,
  operations: Type.Array(OperationView),
});
export type ServerResponse = Static<typeof ServerResponse>;
export const ServerUuidParams = Type.Object({ uuid: Type.String({ minLength: 1, maxLength: 64 }) });

/** the most console bytes one answer carries (Nova's libvirt driver: MAX_CONSOLE_BYTES = 100 KiB) */
export const MAX_CONSOLE_BYTES = 100 * 1024;

/** GET /v1/servers/:uuid/console?lines=N (absent = every line within the last MAX_CONSOLE_BYTES) */
export const ConsoleQuery = Type.Object({ lines: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })) });
export type ConsoleQuery = Static<typeof ConsoleQuery>;

/**
 * The tail of the server's serial console log: at most `lines` lines (split on \n, as Nova's _tail_log) of its
 * last MAX_CONSOLE_BYTES bytes, decoded as UTF-8 (invalid bytes become U+FFFD); raw otherwise (control characters
 * are the controller's to strip). `truncated`: the file holds more than was read. A server whose guest never
 * wrote anything answers "".
 */
export const ConsoleResponse = Type.Object({ output: Type.String(), truncated: Type.Boolean() });
export type ConsoleResponse = Static<typeof ConsoleResponse>;

/**
 * GET /v1/servers/:uuid/files: the instance files a resize or cold migration's target pulls from this (the
 * source) host: the server's own files in its instance dir (disks, config drive; not the console log), only
 * while the guest is shut off, so the copy is consistent.
 */
export const InstanceFilesResponse = Type.Object({
  files: Type.Array(Type.Object({ name: Type.String(), sizeBytes: Type.Integer({ minimum: 0 }) })),
});
export type InstanceFilesResponse = Static<typeof InstanceFilesResponse>;

/** GET /v1/servers/:uuid/files/:name: one of those files, as application/octet-stream */
export const InstanceFileParams = Type.Object({
  uuid: Type.String({ minLength: 1, maxLength: 64 }),
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
});
