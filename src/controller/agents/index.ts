/**
 * The controller's side of the hosts: the agents it drives, their heartbeats, and the transport that tasks call
 * them through, built together because they share one directory of agents. `novalet controller` builds this,
 * passes `transport` to the app, then calls `attach(app)` to start the heartbeats against the app's host registry
 * and scheduler.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import type { ComputeController } from '../compute/index.js';
import type { ImageService } from '../images/service.js';
import { AgentDirectory, type AgentClientTls, type AgentEndpoint } from './directory.js';
import { HeartbeatMonitor, type HeartbeatLogger } from './heartbeats.js';
import { registerImageExport, signedImageUrl } from './image-export.js';
import { AgentTransport } from './transport.js';
import { OrphanReaper } from './orphans.js';
import { ClusterMembers } from '../cluster-duty.js';

export { AgentDirectory, type AgentEndpoint } from './directory.js';
export { AgentTransport } from './transport.js';
export { HeartbeatMonitor } from './heartbeats.js';

export interface AgentClusterOptions {
  store: Store;
  secret: string;
  agents: AgentEndpoint[];
  /** the URL agents on other hosts reach this controller at (image downloads) */
  internalUrl: string;
  heartbeatIntervalMs?: number;
  /** a guest of a server deleted longer ago than this is destroyed (Nova's running_deleted_instance_timeout) */
  runningDeletedTimeoutSeconds?: number;
  rpcTimeoutMs?: number;
  /** CA and client certificate for every agent (mutual TLS, `novalet pki`) */
  clientTls?: AgentClientTls;
  log?: HeartbeatLogger;
  /**
   * this controller's id: controllers sharing a database split the hosts' heartbeat records, power sync and orphan
   * reaping between them (membership lease: three heartbeat intervals); absent: this controller does every host
   */
  controllerId?: string;
}

export interface AgentCluster {
  agents: AgentDirectory;
  transport: AgentTransport;
  /** set by attach() */
  heartbeats: HeartbeatMonitor | null;
  /** start heartbeats (first round awaited, so hosts are known before serving) and serve image downloads */
  attach(app: FastifyInstance, services: { compute: ComputeController; images: ImageService }): Promise<void>;
  close(): void;
}

export function createAgentCluster(o: AgentClusterOptions): AgentCluster {
  const agents = new AgentDirectory(o.secret, o.agents, o.rpcTimeoutMs, o.clientTls);
  let images: ImageService | null = null;
  const attached = () => { if (!images) throw new Error('agent cluster not attached'); return images; };
  const transport = new AgentTransport({
    agents,
    imagePath: (id) => attached().filePath(id),
    imageUrl: (id) => signedImageUrl(o.internalUrl, o.secret, id),
    // a snapshot of a large disk over a slow link may take long: the upload URL lives for a day
    imageUploadUrl: (id) => signedImageUrl(o.internalUrl, o.secret, id, 86_400, Date.now(), 'upload'),
  });
  const cluster: AgentCluster = {
    agents, transport, heartbeats: null,
    async attach(app, { compute, images: imageService }) {
      images = imageService;
      registerImageExport(app, imageService, o.secret);
      const reaper = new OrphanReaper(o.store, transport, (o.runningDeletedTimeoutSeconds ?? 60) * 1000, o.log);
      const every = o.heartbeatIntervalMs ?? 10_000;
      const members = o.controllerId ? new ClusterMembers(o.store, o.controllerId, 3 * every) : null;
      cluster.heartbeats = new HeartbeatMonitor(agents, compute.hosts, () => compute.placement.refresh(), o.store, o.log, reaper, 64, members, compute.fencer);
      cluster.heartbeats.onAgentRestart((host) => compute.resyncHostNetworks(host, 'agent restarted'));
      await cluster.heartbeats.poll();
      cluster.heartbeats.start(every);
    },
    close() { cluster.heartbeats?.stop(); },
  };
  return cluster;
}
