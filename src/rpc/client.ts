import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isErrorCode, type ErrorCode } from './errors.js';
import type { EventsResponse, Inventory } from './protocol/inventory.js';
import { FINISHED_STATES, type OperationKind, type OperationResponse, type OperationView, type ParamsOf } from './protocol/operations.js';
import type { ConsoleResponse, ListServersResponse, ServerResponse } from './protocol/servers.js';
import type { HostNetworkView, NetworkSpec, PutPortSecurityRequest } from './protocol/networks.js';
import { HEADER_PROTOCOL, HEADER_REQUEST_ID, PROTOCOL } from './protocol/version.js';

export interface AgentClientOptions {
  /** http(s)://host:port */
  url: string;
  secret: string;
  /** PEM CA for an agent with a private certificate */
  ca?: string | Buffer;
  /** per request (long polls add their wait to it); default 30 s */
  timeoutMs?: number;
}

/** seconds one long-poll (or submit with ?wait) may hold a request before the client asks again */
const LONG_POLL_SEC = 25;

/** An RPC failure: the agent's typed error code, or 'unavailable' when the agent could not be reached. */
export class RpcError extends Error {
  constructor(readonly code: ErrorCode | 'unavailable', message: string, readonly status: number, readonly requestId?: string) {
    super(message);
    this.name = 'RpcError';
  }
}

/**
 * Typed client of the agent protocol, for the controller. Every call carries a request id (given, or a new
 * req-<uuid>) that the agent logs and echoes. Submitting with the same requestId again is safe: the agent
 * returns the recorded operation instead of running it twice, so retry on 'unavailable' freely.
 */
export class AgentClient {
  private readonly base: URL;
  constructor(private readonly o: AgentClientOptions) {
    this.base = new URL(o.url);
  }

  /** waitSec > 0: the answer comes when the operation finished or after waitSec (one round trip instead of two) */
  submit<K extends OperationKind>(kind: K, serverUuid: string, params: ParamsOf<K>, requestId: string = `req-${randomUUID()}`, waitSec = 0): Promise<OperationResponse> {
    return this.call('POST', `/v1/operations${waitSec > 0 ? `?wait=${waitSec}` : ''}`, { requestId, serverUuid, kind, params }, requestId, waitSec);
  }

  /** One long-poll: returns when the operation finished or after waitSec (0 = immediately). */
  async getOperation(id: string, waitSec = 0, requestId?: string): Promise<OperationView> {
    const r = await this.call<OperationResponse>('GET', `/v1/operations/${encodeURIComponent(id)}?wait=${waitSec}`, undefined, requestId, waitSec);
    return r.operation;
  }

  async getOperationByRequestId(opRequestId: string, waitSec = 0): Promise<OperationView> {
    const r = await this.call<OperationResponse>('GET', `/v1/operations/by-request/${encodeURIComponent(opRequestId)}?wait=${waitSec}`, undefined, undefined, waitSec);
    return r.operation;
  }

  /** Long-polls until the operation is finished (succeeded, failed or rolled_back) or timeoutMs passes. */
  async waitOperation(id: string, timeoutMs = 600_000, pollSec = LONG_POLL_SEC): Promise<OperationView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      const op = await this.getOperation(id, Math.min(pollSec, left));
      if (FINISHED_STATES.includes(op.state) || Date.now() >= deadline) return op;
    }
  }

  /** Submits and waits until the operation finished (or timeoutMs passed): submit?wait, then long-polls if needed. */
  async run<K extends OperationKind>(kind: K, serverUuid: string, params: ParamsOf<K>, opts: { requestId?: string; timeoutMs?: number } = {}): Promise<OperationView> {
    const timeoutMs = opts.timeoutMs ?? 600_000;
    const deadline = Date.now() + timeoutMs;
    const { operation } = await this.submit(kind, serverUuid, params, opts.requestId, Math.min(LONG_POLL_SEC, Math.ceil(timeoutMs / 1000)));
    if (FINISHED_STATES.includes(operation.state) || Date.now() >= deadline) return operation;
    return this.waitOperation(operation.id, deadline - Date.now());
  }

  listServers(): Promise<ListServersResponse> {
    return this.call('GET', '/v1/servers');
  }

  getServer(uuid: string): Promise<ServerResponse> {
    return this.call('GET', `/v1/servers/${encodeURIComponent(uuid)}`);
  }

  /** the last `lines` lines of the server's console log (null = all the agent returns; it caps the bytes) */
  consoleOutput(uuid: string, lines: number | null = null): Promise<ConsoleResponse> {
    return this.call('GET', `/v1/servers/${encodeURIComponent(uuid)}/console${lines === null ? '' : `?lines=${lines}`}`);
  }

  /** a tenant network on this host, made so (networks.ts) */
  putNetwork(networkId: string, spec: NetworkSpec): Promise<{ network: HostNetworkView }> {
    return this.call('PUT', `/v1/networks/${encodeURIComponent(networkId)}`, spec, spec.requestId);
  }

  deleteNetwork(networkId: string): Promise<void> {
    return this.call('DELETE', `/v1/networks/${encodeURIComponent(networkId)}`);
  }

  listNetworks(): Promise<{ networks: HostNetworkView[] }> {
    return this.call('GET', '/v1/networks');
  }

  putPortSecurity(portId: string, req: PutPortSecurityRequest): Promise<void> {
    return this.call('PUT', `/v1/ports/${encodeURIComponent(portId)}/security`, req, req.requestId);
  }

  /** The heartbeat. */
  inventory(): Promise<Inventory> {
    return this.call('GET', '/v1/inventory');
  }

  events(since = 0, waitSec = 0): Promise<EventsResponse> {
    return this.call('GET', `/v1/events?since=${since}&wait=${waitSec}`, undefined, undefined, waitSec);
  }

  /** Low level (tests use it to send malformed input). */
  raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, waitSec = 0): Promise<{ status: number; body: unknown; headers: http.IncomingHttpHeaders }> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const mod = this.base.protocol === 'https:' ? https : http;
    const h: Record<string, string> = {
      authorization: `Bearer ${this.o.secret}`,
      [HEADER_PROTOCOL]: PROTOCOL,
      [HEADER_REQUEST_ID]: `req-${randomUUID()}`,
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    };
    return new Promise((resolve, reject) => {
      const req = mod.request(new URL(path, this.base), {
        method, headers: h, timeout: (this.o.timeoutMs ?? 30_000) + waitSec * 1000,
        ...(this.o.ca ? { ca: this.o.ca } : {}),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private async call<T>(method: string, path: string, body?: unknown, requestId?: string, waitSec = 0): Promise<T> {
    const rid = requestId ?? `req-${randomUUID()}`;
    let res;
    try {
      res = await this.raw(method, path, body, { [HEADER_REQUEST_ID]: rid }, waitSec);
    } catch (err) {
      throw new RpcError('unavailable', `agent ${this.base.host} unreachable: ${(err as Error).message}`, 0, rid);
    }
    if (res.status >= 200 && res.status < 300) return res.body as T;
    const e = (res.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = isErrorCode(e?.code) ? e.code : 'internal';
    throw new RpcError(code, typeof e?.message === 'string' ? e.message : `HTTP ${res.status}`, res.status, rid);
  }
}
