/**
 * The agent's side of fencing: a lease on the controller's attention. Every heartbeat poll of a controller
 * (GET /v1/inventory) renews it. While it has run out — no controller reached this agent for `leaseSec`, or none
 * has since the agent started — the agent refuses new work (every operation that would start or create a guest:
 * spawn, start, resume, unpause, rebuild, resize, migrations in, device attach), so that a host cut off from the
 * controllers never starts a guest that may already have been evacuated elsewhere, and after a restart it starts
 * nothing until a controller has seen it (and fenced it: host-monitor/fencing.ts destroys the evacuated guests in
 * that very heartbeat, before the host counts as up). Guests already running keep running: a controller outage
 * must not take servers down. 0 turns the lease off.
 */
export class ControllerLease {
  private lastContactMs: number | null = null;

  constructor(private readonly leaseSec: number, private readonly now: () => number = Date.now) {}

  get enabled(): boolean { return this.leaseSec > 0; }

  /** a controller reached this agent */
  touch(): void { this.lastContactMs = this.now(); }

  /** why new work is refused now, or null */
  refusal(): string | null {
    if (!this.enabled) return null;
    if (this.lastContactMs === null) return 'no controller has reached this agent since it started: new work waits for one (fencing lease)';
    const idle = this.now() - this.lastContactMs;
    if (idle <= this.leaseSec * 1000) return null;
    return `no controller has reached this agent for ${Math.round(idle / 1000)} s (lease ${this.leaseSec} s): new work is refused until one does (fencing lease)`;
  }

  /** for the inventory and ctl: seconds since the last contact, null if none */
  sinceContactSec(): number | null {
    return this.lastContactMs === null ? null : Math.round((this.now() - this.lastContactMs) / 1000);
  }
}
