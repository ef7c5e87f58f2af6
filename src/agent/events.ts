import type { AgentEvent } from '../rpc/protocol/inventory.js';

/**
 * In-memory event log (ring buffer) for `novalet ctl events` and GET /v1/events. Durable history lives
 * in the journal's operation steps; this is the live tail.
 */
export class EventLog {
  private readonly buf: AgentEvent[] = [];
  private seq = 0;
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(e: AgentEvent) => void>();

  constructor(private readonly capacity = 1000) {}

  emit(e: Omit<AgentEvent, 'seq' | 'time'>): AgentEvent {
    const ev: AgentEvent = { seq: ++this.seq, time: new Date().toISOString(), ...e };
    this.buf.push(ev);
    if (this.buf.length > this.capacity) this.buf.shift();
    for (const w of this.waiters) w();
    this.waiters.clear();
    for (const l of this.listeners) l(ev);
    return ev;
  }

  since(seq: number): AgentEvent[] {
    return this.buf.filter((e) => e.seq > seq);
  }

  get last(): number {
    return this.seq;
  }

  subscribe(l: (e: AgentEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Resolves with events after `seq`, waiting up to timeoutMs for the first one. */
  async wait(seq: number, timeoutMs: number): Promise<AgentEvent[]> {
    const have = this.since(seq);
    if (have.length || timeoutMs <= 0) return have;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.waiters.delete(done); resolve(); }, timeoutMs);
      const done = (): void => { clearTimeout(t); resolve(); };
      this.waiters.add(done);
    });
    return this.since(seq);
  }
}
