import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isErrorCode, type ErrorCode } from './errors.js';
import type { EventsResponse, Inventory } from './protocol/inventory.js';
import { FINISHED_STATES, type OperationKind, type OperationResponse, type OperationView, type ParamsOf } from './protocol/operations.js';
import type { ConsoleResponse, InstanceFilesResponse, ListServersResponse, ServerResponse } from './protocol/servers.js';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ListNetworksResponse, NetworkResponse, NetworkSpec, PeerChangesRequest, PeerChangesResponse, PortSecurity } from './protocol/networks.js';
import type { LiveMigrationActionResponse, LiveMigrationResponse, StorageMarker, StorageMarkerCheck } from './protocol/live-migration.js';
import { HEADER_PROTOCOL, HEADER_REQUEST_ID, PROTOCOL } from './protocol/version.js';

export interface AgentClientOptions {
  /** http(s)://host:port */
  url: string;
  secret: string;
  /** PEM CA for an agent with a private certificate */
  ca?: string | Buffer;
  /** PEM client certificate and key: mutual TLS with an agent that requires it (`novalet pki`) */
  cert?: string | Buffer;
  key?: string | Buffer;
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

  /** the instance files of a shut-off server (a migration's target asks its source) */
  instanceFiles(uuid: string): Promise<InstanceFilesResponse> {
    return this.call('GET', `/v1/servers/${encodeURIComponent(uuid)}/files`);
  }

  /**
   * Streams one instance file into `dest` (the caller writes a temp file and renames it); returns the bytes
   * written. Fails with RpcError (the agent's code, or 'unavailable' when the transfer broke off).
   */
  downloadInstanceFile(uuid: string, name: string, dest: string): Promise<number> {
    const mod = this.base.protocol === 'https:' ? https : http;
    const rid = `req-${randomUUID()}`;
    return new Promise((resolve, reject) => {
      const req = mod.request(new URL(`/v1/servers/${encodeURIComponent(uuid)}/files/${encodeURIComponent(name)}`, this.base), {
        method: 'GET', timeout: this.o.timeoutMs ?? 30_000,
        headers: { authorization: `Bearer ${this.o.secret}`, [HEADER_PROTOCOL]: PROTOCOL, [HEADER_REQUEST_ID]: rid },
        ...(this.o.ca ? { ca: this.o.ca } : {}),
      }, (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let e: { code?: unknown; message?: unknown } | undefined;
            try { e = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: typeof e }).error; } catch { /* not JSON */ }
            reject(new RpcError(isErrorCode(e?.code) ? e.code : 'internal', typeof e?.message === 'string' ? e.message : `HTTP ${res.statusCode}`, res.statusCode ?? 0, rid));
          });
          return;
        }
        const expected = Number(res.headers['content-length'] ?? -1);
        let n = 0;
        res.on('data', (c: Buffer) => { n += c.length; });
        pipeline(res, createWriteStream(dest)).then(() => {
          if (expected >= 0 && n !== expected) reject(new RpcError('unavailable', `${name}: got ${n} of ${expected} bytes`, 200, rid));
          else resolve(n);
        }, (err: Error) => reject(new RpcError('unavailable', `${name}: ${err.message}`, 200, rid)));
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', (err) => reject(new RpcError('unavailable', `agent ${this.base.host} unreachable: ${err.message}`, 0, rid)));
      req.end();
    });
  }

  /** The heartbeat. */
  inventory(): Promise<Inventory> {
    return this.call('GET', '/v1/inventory');
  }

  /** Tenant networks (issue 12): make this host carry the network as given (idempotent). */
  putNetwork(networkId: string, spec: NetworkSpec): Promise<NetworkResponse> {
    return this.call('PUT', `/v1/networks/${encodeURIComponent(networkId)}`, spec, spec.requestId);
  }

  /** 409 network_in_use while a NIC of this host is on it; an unknown network is already gone (204). */
  async deleteNetwork(networkId: string): Promise<void> {
    await this.call('DELETE', `/v1/networks/${encodeURIComponent(networkId)}`);
  }

  /** VXLAN peers by delta for many networks of this host (idempotent; unknown networks skipped). */
  changePeers(req: PeerChangesRequest): Promise<PeerChangesResponse> {
    return this.call('POST', '/v1/network-peers', req, req.requestId);
  }

  listNetworks(): Promise<ListNetworksResponse> {
    return this.call('GET', '/v1/networks');
  }

  /** A live port's filter (null = port security off); 404 unknown_port when no NIC of this host has it. */
  async putPortSecurity(portId: string, security: PortSecurity, requestId: string = `req-${randomUUID()}`): Promise<void> {
    await this.call('PUT', `/v1/ports/${encodeURIComponent(portId)}/security`, { requestId, security }, requestId);
  }

  events(since = 0, waitSec = 0): Promise<EventsResponse> {
    return this.call('GET', `/v1/events?since=${since}&wait=${waitSec}`, undefined, undefined, waitSec);
  }

  /** source host: the running (or last) live migration of the server, null when it has none */
  liveMigration(uuid: string): Promise<LiveMigrationResponse> {
    return this.call('GET', `/v1/servers/${encodeURIComponent(uuid)}/live-migration`);
  }

  /** source host: abort (the guest stays) or force-complete (post-copy if permitted, else pause) the running live migration */
  liveMigrationAction(uuid: string, action: 'abort' | 'force-complete'): Promise<LiveMigrationActionResponse> {
    return this.call('POST', `/v1/servers/${encodeURIComponent(uuid)}/live-migration/${action}`);
  }

  createStorageMarker(): Promise<StorageMarker> {
    return this.call('POST', '/v1/storage/markers');
  }

  checkStorageMarker(marker: string): Promise<StorageMarkerCheck> {
    return this.call('GET', `/v1/storage/markers/${encodeURIComponent(marker)}`);
  }

  removeStorageMarker(marker: string): Promise<StorageMarker> {
    return this.call('DELETE', `/v1/storage/markers/${encodeURIComponent(marker)}`);
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
        ...(this.o.cert && this.o.key ? { cert: this.o.cert, key: this.o.key } : {}),
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
