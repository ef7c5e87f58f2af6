/**
 * ComputeTaskDriver: how the controller gets work done on a host. The controller owns intent (task_state, the
 * instance action); the driver performs the operation and reports the facts it produced. The real
 * implementation sends RPCs to the host's agent (src/rpc/, another engineer); FakeComputeDriver (fake-driver.ts)
 * completes in-process after a small delay so that the API is testable without hosts.
 *
 * Every method must be idempotent for a given requestId: the controller may re-drive an unfinished task after a
 * restart with the same request id.
 */
import type { FlavorSnapshot, Server, ServerAddress } from '../../store/index.js';

export interface TaskContext {
  requestId: string;
}

/** Power states as Nova numbers them (nova.compute.power_state). */
export const POWER = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;

export interface SpawnResult {
  host: string;
  node: string;
  powerState: number;
  addresses: ServerAddress[];
}

export interface PowerResult { powerState: number; }

export interface ComputeTaskDriver {
  /** choose a host (or take the one an admin asked for) and build + boot the guest */
  spawn(server: Server, ctx: TaskContext, placement?: { host?: string }): Promise<SpawnResult>;
  start(server: Server, ctx: TaskContext): Promise<PowerResult>;
  /** graceful ACPI stop with a timeout, then destroy */
  stop(server: Server, ctx: TaskContext): Promise<PowerResult>;
  reboot(server: Server, hard: boolean, ctx: TaskContext): Promise<PowerResult>;
  pause(server: Server, ctx: TaskContext): Promise<PowerResult>;
  unpause(server: Server, ctx: TaskContext): Promise<PowerResult>;
  /** managed save (memory to disk) */
  suspend(server: Server, ctx: TaskContext): Promise<PowerResult>;
  resume(server: Server, ctx: TaskContext): Promise<PowerResult>;
  rebuild(server: Server, imageRef: string, ctx: TaskContext): Promise<PowerResult>;
  resize(server: Server, flavor: FlavorSnapshot, ctx: TaskContext): Promise<PowerResult>;
  confirmResize(server: Server, ctx: TaskContext): Promise<void>;
  revertResize(server: Server, ctx: TaskContext): Promise<PowerResult>;
  /** write the root disk to the image store as image `imageId`; returns its size in bytes */
  snapshot(server: Server, imageId: string, ctx: TaskContext): Promise<{ size: number }>;
  /** destroy the guest and its local disks; must succeed for a server that never reached a host */
  destroy(server: Server, ctx: TaskContext): Promise<void>;
}
