/**
 * FakeHosts: a HostTransport for API tests and in-process benchmarks. Every host name answers; each operation
 * "succeeds" after `delayMs` with the result a real agent reports (the power it left the guest in), and the fake
 * keeps each guest's power so that, e.g., a rebuild of a stopped server reports it stopped. `failNext(op)` makes
 * the next call of `op` (or of consoleOutput: 'console') fail as an agent would (a HostCallError with the agent's code); `on(op, fn)` replaces an
 * operation's behaviour (e.g. a snapshot that writes bytes). Never used in integration tests.
 */
import { HostCallError, type HostCall, type HostTransport } from '../../src/controller/hosts/transport.js';
import type { OperationKind } from '../../src/rpc/protocol/operations.js';
import type { NetworkSpec, PutPortSecurityRequest } from '../../src/rpc/protocol/networks.js';

type Result = Record<string, unknown>;

/** what the fake records: agent operations, console reads and the network calls */
export type FakeOp = OperationKind | 'console' | 'ensure_network' | 'remove_network' | 'port_security';

/** what a fake guest's console shows unless a test sets consoleLogs */
export const FAKE_CONSOLE = 'FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE';

export class FakeHosts implements HostTransport {
  readonly calls: Array<{ op: FakeOp; serverId: string; requestId: string; host: string }> = [];
  /** the guests each host runs, with their power */
  readonly guests = new Map<string, { host: string; power: string }>();
  private readonly failures = new Map<FakeOp, { code: string; message: string; rolledBack: boolean }>();
  private readonly handlers = new Map<OperationKind, (c: HostCall) => Promise<Result>>();

  constructor(private readonly delayMs = 2, private readonly imageDir = '/nonexistent') {}

  /** the next call of `op` fails; a failed spawn is rolled back (nothing left on the host), as the agent does */
  failNext(op: FakeOp, message = `fake ${op} failure`, code = 'internal', rolledBack = op === 'spawn'): void {
    this.failures.set(op, { code, message, rolledBack });
  }

  /** each guest's console log (consoleOutput tails it as the agent does); a guest without one has FAKE_CONSOLE */
  readonly consoleLogs = new Map<string, string>();

  on(op: OperationKind, fn: (c: HostCall) => Promise<Result>): void { this.handlers.set(op, fn); }

  async call<K extends OperationKind>(c: HostCall<K>): Promise<Result> {
    this.calls.push({ op: c.kind, serverId: c.serverId, requestId: c.requestId, host: c.host });
    await new Promise((r) => setTimeout(r, this.delayMs));
    const f = this.failures.get(c.kind);
    if (f) { this.failures.delete(c.kind); throw new HostCallError(f.code, f.message, false, f.rolledBack); }
    const h = this.handlers.get(c.kind);
    if (h) return h(c as HostCall);
    return this.apply(c as HostCall);
  }

  private apply(c: HostCall): Result {
    const g = this.guests.get(c.serverId);
    const set = (power: string) => { this.guests.set(c.serverId, { host: c.host, power }); return { power }; };
    switch (c.kind) {
      case 'spawn': return set('running');
      case 'destroy': this.guests.delete(c.serverId); return {};
      case 'snapshot': return { sizeBytes: 0 };
      default: break;
    }
    if (!g) throw new HostCallError('unknown_server', 'no such server on this host');
    switch (c.kind) {
      case 'start': case 'unpause': case 'resume': return set('running');
      case 'reboot': return set('running');
      case 'stop': return set('shutdown');
      case 'pause': return set('paused');
      case 'suspend': return set('suspended');
      case 'resize_confirm': return {};
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

  async removeNetwork(host: string, networkId: string): Promise<void> {
    this.calls.push({ op: 'remove_network', serverId: networkId, requestId: '', host });
    this.networks.get(host)?.delete(networkId);
  }

  async setPortSecurity(host: string, portId: string, req: PutPortSecurityRequest): Promise<void> {
    this.calls.push({ op: 'port_security', serverId: portId, requestId: req.requestId, host });
    this.portSecurity.set(portId, structuredClone(req));
  }

  imageSource(_host: string, imageId: string): string { return `${this.imageDir}/${imageId}`; }

  snapshotTarget(_host: string, imageId: string): { outputPath: string } { return { outputPath: `${this.imageDir}/${imageId}` }; }
}
