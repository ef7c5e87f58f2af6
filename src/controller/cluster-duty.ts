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

/**
 * Runs `fn` only while this controller holds the duty `name` (taken or renewed for `leaseMs`); returns its result,
 * or null when another controller holds it. The one call for periodic work that must run once per cluster: e.g.
 * `runExclusive(store, 'host-monitor', id, 30_000, () => monitor.round())` every 10 s.
 */
export async function runExclusive<T>(store: Store, name: string, holder: string, leaseMs: number, fn: () => Promise<T>, nowMs = Date.now()): Promise<T | null> {
  if (!(await new ClusterDuty(store, name, holder, leaseMs).held(nowMs))) return null;
  return fn();
}

/**
 * A periodic job done once per cluster: every `everyMs`, the controller holding the duty runs `fn` (a round that
 * throws is dropped; the next one tries again). Its lease lasts three rounds, so one late round does not hand it
 * over; a controller that dies loses it after that, one that stops (`stop`) gives it up at once.
 */
export class PeriodicDuty {
  readonly duty: ClusterDuty;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(store: Store, name: string, holder: string, private readonly everyMs: number, private readonly fn: () => Promise<unknown>) {
    this.duty = new ClusterDuty(store, name, holder, 3 * everyMs);
  }

  /** one round: runs the job when this controller holds the duty; true when it ran */
  async round(nowMs = Date.now()): Promise<boolean> {
    if (this.running || !(await this.duty.held(nowMs))) return false;
    this.running = this.fn().catch(() => undefined).finally(() => { this.running = null; });
    await this.running;
    return true;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.round(); }, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.duty.release();
  }
}

/** FNV-1a of a string, 32 bits: a stable, well-spread hash for rendezvous hashing (no crypto needed) */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  // final avalanche (murmur3 fmix32): FNV's low bits alone spread similar keys poorly
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0; h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0; h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The live controllers of a cluster, for work split per key (per host): each controller renews its membership
 * lease `member:<id>` every round (`refresh`) and reads the live members back; a key belongs to the member with
 * the highest hash of (member, key) (rendezvous hashing: when a member joins or leaves, only its keys move). A
 * controller that dies drops out when its membership lease runs out and its keys go to the others. When the store
 * cannot be read, a controller owns every key: per-host work is written with compare-and-swap, so doing it twice
 * is waste, not harm, and doing it nowhere is worse.
 */
export class ClusterMembers {
  private members: string[];

  constructor(private readonly store: Store, readonly id: string, readonly leaseMs: number) {
    this.members = [id];
  }

  /** renews this controller's membership and reads the live members */
  async refresh(nowMs = Date.now()): Promise<readonly string[]> {
    try {
      await this.store.takeClusterLease(`member:${this.id}`, this.id, nowMs + this.leaseMs, nowMs);
      const live = (await this.store.listClusterLeases('member:', nowMs)).map((l) => l.holder);
      this.members = live.includes(this.id) ? live : [...live, this.id];
    } catch {
      this.members = [this.id];
    }
    return this.members;
  }

  live(): readonly string[] { return this.members; }

  /** the member `key` belongs to */
  ownerOf(key: string): string {
    let best = this.members[0]!;
    let bestH = -1;
    for (const m of this.members) {
      const h = fnv1a(`${m}\u0000${key}`);
      if (h > bestH || (h === bestH && m < best)) { best = m; bestH = h; }
    }
    return best;
  }

  owns(key: string): boolean { return this.ownerOf(key) === this.id; }

  /** leaves the cluster at once (a controller stopping): its keys go to the others at their next round */
  async leave(): Promise<void> {
    await this.store.releaseClusterLease(`member:${this.id}`, this.id).catch(() => undefined);
  }
}
