/**
 * In-process driver for tests and for running the API without hosts: every operation "succeeds" after `delayMs`
 * and reports the power state a real host would. `failNext(op)` makes the next call of `op` reject, to test the
 * error paths of the task runner. Never used in integration tests.
 */
import type { ComputeTaskDriver, PowerResult, SpawnResult, TaskContext } from './driver.js';
import { POWER } from './driver.js';
import type { FlavorSnapshot, Server } from '../../store/index.js';

type Op = keyof ComputeTaskDriver;

export class FakeComputeDriver implements ComputeTaskDriver {
  readonly calls: Array<{ op: Op; serverId: string; requestId: string }> = [];
  private failures = new Map<Op, string>();
  private nextIp = 10;

  constructor(private readonly delayMs = 5, private readonly host = 'fake-host') {}

  failNext(op: Op, message = `fake ${op} failure`): void { this.failures.set(op, message); }

  private async run<T>(op: Op, s: Server, ctx: TaskContext, value: T): Promise<T> {
    this.calls.push({ op, serverId: s.id, requestId: ctx.requestId });
    await new Promise((r) => setTimeout(r, this.delayMs));
    const f = this.failures.get(op);
    if (f !== undefined) { this.failures.delete(op); throw new Error(f); }
    return value;
  }

  spawn(s: Server, ctx: TaskContext): Promise<SpawnResult> {
    const n = this.nextIp++;
    const mac = `fa:16:3e:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
    const addresses = (s.requestedNetworks ?? [{ name: 'private' }]).map((net) => (
      { network: net.name, addr: `10.0.${(n >> 8) & 0xff}.${n & 0xff}`, version: 4 as const, mac, type: 'fixed' as const }));
    return this.run('spawn', s, ctx, { host: this.host, node: this.host, powerState: POWER.RUNNING, addresses });
  }
  start(s: Server, ctx: TaskContext): Promise<PowerResult> { return this.run('start', s, ctx, { powerState: POWER.RUNNING }); }
  stop(s: Server, ctx: TaskContext): Promise<PowerResult> { return this.run('stop', s, ctx, { powerState: POWER.SHUTDOWN }); }
  reboot(s: Server, _hard: boolean, ctx: TaskContext): Promise<PowerResult> { return this.run('reboot', s, ctx, { powerState: POWER.RUNNING }); }
  pause(s: Server, ctx: TaskContext): Promise<PowerResult> { return this.run('pause', s, ctx, { powerState: POWER.PAUSED }); }
  unpause(s: Server, ctx: TaskContext): Promise<PowerResult> { return this.run('unpause', s, ctx, { powerState: POWER.RUNNING }); }
  suspend(s: Server, ctx: TaskContext): Promise<PowerResult> { return this.run('suspend', s, ctx, { powerState: POWER.SUSPENDED }); }
  resume(s: Server, ctx: TaskContext): Promise<PowerResult> { return this.run('resume', s, ctx, { powerState: POWER.RUNNING }); }
  rebuild(s: Server, _image: string, ctx: TaskContext): Promise<PowerResult> { return this.run('rebuild', s, ctx, { powerState: s.powerState === POWER.SHUTDOWN ? POWER.SHUTDOWN : POWER.RUNNING }); }
  resize(s: Server, _f: FlavorSnapshot, ctx: TaskContext): Promise<PowerResult> { return this.run('resize', s, ctx, { powerState: s.powerState }); }
  confirmResize(s: Server, ctx: TaskContext): Promise<void> { return this.run('confirmResize', s, ctx, undefined); }
  revertResize(s: Server, ctx: TaskContext): Promise<PowerResult> { return this.run('revertResize', s, ctx, { powerState: s.powerState }); }
  snapshot(s: Server, _imageId: string, ctx: TaskContext): Promise<{ size: number }> { return this.run('snapshot', s, ctx, { size: 0 }); }
  destroy(s: Server, ctx: TaskContext): Promise<void> { return this.run('destroy', s, ctx, undefined); }
}
