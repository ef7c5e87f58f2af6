/**
 * Periodic work done once per cluster rather than once per controller (several controllers share one database):
 * each round, a controller takes or renews the duty's lease in the store (`takeClusterLease`, one conditional
 * write) and does the work only while it holds it. The holder renews every round; when it stops (killed, or
 * stopped: `release`), another controller takes the duty once the lease ran out (at once after a release).
 */
import type { Store } from '../store/index.js';

export class ClusterDuty {
  constructor(
    private readonly store: Store,
    readonly name: string,
    private readonly holder: string,
    /** how long a round's lease lasts: a few rounds, so that one late round does not hand the duty over */
    private readonly leaseMs: number,
  ) {}

  /** true when this controller holds the duty now (taken or renewed); a store error counts as not holding it */
  async held(nowMs = Date.now()): Promise<boolean> {
    return this.store.takeClusterLease(this.name, this.holder, nowMs + this.leaseMs, nowMs).catch(() => false);
  }

  async release(): Promise<void> {
    await this.store.releaseClusterLease(this.name, this.holder).catch(() => undefined);
  }
}
