/**
 * FakeHosts: a HostTransport for API tests and in-process benchmarks. Every host name answers; each operation
 * "succeeds" after `delayMs` with the result a real agent reports (the power it left the guest in), and the fake
 * keeps each guest's power so that, e.g., a rebuild of a stopped server reports it stopped. `failNext(op)` makes
 * the next call of `op` (or of consoleOutput: 'console') fail as an agent would (a HostCallError with the agent's code); `on(op, fn)` replaces an
 * operation's behaviour (e.g. a snapshot that writes bytes). Never used in integration tests.
 * Live migration: live_migrate_prepare answers like an agent (destUri qemu+tls://<dest>/system), live_migrate moves
 * the guest to the host named in destUri at once, or, with `holdLiveMigrations`, stays running (progress readable
 * with liveMigrationProgress) until `completeLiveMigration(id)`, an abort (the call fails rolled_back) or a
 * force-complete; `sharedStorage` is what sharedInstancePath answers.
 */
import { HostCallError, type HostCall, type HostTransport, type LiveMigrationProgress } from '../../src/controller/hosts/transport.js';
import type { OperationKind } from '../../src/rpc/protocol/operations.js';
import type { NetworkSpec, PeerChangesRequest, PeerChangesResponse, PutPortSecurityRequest } from '../../src/rpc/protocol/networks.js';

type Result = Record<string, unknown>;

/** what the fake records: agent operations, console reads and the network calls */
export type FakeOp = OperationKind | 'console' | 'ensure_network' | 'change_peers' | 'remove_network' | 'port_security';

/** what a fake guest's console shows unless a test sets consoleLogs */
export const FAKE_CONSOLE = 'FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE';

export class FakeHosts implements HostTransport {
  /** `adminPass`: the one a spawn or rebuild carried (for the config drive) */
  readonly calls: Array<{ op: FakeOp; serverId: string; requestId: string; host: string; tag?: string; adminPass?: string }> = [];
  /** the guests each host runs, with their power */
  readonly guests = new Map<string, { host: string; power: string }>();
  private readonly failures = new Map<FakeOp, { code: string; message: string; rolledBack: boolean }>();
  private readonly handlers = new Map<OperationKind, (c: HostCall) => Promise<Result>>();

  /** live_migrate calls stay running until completeLiveMigration / abort / force-complete */
  holdLiveMigrations = false;
  /** what sharedInstancePath answers */
  sharedStorage = false;
  private readonly liveMigrations = new Map<string, { progress: LiveMigrationProgress; settle: (error?: HostCallError) => void }>();
  private readonly lastLiveMigration = new Map<string, LiveMigrationProgress>();

  constructor(private readonly delayMs = 2, private readonly imageDir = '/nonexistent') {}

  /** a held live migration arrives on its destination */
  completeLiveMigration(serverId: string): void {
    this.liveMigrations.get(serverId)?.settle();
  }

  /** the next call of `op` fails; a failed spawn is rolled back (nothing left on the host), as the agent does */
  failNext(op: FakeOp, message = `fake ${op} failure`, code = 'internal', rolledBack = op === 'spawn'): void {
    this.failures.set(op, { code, message, rolledBack });
  }

  /** each guest's console log (consoleOutput tails it as the agent does); a guest without one has FAKE_CONSOLE */
  readonly consoleLogs = new Map<string, string>();

  on(op: OperationKind, fn: (c: HostCall) => Promise<Result>): void { this.handlers.set(op, fn); }

  async call<K extends OperationKind>(c: HostCall<K>): Promise<Result> {
    const adminPass = (c.params as { adminPass?: unknown }).adminPass;
    this.calls.push({ op: c.kind, serverId: c.serverId, requestId: c.requestId, host: c.host, ...(c.tag ? { tag: c.tag } : {}), ...(typeof adminPass === 'string' ? { adminPass } : {}) });
    await new Promise((r) => setTimeout(r, this.delayMs));
    const f = this.failures.get(c.kind);
    if (f) { this.failures.delete(c.kind); throw new HostCallError(f.code, f.message, false, f.rolledBack); }
    const h = this.handlers.get(c.kind);
    if (h) return h(c as HostCall);
    if (c.kind === 'live_migrate') return this.liveMigrate(c as HostCall<'live_migrate'>);
    return this.apply(c as HostCall);
  }

  /**
   * every guest by host (`<host>/<server>`): a resize or cold migration has one on its source and one on its
   * target; `guests` shows the one touched last
   */
  readonly placed = new Map<string, string>();

  /** the power of the server's guest on `host` (undefined: none there) */
  guestOn(host: string, serverId: string): string | undefined { return this.placed.get(`${host}/${serverId}`); }

  /** live_migrate operations by agent request id: a re-sent request waits for (or gets) the same one, as the agent's dedupe */
  private readonly liveMigrateOps = new Map<string, Promise<Result>>();

  private liveMigrate(c: HostCall<'live_migrate'>): Promise<Result> {
    const key = `${c.requestId}.${c.serverId}.${c.tag ?? ''}`;
    const seen = this.liveMigrateOps.get(key);
    if (seen) return seen;
    const op = this.runLiveMigration(c);
    this.liveMigrateOps.set(key, op);
    // a failed (rolled back) one is not kept: the test double lets the same request run again
    op.catch(() => this.liveMigrateOps.delete(key));
    return op;
  }

  private async runLiveMigration(c: HostCall<'live_migrate'>): Promise<Result> {
    const g = this.guests.get(c.serverId);
    if (!g || g.host !== c.host) throw new HostCallError('unknown_server', 'no such server on this host');
    const dest = /^[a-z0-9+]+:\/\/([^/]+)\//.exec(c.params.destUri)?.[1] ?? '';
    const progress: LiveMigrationProgress = {
      operationId: `op-${c.requestId}`, requestId: c.requestId, serverUuid: c.serverId, phase: 'running', destUri: c.params.destUri,
      blockMigration: c.params.blockMigration, autoConverge: false, postCopy: false, maxDowntimeMs: 50, elapsedMs: 0,
      memoryTotal: 128 << 20, memoryProcessed: 64 << 20, memoryRemaining: 64 << 20, diskTotal: 0, diskProcessed: 0, diskRemaining: 0,
      dataTotal: 128 << 20, dataProcessed: 64 << 20, dataRemaining: 64 << 20, iterations: 1, events: [], updatedAt: new Date().toISOString(),
    };
    const outcome = new Promise<HostCallError | undefined>((resolve) => {
      this.liveMigrations.set(c.serverId, { progress, settle: resolve });
      if (!this.holdLiveMigrations) resolve(undefined);
    });
    const error = await outcome;
    this.liveMigrations.delete(c.serverId);
    this.lastLiveMigration.set(c.serverId, { ...progress, phase: error ? 'rolled_back' : 'succeeded' });
    if (error) throw error;
    const now = this.guests.get(c.serverId)?.power ?? g.power;
    this.guests.set(c.serverId, { host: dest, power: now });
    this.placed.delete(`${c.host}/${c.serverId}`);
    this.placed.set(`${dest}/${c.serverId}`, now);
    return { destUri: c.params.destUri, blockMigration: c.params.blockMigration, postCopy: progress.postCopy, iterations: 1 };
  }

  async liveMigrationProgress(_host: string, serverId: string): Promise<LiveMigrationProgress | null> {
    const running = this.liveMigrations.get(serverId);
    return running ? { ...running.progress } : this.lastLiveMigration.get(serverId) ?? null;
  }

  async liveMigrationAction(_host: string, serverId: string, action: 'abort' | 'force-complete'): Promise<'abort' | 'postcopy' | 'pause'> {
    const running = this.liveMigrations.get(serverId);
    if (!running) throw new HostCallError('invalid_state', `no live migration of server ${serverId} runs on this host`);
    if (action === 'abort') {
      running.settle(new HostCallError('internal', 'live migration aborted: aborted on request', false, true, 'aborted'));
      return 'abort';
    }
    running.progress.phase = 'paused';
    running.settle();
    return 'pause';
  }

  async sharedInstancePath(): Promise<boolean> {
    return this.sharedStorage;
  }

  private apply(c: HostCall): Result {
    const key = `${c.host}/${c.serverId}`;
    const seen = this.guests.get(c.serverId);
    // a test's handler may have put the guest in `guests` directly
    if (!this.placed.has(key) && seen?.host === c.host) this.placed.set(key, seen.power);
    const power0 = this.placed.get(key);
    const set = (power: string) => { this.placed.set(key, power); this.guests.set(c.serverId, { host: c.host, power }); return { power }; };
    switch (c.kind) {
      case 'spawn': return set('running');
      case 'migrate_receive': return set((c.params as { start: boolean }).start ? 'running' : 'shutdown');
      case 'destroy': {
        this.placed.delete(key);
        const other = [...this.placed.entries()].find(([k]) => k.endsWith(`/${c.serverId}`));
        if (other) this.guests.set(c.serverId, { host: other[0].slice(0, -c.serverId.length - 1), power: other[1] });
        else this.guests.delete(c.serverId);
        return {};
      }
      case 'snapshot': return { sizeBytes: 0 };
      case 'live_migrate_prepare': {
        const p = c.params as { sharedInstancePath?: boolean };
        return { destUri: `qemu+tls://${c.host}/system`, paths: { instances: '/var/lib/novalet/agent/instances', images: '/var/lib/novalet/agent/images' }, sharedInstancePath: p.sharedInstancePath ?? false };
      }
      case 'live_migrate_rollback': return { deletedFiles: 0 };
      default: break;
    }
    const g = power0 === undefined ? undefined : { host: c.host, power: power0 };
    if (!g) throw new HostCallError('unknown_server', 'no such server on this host');
    switch (c.kind) {
      case 'start': case 'unpause': case 'resume': return set('running');
      case 'reboot': return set('running');
      case 'stop': return set('shutdown');
      case 'pause': return set('paused');
      case 'suspend': return set('suspended');
      case 'resize_confirm': return {};
      case 'live_migrate_finish': return { power: g.power };
      default: return { power: g.power }; // rebuild, resize, resize_revert keep the guest's power
    }
  }

  async consoleOutput(_host: string, serverId: string, lines: number | null): Promise<string> {
    this.calls.push({ op: 'console', serverId, requestId: '', host: _host });
    const f = this.failures.get('console');
    if (f) { this.failures.delete('console'); throw new HostCallError(f.code, f.message, f.code === 'unavailable'); }
    if (!this.guests.has(serverId)) throw new HostCallError('unknown_server', 'no such server on this host');
    const log = this.consoleLogs.get(serverId) ?? FAKE_CONSOLE;
    if (lines === null) return log;
    return lines === 0 ? '' : log.split('\n').slice(-lines).join('\n');
  }

  /** host -> network id -> the last spec the controller sent (what the fake host carries) */
  readonly networks = new Map<string, Map<string, NetworkSpec>>();
  /** port id -> the last filter sent for it */
  readonly portSecurity = new Map<string, PutPortSecurityRequest>();

  async ensureNetwork(host: string, networkId: string, spec: NetworkSpec): Promise<void> {
    this.calls.push({ op: 'ensure_network', serverId: networkId, requestId: spec.requestId, host });
    const f = this.failures.get('ensure_network');
    if (f) { this.failures.delete('ensure_network'); throw new HostCallError(f.code, f.message, f.code === 'unavailable'); }
    const nets = this.networks.get(host) ?? new Map<string, NetworkSpec>();
    nets.set(networkId, structuredClone(spec));
    this.networks.set(host, nets);
  }

  /** as an agent: the peers of the networks this fake host carries follow the delta; the others are skipped */
  async changePeers(host: string, req: PeerChangesRequest): Promise<PeerChangesResponse> {
    this.calls.push({ op: 'change_peers', serverId: req.changes.map((c) => c.networkId).join(','), requestId: req.requestId, host });
    const f = this.failures.get('change_peers');
    if (f) { this.failures.delete('change_peers'); throw new HostCallError(f.code, f.message, f.code === 'unavailable'); }
    const out: PeerChangesResponse = { networks: [], unknown: [] };
    for (const c of req.changes) {
      const spec = this.networks.get(host)?.get(c.networkId);
      if (!spec) { out.unknown.push(c.networkId); continue; }
      const rm = new Set(c.remove);
      spec.peers = [...new Set([...spec.peers, ...c.add])].filter((p) => !rm.has(p)).sort();
      out.networks.push({ id: c.networkId, peers: spec.peers });
    }
    return out;
  }

  async removeNetwork(host: string, networkId: string): Promise<void> {
    this.calls.push({ op: 'remove_network', serverId: networkId, requestId: '', host });
    this.networks.get(host)?.delete(networkId);
  }

  async hostNetworks(host: string): Promise<string[]> {
    return [...(this.networks.get(host)?.keys() ?? [])];
  }

  async setPortSecurity(host: string, portId: string, req: PutPortSecurityRequest): Promise<void> {
    this.calls.push({ op: 'port_security', serverId: portId, requestId: req.requestId, host });
    this.portSecurity.set(portId, structuredClone(req));
  }

  imageSource(_host: string, imageId: string): string { return `${this.imageDir}/${imageId}`; }

  agentUrl(host: string): string { return `http://${host}.fake:8775`; }

  snapshotTarget(_host: string, imageId: string): { outputPath: string } { return { outputPath: `${this.imageDir}/${imageId}` }; }
}
