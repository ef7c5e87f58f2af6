/**
 * A task definition (TaskDef) is everything the controller knows about one action, in one place, mirroring the
 * agent's OperationDef: the API gate's rule (allowed vm/task states, lock, admin), the task_state it runs under,
 * the instance action and event it records, its ordered steps (each may ask a host for one operation), and how the
 * server looks after success or failure. The engine (engine.ts) persists the task, checkpoints each step before
 * it runs, and re-drives an interrupted task from its recorded step with the same request id.
 */
import type { OperationKind, ParamsOf } from '../../rpc/protocol/operations.js';
import type { Server, ServerChanges, Store, TaskRow } from '../../store/index.js';
import type { ActionRule } from '../compute/states.js';
import type { HostTransport } from '../hosts/transport.js';
import type { ImageService } from '../images/service.js';
import type { ServerPorts } from '../network/server-ports.js';
import type { Placement } from '../scheduler/placement.js';
import type { SpecBuilder } from '../compute/spec.js';
import type { VolumeAttachments } from '../volumes/attachments.js';
import type { BootVolumes } from '../volumes/boot-volumes.js';
import type { VolumeFencing } from '../volumes/fencing.js';

/** what steps may use */
export interface TaskServices {
  store: Store;
  hosts: HostTransport;
  placement: Placement;
  /** the compute side of networking: a server's ports, NICs and the networks its hosts need */
  net: ServerPorts;
  images: ImageService;
  specs: SpecBuilder;
  /** volume attachments (os-volume_attachments tasks, detach on delete); absent in controllers built without volumes */
  volumes?: VolumeAttachments;
  /** the volumes a server is built with, and where they are attached (volumes/boot-volumes.ts) */
  bootVolumes?: BootVolumes;
  /** a dead host cut off the storage of a server's volumes (evacuation; volumes/fencing.ts) */
  volumeFencing?: VolumeFencing;
}

export interface TaskCtx<P = Record<string, unknown>> {
  readonly task: TaskRow;
  readonly params: P;
  /** checkpoint data: what earlier steps (or an earlier attempt of this one) saved */
  readonly data: Record<string, unknown>;
  readonly svc: TaskServices;
  /** the server as the store has it now */
  server(): Promise<Server>;
  /**
   * merges into the checkpoint data, persisted with the next step's checkpoint (a step interrupted before that is
   * re-driven and saves again: steps are idempotent)
   */
  save(patch: Record<string, unknown>): Promise<void>;
  /**
   * Runs one agent operation for this server on `host` (default: the host recorded in the data, else the
   * server's). Refused once a delete cancelled the task, so a delete never races a host call it cannot see.
   */
  call<K extends OperationKind>(kind: K, params: ParamsOf<K>, opts?: { host?: string; tag?: string }): Promise<Record<string, unknown>>;
}

export interface StepDef<P> {
  name: string;
  run(t: TaskCtx<P>): Promise<void>;
}

export interface TaskDef<P = Record<string, unknown>> {
  kind: string;
  /** instance action name (os-instance-actions) */
  action: string;
  /** the action's event (Nova's compute manager method) */
  event: string;
  /** task_state while it runs; success and failure compare-and-swap from it */
  taskState: string;
  /**
   * every task_state a multi-phase task moves the server through (shelve: shelving -> shelving_image_uploading ->
   * ...; a step moves it with a CAS); success and failure swap from any of them. Default: [taskState].
   */
  taskStates?: readonly string[];
  /** the API's gate: allowed states, lock, admin (actions started by the API) */
  rule?: ActionRule;
  steps: ReadonlyArray<StepDef<P>>;
  /** server changes after the last step (task_state is cleared unless given) */
  success(t: TaskCtx<P>): ServerChanges | Promise<ServerChanges>;
  /** server changes after a failure (task_state is cleared, the fault recorded) */
  failure?: ServerChanges;
  /** undo what the steps left (an image row to mark killed, a claim to give back); runs before the failure is recorded */
  undo?(t: TaskCtx<P>, err: unknown): Promise<void>;
  /** success marks the server deleted and gives back its claim and addresses */
  deletesServer?: boolean;
  /** failure gives back the server's claim (a build that never ran) */
  releasesClaimOnFailure?: boolean;
  /** success gives back the server's claim in the same transaction (a shelved server offloaded from its host) */
  releasesClaimOnSuccess?(t: TaskCtx<P>): boolean;
  /** after a successful finish (in-memory follow-ups, e.g. the scheduler's view) */
  finished?(t: TaskCtx<P>): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one registry holds definitions of different params
export type AnyTaskDef = TaskDef<any>;
