/**
 * VXLAN peers by delta (issue 12): when a host joins or leaves a tenant network, each other host carrying it is
 * told only that one flood entry changed (POST /v1/network-peers), not the network's whole spec again, and the
 * changes for one host are coalesced: a host's first change waits LINGER_MS for more, and while a call to a host is
 * in flight every change for it that comes meanwhile (any network, any peer) waits and goes in the next call.
 *
 * What is sent is what is true when it is sent, not what the event said: for each (network, peer) pending for a
 * host, the store is asked then whether the peer carries the network, under the network/host locks that full specs
 * are sent under (server-ports.ts serial), so a delta never overtakes a newer spec or the other way round, and two
 * events that raced (a join and a leave of one host) still leave the last word to the store. Idempotent (add =
 * present, remove = absent): a call retried, or repeated by a re-driven task, changes nothing more.
 */
import { HostCallError, type HostTransport } from '../hosts/transport.js';
import type { PeerChange } from '../../rpc/protocol/networks.js';

export interface PeerTruth {
  /** does `peerHost` carry the network now (live ports bound there; ports of `without` devices not counted) */
  carries(networkId: string, peerHost: string, without: ReadonlySet<string>): Promise<boolean>;
  /** a host's tunnel (underlay) address; null when it has none (nothing to tell) */
  tunnelIp(host: string): Promise<string | null>;
  /**
   * an agent older than POST /v1/network-peers (it answers "no endpoint"): the networks' whole specs instead,
   * called holding their network/host locks
   */
  fullSpecs(host: string, networkIds: string[], requestId: string): Promise<void>;
  /** runs fn holding the network/host locks `keys` (taken in sorted order: no deadlock between flushes) */
  locked<T>(keys: string[], fn: () => Promise<T>): Promise<T>;
}

interface Batch {
  /** network id -> peer hosts whose membership may have changed */
  peers: Map<string, Set<string>>;
  /** devices (servers) being deleted whose ports do not count any more */
  without: Set<string>;
  requestId: string;
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

/** calls in flight at once, over all hosts (each host has at most one): a bound on sockets, not a throttle */
const PARALLEL = 256;
/**
 * how long a host's first change waits for more before its call goes: joins of many servers at once (a
 * multi-create, 50 creates in flight) then reach each other host in a few calls instead of one each
 */
const LINGER_MS = 25;

export class PeerSync {
  private readonly pending = new Map<string, Batch>();
  private readonly draining = new Set<string>();
  private active = 0;
  private readonly slots: Array<() => void> = [];
  private seq = 0;
  /**
   * (network, peer) -> whether the peer carries the network, as last asked: shared by the flushes of every target
   * host (a join told to 100 hosts asks the store once, not 100 times) and dropped by each new event for that pair,
   * so an answer is never older than the last change it could miss (every change of membership is an event).
   */
  private readonly carriesCache = new Map<string, Promise<boolean>>();

  constructor(private readonly hosts: HostTransport, private readonly truth: PeerTruth) {}

  /**
   * `peerHost` joined or left `networkId`: every host of `targets` (other than itself) gets its flood entry for
   * `peerHost` added or removed, as the store then says. Resolves when every target has been told (rejects with a
   * target's error).
   */
  async changed(networkId: string, peerHost: string, targets: readonly string[], requestId: string, o: { withoutDevice?: string } = {}): Promise<void> {
    await Promise.all([...new Set(targets)].filter((t) => t && t !== peerHost).map((t) => this.enqueue(t, networkId, peerHost, requestId, o.withoutDevice)));
  }

  private enqueue(host: string, networkId: string, peerHost: string, requestId: string, without: string | undefined): Promise<void> {
    this.carriesCache.delete(`${networkId}/${peerHost}`);
    let b = this.pending.get(host);
    if (!b) {
      b = { peers: new Map(), without: new Set(), requestId, waiters: [] };
      this.pending.set(host, b);
    }
    const set = b.peers.get(networkId) ?? new Set<string>();
    set.add(peerHost);
    b.peers.set(networkId, set);
    if (without) b.without.add(without);
    const batch = b;
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.draining.has(host)) void this.drain(host);
    return done;
  }

  /** one call to `host` at a time; what arrived meanwhile goes in the next one */
  private async drain(host: string): Promise<void> {
    this.draining.add(host);
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, LINGER_MS));
        const b = this.pending.get(host);
        if (!b) return;
        this.pending.delete(host);
        try {
          await this.send(host, b);
          for (const w of b.waiters) w.resolve();
        } catch (err) {
          for (const w of b.waiters) w.reject(err);
        }
      }
    } finally {
      this.draining.delete(host);
    }
  }

  private async send(host: string, b: Batch): Promise<void> {
    const networks = [...b.peers.keys()].sort();
    await this.truth.locked(networks.map((n) => `${n}/${host}`), async () => {
      const changes: PeerChange[] = [];
      for (const networkId of networks) {
        const add: string[] = [];
        const remove: string[] = [];
        for (const peer of [...b.peers.get(networkId)!].sort()) {
          const ip = await this.truth.tunnelIp(peer);
          if (!ip) continue;
          ((await this.carries(networkId, peer, b.without)) ? add : remove).push(ip);
        }
        if (add.length || remove.length) changes.push({ networkId, add, remove });
      }
      if (!changes.length) return;
      const requestId = `${b.requestId.slice(0, 80)}.peers.${host.slice(0, 32)}.${++this.seq}`.replace(/[^A-Za-z0-9._:-]/g, '-');
      // the slot inside the locks: a call waiting for a full spec to go first holds no slot
      await this.slot();
      try {
        await this.hosts.changePeers(host, { requestId, changes });
      } catch (err) {
        if (!(err instanceof HostCallError && err.code === 'bad_request' && err.message.includes('no endpoint'))) throw err;
        await this.truth.fullSpecs(host, changes.map((c) => c.networkId), requestId);
      } finally {
        this.release();
      }
    });
  }

  private carries(networkId: string, peer: string, without: ReadonlySet<string>): Promise<boolean> {
    // a batch with devices being deleted asks for itself (its answer is not everyone's)
    if (without.size) return this.truth.carries(networkId, peer, without);
    const key = `${networkId}/${peer}`;
    let p = this.carriesCache.get(key);
    if (!p) {
      p = this.truth.carries(networkId, peer, without);
      this.carriesCache.set(key, p);
      p.catch(() => { if (this.carriesCache.get(key) === p) this.carriesCache.delete(key); });
      // bounded: the oldest answers go first
      if (this.carriesCache.size > 100_000) this.carriesCache.delete(this.carriesCache.keys().next().value!);
    }
    return p;
  }

  private slot(): Promise<void> {
    if (this.active < PARALLEL) { this.active++; return Promise.resolve(); }
    return new Promise((resolve) => this.slots.push(() => { this.active++; resolve(); }));
  }

  private release(): void {
    this.active--;
    this.slots.shift()?.();
  }
}
