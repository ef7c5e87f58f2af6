/**
 * Fault injection for FakeHypervisor: make the next call(s) of a method fail, fail after taking effect
 * (the reply was lost: the agent must re-drive idempotently), take longer, or hang until released
 * (for the agent's time-out logic). Every call is also recorded.
 */
import type { Hypervisor } from '../hypervisor.js';
import { VirtError } from '../errors.js';

export type FakeMethod = Exclude<keyof Hypervisor, 'onEvent'>;

export type Fault =
  | { kind: 'fail'; error: Error }
  | { kind: 'failAfter'; error: Error }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang'; hang: Hang };

/** A hung call: it neither resolves nor rejects until release() (then it proceeds) or fail(). */
export class Hang {
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private outcome: { error?: unknown } | undefined;
  /** calls currently hanging on this fault */
  get waiting(): number { return this.waiters.length; }

  /** @internal */
  wait(): Promise<void> {
    if (this.outcome) return this.outcome.error === undefined ? Promise.resolve() : Promise.reject(this.outcome.error);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Let the hung call(s) go on and do their work. */
  release(): void {
    this.outcome = {};
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Make the hung call(s) reject without effect. */
  fail(error: unknown = new VirtError('timeout', 'injected: hung call failed')): void {
    this.outcome = { error };
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
}

export interface RecordedCall { method: FakeMethod; args: unknown[]; at: number }

function injected(method: string, code: VirtError['code']): VirtError {
  return new VirtError(code, `injected failure of ${method}`);
}

export class Faults {
  readonly calls: RecordedCall[] = [];
  private readonly queue = new Map<FakeMethod, Fault[]>();
  private readonly hangs: Hang[] = [];

  private push(method: FakeMethod, fault: Fault, times: number): void {
    const q = this.queue.get(method) ?? [];
    for (let i = 0; i < times; i++) q.push(fault);
    this.queue.set(method, q);
  }

  /** The next `times` calls reject without effect (default: VirtError 'operation_failed'). */
  failNext(method: FakeMethod, error: Error | VirtError['code'] = 'operation_failed', times = 1): void {
    this.push(method, { kind: 'fail', error: typeof error === 'string' ? injected(method, error) : error }, times);
  }

  /** The next `times` calls take effect, then reject (the caller cannot tell it happened). */
  failAfterNext(method: FakeMethod, error: Error | VirtError['code'] = 'hypervisor_unavailable', times = 1): void {
    this.push(method, { kind: 'failAfter', error: typeof error === 'string' ? injected(method, error) : error }, times);
  }

  delayNext(method: FakeMethod, ms: number, times = 1): void {
    this.push(method, { kind: 'delay', ms }, times);
  }

  /** The next `times` calls hang until the returned handle is released or failed. */
  hangNext(method: FakeMethod, times = 1): Hang {
    const hang = new Hang();
    this.hangs.push(hang);
    this.push(method, { kind: 'hang', hang }, times);
    return hang;
  }

  /** Forget queued faults and fail every hung call (test teardown). */
  clear(): void {
    this.queue.clear();
    for (const h of this.hangs.splice(0)) h.fail(new VirtError('operation_failed', 'fault injection cleared'));
  }

  callsOf(method: FakeMethod): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** @internal: wraps one call of the fake */
  async run<T>(method: FakeMethod, args: unknown[], fn: () => Promise<T>): Promise<T> {
    this.calls.push({ method, args, at: Date.now() });
    const fault = this.queue.get(method)?.shift();
    if (fault?.kind === 'fail') throw fault.error;
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'hang') await fault.hang.wait();
    const result = await fn();
    if (fault?.kind === 'failAfter') throw fault.error;
    return result;
  }
}
