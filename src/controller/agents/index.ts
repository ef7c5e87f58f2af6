/**
 * The controller's side of the hosts: agents it drives, their heartbeats, the scheduler and the RPC driver, built
 * together because they share one view of the hosts. `novalet controller` builds this, passes `driver` to
 * buildControllerApp, then calls `attach(app)` to start the heartbeats against the app's host registry.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import type { NetworkDef } from '../config.js';
import { AgentDirectory, type AgentEndpoint } from './directory.js';
import { HeartbeatMonitor, type HeartbeatLogger } from './heartbeats.js';
import { registerImageExport, signedImageUrl } from './image-export.js';
import { AgentComputeDriver } from './rpc-driver.js';
import { DEFAULT_SCHEDULER_CONFIG, Scheduler, type SchedulerConfig } from './scheduler.js';

export { AgentDirectory, type AgentEndpoint } from './directory.js';
export { AgentComputeDriver, agentRequestId } from './rpc-driver.js';
export { Scheduler, DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './scheduler.js';
export { HeartbeatMonitor } from './heartbeats.js';

export interface AgentClusterOptions {
  store: Store;
  secret: string;
  agents: AgentEndpoint[];
  networks: NetworkDef[];
  /** the URL agents on other hosts reach this controller at (image downloads) */
  internalUrl: string;
  scheduler?: SchedulerConfig;
  heartbeatIntervalMs?: number;
  rpcTimeoutMs?: number;
  log?: HeartbeatLogger;
}

export interface AgentCluster {
  agents: AgentDirectory;
  scheduler: Scheduler;
  /** set by attach() */
  heartbeats: HeartbeatMonitor | null;
  driver: AgentComputeDriver;
  /** start heartbeats (first round awaited, so hosts are known before serving) and serve image downloads */
  attach(app: FastifyInstance): Promise<void>;
  close(): void;
}

export function createAgentCluster(o: AgentClusterOptions): AgentCluster {
  const agents = new AgentDirectory(o.secret, o.agents, o.rpcTimeoutMs);
  const scheduler = new Scheduler(o.scheduler ?? DEFAULT_SCHEDULER_CONFIG);
  let images: FastifyInstance['novalet']['images'] | null = null;
  const driver = new AgentComputeDriver({
    store: o.store, agents, scheduler, networks: o.networks,
    get images() { if (!images) throw new Error('agent cluster not attached'); return images; },
    imageUrl: (id) => signedImageUrl(o.internalUrl, o.secret, id),
    // a snapshot of a large disk over a slow link may take long: the upload URL lives for a day
    imageUploadUrl: (id) => signedImageUrl(o.internalUrl, o.secret, id, 86_400, Date.now(), 'upload'),
  });
  const cluster: AgentCluster = {
    agents, scheduler, driver, heartbeats: null,
    async attach(app) {
      images = app.novalet.images;
      registerImageExport(app, app.novalet.images, o.secret);
      cluster.heartbeats = new HeartbeatMonitor(agents, app.novalet.compute.hosts, scheduler, o.store, o.log);
      await cluster.heartbeats.poll();
      cluster.heartbeats.start(o.heartbeatIntervalMs ?? 10_000);
    },
    close() { cluster.heartbeats?.stop(); },
  };
  return cluster;
}
