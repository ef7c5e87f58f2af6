/**
 * The host monitor: watches the registry's heartbeats apart from the heartbeat loop itself, decides when a host is
 * down (no heartbeat for `serviceDownTimeSeconds`, or forced down by an operator) and records every up/down change
 * with its time (`host_transitions`, migration 14). Listeners (automatic evacuation) hear each change. Where
 * several controllers share a database, the transitions are written by the one holding the `host-monitor` duty,
 * so each change is recorded once.
 */
import type { Host, HostTransition, Store } from '../../store/index.js';
import type { HostRegistry } from '../hosts/registry.js';
import type { ClusterDuty } from '../cluster-duty.js';

export type HostState = 'up' | 'down';

/** `from`: the state recorded before (null: the host's first record) */
export interface HostStateChange { host: string; state: HostState; from: HostState | null; reason: string; at: string; }

export interface MonitorLogger { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; }

export interface HostView { name: string; state: HostState; since: string | null; forcedDown: boolean; disabled: boolean; lastSeenAt: string | null; }

export class HostMonitor {
  /** last state recorded per host (loaded from the store on the first round) */
  private readonly state = new Map<string, { state: HostState; since: string }>();
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<HostStateChange[]> | null = null;
  private readonly listeners: Array<(c: HostStateChange) => void | Promise<void>> = [];

  constructor(
    private readonly store: Store,
    private readonly registry: HostRegistry,
    private readonly duty: ClusterDuty | null = null,
    private readonly log: MonitorLogger = { info: () => {}, warn: () => {} },
  ) {}

  onChange(fn: (c: HostStateChange) => void | Promise<void>): void { this.listeners.push(fn); }

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.check().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'host monitor round failed')); }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** one round: every host's state now, each change recorded and told to the listeners; concurrent callers share it */
  check(nowMs = Date.now()): Promise<HostStateChange[]> {
    this.running ??= this.round(nowMs).finally(() => { this.running = null; });
    return this.running;
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    const seen = new Set<string>();
    for (const t of await this.store.listHostTransitions({ limit: 10_000 })) {
      if (seen.has(t.host)) continue; // newest first: the first row per host is its current state
      seen.add(t.host);
      this.state.set(t.host, { state: t.state, since: t.at });
    }
    this.loaded = true;
  }

  private reasonFor(h: Host, state: HostState, nowMs: number): string {
    if (state === 'up') return h.forcedDown ? 'forced up' : 'heartbeat';
    if (h.forcedDown) return 'forced down';
    if (!h.lastSeenAt) return 'never reported';
    return `no heartbeat for ${Math.round((nowMs - Date.parse(h.lastSeenAt)) / 1000)} s`;
  }

  private async round(nowMs: number): Promise<HostStateChange[]> {
    await this.load();
    const writer = this.duty ? await this.duty.held(nowMs) : true;
    const changes: HostStateChange[] = [];
    for (const h of await this.registry.list()) {
      const state: HostState = this.registry.isUp(h, nowMs) ? 'up' : 'down';
      const prev = this.state.get(h.name);
      if (prev?.state === state) continue;
      // when the host went down is when its heartbeats stopped (the last one plus the down time), not this round
      const at = state === 'down' && h.lastSeenAt && !h.forcedDown
        ? new Date(Math.min(nowMs, Date.parse(h.lastSeenAt) + this.registry.downAfterMs())).toISOString()
        : new Date(nowMs).toISOString();
      const c: HostStateChange = { host: h.name, state, from: prev?.state ?? null, reason: this.reasonFor(h, state, nowMs), at };
      this.state.set(h.name, { state, since: at });
      // a host seen up for the first time is recorded too: its history starts there
      if (writer) await this.store.recordHostTransition({ host: c.host, state: c.state, reason: c.reason, at: c.at });
      (state === 'down' ? this.log.warn : this.log.info).call(this.log, { host: c.host, reason: c.reason, at: c.at }, `host ${state}`);
      changes.push(c);
      for (const l of this.listeners) await Promise.resolve(l(c)).catch((err: unknown) => this.log.warn({ host: c.host, err: (err as Error).message }, 'host monitor listener failed'));
    }
    return changes;
  }

  /** since when the host has been down (ISO time), null when it is up or unknown to the monitor */
  downSince(host: string): string | null {
    const s = this.state.get(host);
    return s?.state === 'down' ? s.since : null;
  }

  /** every host with its state and since when (the operator's view) */
  async view(nowMs = Date.now()): Promise<HostView[]> {
    await this.load();
    return (await this.registry.list()).map((h) => {
      const state: HostState = this.registry.isUp(h, nowMs) ? 'up' : 'down';
      const s = this.state.get(h.name);
      return { name: h.name, state, since: s?.state === state ? s.since : null, forcedDown: h.forcedDown, disabled: h.disabled, lastSeenAt: h.lastSeenAt };
    });
  }

  history(host?: string, limit = 100): Promise<HostTransition[]> {
    return this.store.listHostTransitions({ ...(host !== undefined ? { host } : {}), limit });
  }
}
