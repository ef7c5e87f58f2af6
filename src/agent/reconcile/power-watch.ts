import type { PowerState } from '../../virt/hypervisor.js';

export type PowerTest = (power: PowerState) => boolean;

export interface PowerWaitOptions {
  timeoutMs: number;
  /** safety re-read interval: catches a change whose event was lost */
  rereadMs: number;
  /** libvirt's power now (the waiter's own reads: at once, every rereadMs, and at the deadline) */
  read: () => Promise<PowerState>;
}

interface Waiter {
  /** observations from reads begun at or before this ticket are ignored: they may predate the wait */
  after: number;
  ok: PowerTest;
  settle: () => void;
}

/**
 * Where operations wait for a domain's power. PowerSync (power-sync.ts) is the one that learns power (it re-reads
 * the domain on every lifecycle event, and sweeps) and reports each read here; a waiter settles on the first read
 * that shows the wanted power, so an operation ends as soon as libvirt's event arrives instead of at its next poll.
 *
 * Every read carries a ticket taken before it began. A waiter trusts only reads begun after it registered: a read
 * started earlier (a slow sweep, the re-read of an old event) can describe a state the domain has since left.
 */
export class PowerWatch {
  private seq = 0;
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** Take before a read begins; pass to observe() with its result. */
  ticket(): number {
    return ++this.seq;
  }

  /** A read of `uuid` (begun at `ticket`) showed `power`. */
  observe(uuid: string, power: PowerState, ticket: number): void {
    const set = this.waiters.get(uuid.toLowerCase());
    if (!set) return;
    for (const w of set) if (ticket > w.after && w.ok(power)) w.settle();
  }

  /** Operations waiting right now (tests: none may be left behind). */
  pending(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  /**
   * Resolves true as soon as a read shows power satisfying `ok`, false if none did by the deadline (one last read
   * then). Registered before its first read, so a change during that read is not missed. A failed read of its own
   * (libvirt unavailable) rejects, as a failed call of the operation would.
   */
  wait(uuid: string, ok: PowerTest, o: PowerWaitOptions): Promise<boolean> {
    const key = uuid.toLowerCase();
    const deadline = Date.now() + o.timeoutMs;
    return new Promise<boolean>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: boolean | Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const set = this.waiters.get(key);
        set?.delete(waiter);
        if (set?.size === 0) this.waiters.delete(key);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const waiter: Waiter = { after: this.seq, ok, settle: () => finish(true) };
      const readNow = async (): Promise<void> => {
        try {
          const power = await o.read();
          if (done) return;
          if (ok(power)) return finish(true);
          const left = deadline - Date.now();
          if (left <= 0) return finish(false);
          timer = setTimeout(() => void readNow(), Math.min(o.rereadMs, left));
        } catch (err) {
          finish(err instanceof Error ? err : new Error(String(err)));
        }
      };
      const set = this.waiters.get(key) ?? new Set<Waiter>();
      set.add(waiter);
      this.waiters.set(key, set);
      void readNow();
    });
  }
}
