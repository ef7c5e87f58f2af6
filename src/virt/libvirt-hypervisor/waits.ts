/**
 * Waiting for something libvirt announces by an event, with a poll as a safety net: an event can be missed
 * (sent before we subscribed, or while the connection was being replaced), a poll answers either way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { VirtError } from '../errors.js';
import type { HypervisorEvent } from '../hypervisor.js';

export type Subscribe = (listener: (e: HypervisorEvent) => void) => () => void;

export interface WaitSpec {
  what: string;
  timeoutMs: number;
  pollMs?: number;
  /** runs once subscribed (so the event it causes cannot be missed) */
  start?: () => Promise<void>;
  /** true = done; throwing = failed */
  onEvent?: (e: HypervisorEvent) => boolean;
  /** true = done; may throw */
  poll: () => Promise<boolean>;
}

export async function waitFor(subscribe: Subscribe, w: WaitSpec): Promise<void> {
  let done = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const unsubscribe = subscribe((e) => {
    if (!w.onEvent || done) return;
    try {
      if (w.onEvent(e)) done = true;
    } catch (err) {
      failure = err;
      done = true;
    }
    if (done) wake?.();
  });
  const deadline = Date.now() + w.timeoutMs;
  try {
    await w.start?.();
    for (;;) {
      if (!done && await w.poll()) done = true;
      if (failure !== undefined) throw failure;
      if (done) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new VirtError('timeout', `timed out after ${w.timeoutMs} ms waiting for ${w.what}`);
      const ac = new AbortController();
      wake = () => ac.abort();
      await sleep(Math.min(w.pollMs ?? 500, left), undefined, { signal: ac.signal }).catch(() => undefined);
      wake = undefined;
      if (failure !== undefined) throw failure;
      if (done) return;
    }
  } finally {
    unsubscribe();
  }
}
