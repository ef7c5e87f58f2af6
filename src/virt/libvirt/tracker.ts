// Per-connection call tracking, so that every pending call rejects when the connection dies.
//
// Why this exists (verified against libvirt 9.0 with a SIGSTOPped daemon): when keepalive declares a
// remote connection dead while several calls are in flight, libvirt fails only the call whose thread
// owns the socket; the other calling threads keep waiting on the (silent) socket, and the close
// callback is not invoked until the socket really closes. So the JS side settles the remaining
// promises itself: on a libvirt 'close' event, or when a call fails with an RPC error and
// virConnectIsAlive (a local check) says the connection is gone. The stuck native threads stay
// blocked until the socket wakes up (daemon resumes or dies); they no longer hold up callers.
import { call, LibvirtError } from './errors.js';

const VIR_FROM_RPC = 7;
const VIR_FROM_REMOTE = 13;

export class CallTracker {
  private deadError: LibvirtError | undefined;
  private readonly pending = new Set<(e: unknown) => void>();

  constructor(
    private readonly probeAlive: () => Promise<boolean>,
    private readonly onDeath: (err: LibvirtError) => void,
  ) {}

  get dead(): LibvirtError | undefined { return this.deadError; }

  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.deadError) return Promise.reject(this.deadError);
    return new Promise<T>((resolve, reject) => {
      const fail = (e: unknown): void => {
        if (this.pending.delete(fail)) reject(e);
      };
      this.pending.add(fail);
      call(fn).then(
        (v) => { if (this.pending.delete(fail)) resolve(v); },
        (e: unknown) => { fail(e); this.check(e); },
      );
    });
  }

  /** Reject everything pending and everything issued later with `err`. */
  kill(err: LibvirtError): void {
    if (this.deadError) return;
    this.deadError = err;
    for (const f of [...this.pending]) f(err);  // each removes itself
    this.onDeath(err);
  }

  get pendingCount(): number { return this.pending.size; }

  private check(e: unknown): void {
    if (this.deadError || !(e instanceof LibvirtError)) return;
    if (e.domain !== VIR_FROM_RPC && e.domain !== VIR_FROM_REMOTE) return;
    this.probeAlive().then((alive) => { if (!alive) this.kill(e); }, () => { /* closed by us */ });
  }
}
