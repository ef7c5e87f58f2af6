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

/** Parameters per operation kind; the submit handler validates `params` against the kind's schema. */
export const OperationParams = {
  spawn: Type.Object({ spec: ServerSpec }, { additionalProperties: false }),
  start: Empty,
  stop: Type.Object(Timeouts, { additionalProperties: false }),
  reboot: Type.Object({ hard: Type.Boolean(), ...Timeouts }, { additionalProperties: false }),
  pause: Empty,
  unpause: Empty,
  suspend: Empty,
  resume: Empty,
  destroy: Empty,
  attach_disk: Type.Object({ disk: ExtraDisk }, { additionalProperties: false }),
  detach_disk: Type.Object({ target: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  attach_nic: Type.Object({ nic: NicSpec }, { additionalProperties: false }),
  detach_nic: Type.Object({ portId: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  rebuild: Type.Object({ image: ImageRef }, { additionalProperties: false }),
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
