/**
 * AgentComputeDriver: the ComputeTaskDriver that gets work done by host agents over the agent RPC
 * (novalet-agent/1). Every call becomes one agent operation whose request id is derived from the API request id
 * and the server, so re-driving a task (a retry after the agent was unreachable, or a controller restart) finds the
 * operation the agent already has instead of starting a second one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FlavorSnapshot, Server, Store } from '../../store/index.js';
import { RpcError } from '../../rpc/client.js';
import { FINISHED_STATES, type OperationKind, type OperationView, type ParamsOf } from '../../rpc/protocol/operations.js';
import type { ImageRef, NicSpec, ServerSpec } from '../../rpc/protocol/server-spec.js';
import type { ComputeTaskDriver, PowerResult, SpawnResult, TaskContext } from '../compute/driver.js';
import type { ImageService } from '../images/service.js';
import type { NetworkDef } from '../config.js';
import { IpAllocator, type AllocatedNic } from '../network/ip-allocator.js';
import { portIdFor } from '../network/ports.js';
import type { AgentDirectory, AgentEntry } from './directory.js';
import type { Scheduler } from './scheduler.js';
import { novaPower } from './power.js';

export interface AgentDriverOptions {
  store: Store;
  agents: AgentDirectory;
  scheduler: Scheduler;
  images: ImageService;
  networks: NetworkDef[];
  /** signed download URL of an image for agents on other hosts */
  imageUrl: (imageId: string) => string;
  /** signed upload URL for a snapshot taken by an agent on another host */
  imageUploadUrl: (imageId: string) => string;
  /** longest wait for one agent operation (a spawn that copies a large image) */
  operationTimeoutMs?: number;
  /** how long to keep retrying an unreachable agent before failing the task */
  unreachableRetryMs?: number;
}

/** the agent's request id for one server's share of an API request (a multi-create shares one request id) */
export const agentRequestId = (requestId: string, serverId: string) => `${requestId}.${serverId}`;

export class HostUnavailable extends Error {}

export class AgentComputeDriver implements ComputeTaskDriver {
  private readonly ipam: IpAllocator;
  /** builds in flight: where each server is being built, for a delete that races the build */
  private readonly placing = new Map<string, string>();

  constructor(private readonly o: AgentDriverOptions) {
    this.ipam = new IpAllocator(o.store, o.networks);
  }

  async spawn(s: Server, ctx: TaskContext, placement: { host?: string } = {}): Promise<SpawnResult> {
    // a re-driven build goes back to the host it was placed on (the agent then finds its operation)
    const host = this.o.scheduler.select(s.flavor, { forcedHost: placement.host ?? s.host ?? undefined });
    this.placing.set(s.id, host);
    try {
      const entry = this.entry(host);
      const nics = await this.ipam.allocate(s.id, s.requestedNetworks ?? []);
      await this.o.store.updateServer(s.id, { host, node: host });
      const spec = await this.spec(s, entry, nics);
      const op = await this.run(entry, s, 'spawn', { spec }, ctx);
      return { host, node: host, powerState: novaPower(res(op).power), addresses: IpAllocator.addresses(nics) };
    } catch (err) {
      this.o.scheduler.release(host, s.flavor);
      throw err;
    } finally {
      this.placing.delete(s.id);
    }
  }

  start(s: Server, ctx: TaskContext) { return this.power(s, 'start', {}, ctx); }
  stop(s: Server, ctx: TaskContext) { return this.power(s, 'stop', {}, ctx); }
  reboot(s: Server, hard: boolean, ctx: TaskContext) { return this.power(s, 'reboot', { hard }, ctx); }
  pause(s: Server, ctx: TaskContext) { return this.power(s, 'pause', {}, ctx); }
  unpause(s: Server, ctx: TaskContext) { return this.power(s, 'unpause', {}, ctx); }
  suspend(s: Server, ctx: TaskContext) { return this.power(s, 'suspend', {}, ctx); }
  resume(s: Server, ctx: TaskContext) { return this.power(s, 'resume', {}, ctx); }

  async rebuild(s: Server, imageRef: string, ctx: TaskContext): Promise<PowerResult> {
    const entry = await this.entryOf(s);
    return this.power(s, 'rebuild', { image: await this.imageRef(imageRef, entry) }, ctx);
  }

  resize(s: Server, f: FlavorSnapshot, ctx: TaskContext): Promise<PowerResult> {
    return this.power(s, 'resize', { vcpus: f.vcpus, memoryMiB: f.ram, rootGiB: f.disk }, ctx);
  }

  async confirmResize(s: Server, ctx: TaskContext): Promise<void> {
    await this.run(await this.entryOf(s), s, 'resize_confirm', {}, ctx);
  }

  revertResize(s: Server, ctx: TaskContext): Promise<PowerResult> { return this.power(s, 'resize_revert', {}, ctx); }

  async snapshot(s: Server, imageId: string, ctx: TaskContext): Promise<{ size: number }> {
    const entry = await this.entryOf(s);
    // a local agent writes straight into the image store; a remote one keeps its copy cached and uploads it
    const where = entry.endpoint.local ? { outputPath: this.o.images.filePath(imageId) } : { uploadUrl: this.o.imageUploadUrl(imageId) };
    const op = await this.run(entry, s, 'snapshot', { imageId, ...where }, ctx);
    return { size: Number(res(op).sizeBytes ?? 0) };
  }

  async destroy(s: Server, ctx: TaskContext): Promise<void> {
    const cur = await this.o.store.getServer(s.id, { includeDeleted: true });
    const host = cur?.host ?? s.host ?? this.placing.get(s.id) ?? null;
    if (host) {
      try {
        await this.run(this.entry(host), s, 'destroy', {}, ctx);
      } catch (err) {
        // the agent never heard of it (a build that failed before reaching the host): nothing to destroy
        if (!(err instanceof RpcError && err.code === 'unknown_server')) throw err;
      }
      this.o.scheduler.free(host, s.flavor);
    }
    await this.ipam.release(s.id);
  }

  private async power<K extends OperationKind>(s: Server, kind: K, params: ParamsOf<K>, ctx: TaskContext): Promise<PowerResult> {
    const op = await this.run(await this.entryOf(s), s, kind, params, ctx);
    return { powerState: novaPower(res(op).power) };
  }

  private entry(host: string): AgentEntry {
    const e = this.o.agents.forHost(host);
    if (!e) throw new HostUnavailable(`Compute host ${host} has no reachable agent.`);
    return e;
  }

  /** the agent of the server's host (re-read: the snapshot a task started from may predate placement) */
  private async entryOf(s: Server): Promise<AgentEntry> {
    const host = s.host ?? (await this.o.store.getServer(s.id))?.host;
    if (!host) throw new Error(`Instance ${s.id} is not on any host.`);
    return this.entry(host);
  }

  /**
   * Submit and wait. An unreachable agent is retried with the same request id (the agent dedupes); a server
   * busy with another operation (e.g. a delete racing a build) waits for that operation, then goes again.
   */
  private async run<K extends OperationKind>(e: AgentEntry, s: Server, kind: K, params: ParamsOf<K>, ctx: TaskContext): Promise<OperationView> {
    const rid = agentRequestId(ctx.requestId, s.id);
    const timeout = this.o.operationTimeoutMs ?? 30 * 60_000;
    const giveUpAt = Date.now() + (this.o.unreachableRetryMs ?? 60_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const op = await e.client.run(kind, s.id, params, { requestId: rid, timeoutMs: timeout });
        if (op.state === 'succeeded') return op;
        if (!FINISHED_STATES.includes(op.state)) throw new Error(`${kind} did not finish within ${Math.round(timeout / 1000)} s`);
        throw new Error(op.error?.message ?? `${kind} ${op.state}`);
      } catch (err) {
        if (!(err instanceof RpcError)) throw err;
        if (err.code === 'unavailable' && Date.now() < giveUpAt) { await sleep(Math.min(5000, 250 * 2 ** attempt)); continue; }
        if (err.code === 'server_busy' && attempt < 100) { await this.waitIdle(e, s.id); continue; }
        throw err;
      }
    }
  }

  private async waitIdle(e: AgentEntry, uuid: string): Promise<void> {
    const { server } = await e.client.getServer(uuid);
    if (server.operationId) await e.client.waitOperation(server.operationId, 10 * 60_000);
    else await sleep(200);
  }

  private async imageRef(imageId: string, e: AgentEntry): Promise<ImageRef> {
    const img = await this.o.store.getImage(imageId);
    if (!img || img.status !== 'active') throw new Error(`Image ${imageId} is not active.`);
    return {
      id: img.id, format: img.diskFormat === 'raw' ? 'raw' : 'qcow2',
      source: e.endpoint.local ? this.o.images.filePath(img.id) : this.o.imageUrl(img.id),
    };
  }

  /**
   * AMI-style images (kernel_id / ramdisk_id properties) boot their kernel and ramdisk directly, with the image's
   * os_command_line (Nova's libvirt driver does the same, with the same default). The agent caches kernel and
   * ramdisk like base images, so this works for agents on any host.
   */
  private async kernelBoot(s: Server, e: AgentEntry): Promise<ServerSpec['boot']> {
    if (!s.kernelId) return undefined;
    const img = await this.o.store.getImage(s.imageRef);
    const ref = async (id: string) => { const r = await this.imageRef(id, e); return { id: r.id, source: r.source }; };
    return {
      kind: 'kernel', kernel: await ref(s.kernelId),
      ...(s.ramdiskId ? { ramdisk: await ref(s.ramdiskId) } : {}),
      cmdline: img?.properties.os_command_line ?? 'root=/dev/vda console=tty0 console=ttyS0 console=hvc0',
    };
  }

  private async spec(s: Server, e: AgentEntry, nics: AllocatedNic[]): Promise<ServerSpec> {
    const f = s.flavor;
    const boot = await this.kernelBoot(s, e);
    return {
      ...(boot ? { boot } : {}),
      uuid: s.id, displayName: s.name, vcpus: f.vcpus, memoryMiB: f.ram, rootGiB: f.disk,
      ...(f.ephemeral > 0 ? { ephemeralGiB: f.ephemeral } : {}),
      ...(f.swap > 0 ? { swapMiB: f.swap } : {}),
      image: await this.imageRef(s.imageRef, e),
      nics: nics.map((n): NicSpec => ({
        portId: portIdFor(s.id, n.mac), mac: n.mac, ip: n.address,
        attachment: n.network.bridge ? { type: 'bridge', bridge: n.network.bridge } : { type: 'network', network: n.network.libvirtNetwork ?? n.network.name },
      })),
      metadata: s.metadata,
      hostname: s.hostname, projectId: s.projectId,
      ...(s.availabilityZone ? { availabilityZone: s.availabilityZone } : {}),
      ...(s.userData ? { userData: s.userData } : {}),
      ...(s.keyName && s.keyData ? { keyName: s.keyName, keyData: s.keyData } : {}),
      // there is no metadata service: user data and keys reach the guest only on a config drive (Nova with
      // force_config_drive), so one is built whenever there is something to deliver or the user asked for it
      configDrive: s.configDrive === 'True' || !!s.userData || !!s.keyData,
    };
  }
}

const res = (op: OperationView) => (op.result ?? {}) as Record<string, unknown>;
