/**
 * Records the events a LibvirtConnection delivers for one domain, so tests can assert on what the binding
 * reported for each step ("a lifecycle stopped/saved event arrived") and wait for events that come later.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  LIBVIRT_EVENT_NAMES, type LibvirtConnection, type LibvirtConnectionEvents, type LibvirtEventName,
} from '../../src/virt/libvirt/index.js';

export interface RecordedEvent {
  type: LibvirtEventName;
  /** the payload as delivered (LifecycleEvent, DeviceEvent, ...) */
  data: Record<string, unknown>;
  at: number;
}

export class EventRecorder {
  readonly events: RecordedEvent[] = [];
  private readonly unsubscribe: (() => void)[] = [];

  /** @param domainName only events for this domain are kept (connection 'close' events always are) */
  constructor(conn: LibvirtConnection, readonly domainName?: string) {
    for (const type of LIBVIRT_EVENT_NAMES) {
      const listener = (payload: LibvirtConnectionEvents[typeof type][0]): void => {
        const data = payload as unknown as Record<string, unknown>;
        if (type !== 'close' && domainName !== undefined && data['name'] !== domainName) return;
        this.events.push({ type, data, at: Date.now() });
      };
      const emitter = conn as unknown as { on(t: string, l: (p: never) => void): void; off(t: string, l: (p: never) => void): void };
      emitter.on(type, listener);
      this.unsubscribe.push(() => emitter.off(type, listener));
    }
  }

  /** Index to pass as `since` so that only later events count. */
  mark(): number {
    return this.events.length;
  }

  /** Events of one type (optionally matching fields exactly), from `since`. */
  find(type: LibvirtEventName, fields: Record<string, unknown> = {}, since = 0): RecordedEvent[] {
    return this.events.slice(since).filter((e) =>
      e.type === type && Object.entries(fields).every(([k, v]) => e.data[k] === v));
  }

  /** Waits until an event of `type` with the given fields arrives (or has arrived since `since`). */
  async waitFor(type: LibvirtEventName, fields: Record<string, unknown> = {}, opts: { since?: number; timeoutMs?: number } = {}): Promise<RecordedEvent> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      const hit = this.find(type, fields, opts.since ?? 0)[0];
      if (hit) return hit;
      if (Date.now() >= deadline) {
        const seen = this.events.slice(opts.since ?? 0).map((e) => `${e.type} ${JSON.stringify(e.data, bigintSafe)}`).join('\n  ');
        throw new Error(`no ${type} event matching ${JSON.stringify(fields)}; events seen:\n  ${seen || '(none)'}`);
      }
      await sleep(50);
    }
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
