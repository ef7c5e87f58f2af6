/**
 * AgentTransport: the HostTransport over the agent RPC (novalet-agent/1). A call is one agent operation, submitted
 * and waited for in one round trip, under a request id derived from the task's, so that re-driving a step finds
 * the operation the agent already has. An unreachable agent is retried with the same id for a while (the agent
 * dedupes); a server busy with another operation waits for it and goes again. Failures keep the agent's code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RpcError } from '../../rpc/client.js';
import { FINISHED_STATES, type OperationKind } from '../../rpc/protocol/operations.js';
import { HostCallError, agentRequestId, type HostCall, type HostTransport, type LiveMigrationProgress } from '../hosts/transport.js';
import type { AgentDirectory, AgentEntry } from './directory.js';
import type { NetworkSpec, PeerChangesRequest, PeerChangesResponse, PutPortSecurityRequest } from '../../rpc/protocol/networks.js';

export interface AgentTransportOptions {
  agents: AgentDirectory;
  /** the image store's file of an image (agents on the controller's host read it directly) */
  imagePath: (imageId: string) => string;
  /** signed download URL of an image for agents on other hosts */
  imageUrl: (imageId: string) => string;
  /** signed upload URL for a snapshot taken by an agent on another host */
  imageUploadUrl: (imageId: string) => string;
  /** longest wait for one agent operation (a spawn that copies a large image) */
  operationTimeoutMs?: number;
  /** how long to keep retrying an unreachable agent before failing the step */
  unreachableRetryMs?: number;
}

export class AgentTransport implements HostTransport {
  constructor(private readonly o: AgentTransportOptions) {}

  async call<K extends OperationKind>(c: HostCall<K>): Promise<Record<string, unknown>> {
    const e = this.entry(c.host);
    const rid = agentRequestId(c.requestId, c.serverId, c.tag);
    const timeout = this.o.operationTimeoutMs ?? 30 * 60_000;
    const giveUpAt = Date.now() + (this.o.unreachableRetryMs ?? 60_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const op = await e.client.run(c.kind, c.serverId, c.params, { requestId: rid, timeoutMs: timeout });
        if (op.state === 'succeeded') return (op.result ?? {}) as Record<string, unknown>;
        if (!FINISHED_STATES.includes(op.state)) throw new HostCallError('timeout', `${c.kind} did not finish within ${Math.round(timeout / 1000)} s`, true);
        throw new HostCallError(op.error?.code ?? 'internal', op.error?.message ?? `${c.kind} ${op.state}`, false, op.state === 'rolled_back', op.error?.cause);
      } catch (err) {
        if (!(err instanceof RpcError)) throw err;
        if (err.code === 'unavailable' && Date.now() < giveUpAt) { await sleep(Math.min(5000, 250 * 2 ** attempt)); continue; }
        if (err.code === 'server_busy' && attempt < 100) { await this.waitIdle(e, c.serverId); continue; }
        throw new HostCallError(err.code, err.message, err.code === 'unavailable');
      }
    }
  }

  imageSource(host: string, imageId: string): string {
    return this.entry(host).endpoint.local ? this.o.imagePath(imageId) : this.o.imageUrl(imageId);
  }

  snapshotTarget(host: string, imageId: string): { outputPath: string } | { uploadUrl: string } {
    // a local agent writes straight into the image store; a remote one keeps its copy cached and uploads it
    return this.entry(host).endpoint.local ? { outputPath: this.o.imagePath(imageId) } : { uploadUrl: this.o.imageUploadUrl(imageId) };
  }

  async consoleOutput(host: string, serverId: string, lines: number | null): Promise<string> {
    try {
      return (await this.entry(host).client.consoleOutput(serverId, lines)).output;
    } catch (err) {
      if (err instanceof RpcError) throw new HostCallError(err.code, err.message, err.code === 'unavailable');
      throw err;
    }
  }

  agentUrl(host: string): string { return this.entry(host).endpoint.url; }

  liveMigrationProgress(host: string, serverId: string): Promise<LiveMigrationProgress | null> {
    return this.rpc(async () => (await this.entry(host).client.liveMigration(serverId)).migration);
  }

  liveMigrationAction(host: string, serverId: string, action: 'abort' | 'force-complete'): Promise<'abort' | 'postcopy' | 'pause'> {
    return this.rpc(async () => (await this.entry(host).client.liveMigrationAction(serverId, action)).action);
  }

  sharedInstancePath(sourceHost: string, destHost: string): Promise<boolean> {
    return this.rpc(async () => {
      const dest = this.entry(destHost).client;
      const { marker } = await dest.createStorageMarker();
      try {
        return (await this.entry(sourceHost).client.checkStorageMarker(marker)).exists;
      } finally {
        await dest.removeStorageMarker(marker).catch(() => undefined);
      }
    });
  }

  /** an RPC failure as the HostCallError tasks expect */
  private async rpc<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RpcError) throw new HostCallError(err.code, err.message, err.code === 'unavailable');
      throw err;
    }
  }

  async ensureNetwork(host: string, networkId: string, spec: NetworkSpec): Promise<void> {
    await this.agentCall(host, (c) => c.putNetwork(networkId, spec));
  }

  changePeers(host: string, req: PeerChangesRequest): Promise<PeerChangesResponse> {
    return this.agentCall(host, (c) => c.changePeers(req));
  }

  async removeNetwork(host: string, networkId: string): Promise<void> {
    try {
      await this.agentCall(host, (c) => c.deleteNetwork(networkId));
    } catch (err) {
      if (!(err instanceof HostCallError && err.code === 'not_found')) throw err;
    }
  }

  async hostNetworks(host: string): Promise<string[]> {
    return (await this.agentCall(host, (c) => c.listNetworks())).networks.map((n) => n.id);
  }

  async setPortSecurity(host: string, portId: string, req: PutPortSecurityRequest): Promise<void> {
    await this.agentCall(host, (c) => c.putPortSecurity(portId, req.security, req.requestId));
  }

  /** one idempotent agent request, retried while the agent is unreachable (as operations are) */
  private async agentCall<T>(host: string, fn: (c: AgentEntry['client']) => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + (this.o.unreachableRetryMs ?? 60_000);
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(this.entry(host).client);
      } catch (err) {
        if (!(err instanceof RpcError)) throw err;
        if (err.code === 'unavailable' && Date.now() < giveUpAt) { await sleep(Math.min(5000, 250 * 2 ** attempt)); continue; }
        throw new HostCallError(err.code, err.message, err.code === 'unavailable');
      }
    }
  }

  private entry(host: string): AgentEntry {
    const e = this.o.agents.forHost(host);
    if (!e) throw new HostCallError('unavailable', `Compute host ${host} has no reachable agent.`, true);
    return e;
  }

  private async waitIdle(e: AgentEntry, uuid: string): Promise<void> {
    const { server } = await e.client.getServer(uuid);
    if (server.operationId) await e.client.waitOperation(server.operationId, 10 * 60_000);
    else await sleep(200);
  }
}
