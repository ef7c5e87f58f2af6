import type { PowerState } from '../../virt/hypervisor.js';
import type { OperationKind, OperationState } from '../../rpc/protocol/operations.js';
import type { ServerSpec } from '../../rpc/protocol/server-spec.js';
import type { ServerStatus } from '../../rpc/protocol/servers.js';
import type { ErrorInfo } from '../../rpc/errors.js';

export interface ResizeSaved {
  /** inactive domain XML before the resize (restored by revert) */
  xml: string;
  /** spec before the resize */
  spec: ServerSpec;
  /** copy of the root disk before it grew (revert renames it back); null if the disk did not grow */
  rootBackup: string | null;
}

export interface ServerRow {
  uuid: string;
  spec: ServerSpec;
  status: ServerStatus;
  desiredPower: PowerState;
  power: PowerState;
  task: OperationKind | null;
  opId: string | null;
  files: string[];
  resizeOld: ResizeSaved | null;
  createdAt: string;
  updatedAt: string;
}

export interface OperationRow {
  id: string;
  requestId: string;
  serverUuid: string;
  kind: OperationKind;
  params: unknown;
  state: OperationState;
  step: string;
  progress: number;
  /** checkpoint for resume/rollback (e.g. wasRunning, snapshot overlays) */
  data: Record<string, unknown>;
  result: unknown;
  error: ErrorInfo | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface StepRow {
  seq: number;
  step: string;
  at: string;
  detail: string | null;
}
