import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { RequestId, Uuid } from './common.js';
import { ExtraDisk, ImageRef, NicSpec, ServerSpec } from './server-spec.js';

const Empty = Type.Object({}, { additionalProperties: false });
const Timeouts = {
  /** seconds to wait for the guest after the ACPI button before a hard power-off (Nova: shutdown_timeout 60) */
  timeoutSec: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
  /** seconds between ACPI button presses (Nova: SHUTDOWN_RETRY_INTERVAL 10) */
  retryIntervalSec: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600 })),
};

/**
 * The server's new admin password (Nova's adminPass), for the config drive's meta_data.json `admin_pass` as Nova's
 * libvirt driver writes it; never part of the spec (the journal keeps specs), dropped from the operation's journaled
 * params once it finishes.
 */
const AdminPass = Type.Optional(Type.String({ minLength: 1, maxLength: 255 }));

/** Parameters per operation kind; the submit handler validates `params` against the kind's schema. */
export const OperationParams = {
  spawn: Type.Object({ spec: ServerSpec, adminPass: AdminPass }, { additionalProperties: false }),
  start: Empty,
  stop: Type.Object(Timeouts, { additionalProperties: false }),
  reboot: Type.Object({ hard: Type.Boolean(), ...Timeouts }, { additionalProperties: false }),
  pause: Empty,
  unpause: Empty,
  suspend: Empty,
  resume: Empty,
  /** keepFiles: the guest goes but its files stay (fencing an evacuated guest whose disk is on shared storage) */
  destroy: Type.Object({ keepFiles: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
  attach_disk: Type.Object({ disk: ExtraDisk }, { additionalProperties: false }),
  detach_disk: Type.Object({ target: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  attach_nic: Type.Object({ nic: NicSpec }, { additionalProperties: false }),
  detach_nic: Type.Object({ portId: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  /** adminPass: the config drive (when the server has one) is made again with it */
  rebuild: Type.Object({ image: ImageRef, adminPass: AdminPass }, { additionalProperties: false }),
  resize: Type.Object({
    vcpus: Type.Integer({ minimum: 1, maximum: 256 }),
    maxVcpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
    memoryMiB: Type.Integer({ minimum: 16 }),
    rootGiB: Type.Optional(Type.Number({ minimum: 0 })),
    ...Timeouts,
  }, { additionalProperties: false }),
  /**
   * The target's side of a resize or cold migration to another host: pull the server's instance files from the
   * source agent (GET /v1/servers/:uuid/files, the cluster secret), put the root disk on this host's cached base
   * image, grow it to the spec, define, and start if it ran on the source. The source keeps its files until the
   * resize is confirmed (destroy there) or reverted (destroy here, start there).
   */
  migrate_receive: Type.Object({
    spec: ServerSpec,
    /** the source agent's RPC base URL */
    sourceUrl: Type.String({ pattern: '^https?://' }),
    /** start the guest once defined (it was running on the source) */
    start: Type.Boolean(),
  }, { additionalProperties: false }),
  resize_confirm: Empty,
  resize_revert: Empty,
  snapshot: Type.Object({
    imageId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }),
    /** absolute output file; default: the agent's image cache (so the image can be spawned from here) */
    outputPath: Type.Optional(Type.String({ minLength: 1 })),
    /** then PUT the image there (the controller's signed upload URL, for agents on other machines) */
    uploadUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  }, { additionalProperties: false }),
  // --- live migration (issue 14; src/agent/ops/live-migrate*.ts). Order: prepare (destination) -> live_migrate
  // (source) -> finish (destination), or rollback (destination) when live_migrate did not succeed.
  /** destination: take the server into its journal as 'migrating', fetch images, pre-create disks, DHCP entries */
  live_migrate_prepare: Type.Object({
    spec: ServerSpec,
    /** local disks will be copied (the overlay is pre-created on the cached base, other owned disks blank) */
    blockMigration: Type.Boolean(),
    /** the instances dir is shared with the source (storage marker check): nothing is created or, on rollback, deleted */
    sharedInstancePath: Type.Optional(Type.Boolean()),
    /**
     * the source's agent: the config drive is copied from it byte for byte (the running guest has it mounted; one
     * made again here would differ, as Nova copies disk.config). Absent (an older controller): made from the spec.
     */
    sourceUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  }, { additionalProperties: false }),
  /** source: migrate, monitored; on success the source forgets the server (files removed unless shared) */
  live_migrate: Type.Object({
    /** the destination libvirtd (live_migrate_prepare's result.destUri), e.g. qemu+tls://host-b/system */
    destUri: Type.String({ pattern: '^[a-z0-9+]+://' }),
    /** the hypervisor data channel, e.g. tcp://10.0.0.2 (prepare's result.migrateUri) */
    migrateUri: Type.Optional(Type.String({ pattern: '^[a-z0-9+]+://' })),
    blockMigration: Type.Boolean(),
    /** the destination's paths (prepare's result.paths): the definition is rewritten where they differ */
    destPaths: Type.Optional(Type.Object({ instances: Type.String({ minLength: 1 }), images: Type.String({ minLength: 1 }) })),
    sharedInstancePath: Type.Optional(Type.Boolean()),
    /** MiB/s; 0 / absent: unlimited (Nova's live_migration_bandwidth) */
    bandwidthMiBs: Type.Optional(Type.Number({ minimum: 0 })),
    /** encrypt the QEMU data stream with the hosts' libvirt TLS certificates (VIR_MIGRATE_TLS) */
    nativeTls: Type.Optional(Type.Boolean()),
    maxDowntimeMs: Type.Optional(Type.Number({ minimum: 1 })),
    downtimeSteps: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    downtimeDelaySec: Type.Optional(Type.Number({ minimum: 0 })),
    completionTimeoutPerGiBSec: Type.Optional(Type.Number({ minimum: 0 })),
    timeoutAction: Type.Optional(Type.Union([Type.Literal('abort'), Type.Literal('force_complete')])),
    progressTimeoutSec: Type.Optional(Type.Number({ minimum: 0 })),
    permitPostCopy: Type.Optional(Type.Boolean()),
    permitAutoConverge: Type.Optional(Type.Boolean()),
    postCopyAfterIterations: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  }, { additionalProperties: false }),
  /** destination, after live_migrate succeeded: the server is 'active' here with libvirt's power */
  live_migrate_finish: Empty,
  /** destination, after live_migrate failed or was aborted: undo prepare (refused if the guest runs here) */
  live_migrate_rollback: Empty,
} satisfies Record<string, TSchema>;

export type OperationKind = keyof typeof OperationParams;
export const OPERATION_KINDS = Object.keys(OperationParams) as OperationKind[];
export type ParamsOf<K extends OperationKind> = Static<(typeof OperationParams)[K]>;

export const OperationKindSchema = Type.Union(OPERATION_KINDS.map((k) => Type.Literal(k)));
export const OperationStateSchema = Type.Union([
  Type.Literal('pending'), Type.Literal('running'), Type.Literal('succeeded'),
  Type.Literal('failed'), Type.Literal('rolled_back'),
]);
export type OperationState = Static<typeof OperationStateSchema>;
export const FINISHED_STATES: readonly OperationState[] = ['succeeded', 'failed', 'rolled_back'];

/** POST /v1/operations */
export const SubmitOperationRequest = Type.Object({
  /** idempotency key: the same request id always names the same operation */
  requestId: RequestId,
  serverUuid: Uuid,
  kind: OperationKindSchema,
  params: Type.Object({}, { additionalProperties: true }),
});
export type SubmitOperationRequest = Static<typeof SubmitOperationRequest>;

export const OperationView = Type.Object({
  id: Type.String(),
  requestId: Type.String(),
  serverUuid: Type.String(),
  kind: OperationKindSchema,
  state: OperationStateSchema,
  step: Type.String(),
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  params: Type.Unknown(),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), cause: Type.Optional(Type.String()) })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  finishedAt: Type.Optional(Type.String()),
});
export type OperationView = Static<typeof OperationView>;

export const OperationResponse = Type.Object({
  operation: OperationView,
  /** true when the request id was already known (nothing new was started) */
  duplicate: Type.Optional(Type.Boolean()),
});
export type OperationResponse = Static<typeof OperationResponse>;

/** GET /v1/operations/:id?wait=<seconds>: long-poll until the operation finishes or `wait` elapses */
export const GetOperationQuery = Type.Object({ wait: Type.Optional(Type.Number({ minimum: 0, maximum: 120 })) });
export const OperationIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export const ByRequestParams = Type.Object({ requestId: RequestId });
export { Uuid };
