/**
 * One controller process: store + agent cluster + HTTP app, started in the order that keeps state consistent —
 * bootstrap (idempotent), first heartbeat round (hosts known), recovery of tasks a previous process left running,
 * then listen. `novalet controller` and `novalet up` both start it; tests start it with ports 0.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { openStore, type Store } from '../store/index.js';
import { buildControllerApp } from '../api/app.js';
import { defaultConfig, type ControllerConfig } from '../controller/config.js';
import { createAgentCluster, type AgentCluster, type AgentEndpoint } from '../controller/agents/index.js';
import type { SchedulerConfig } from '../controller/scheduler/scheduler.js';
import { bootstrapIdentity } from '../controller/identity/bootstrap.js';
import { applyIdentityConfig } from '../controller/identity/config.js';
import { seedFlavors } from '../controller/compute/seed.js';
import type { RecoveryReport } from '../controller/tasks/recovery.js';
import { parseFailpoints } from '../controller/tasks/engine.js';

export interface ControllerProcessOptions {
  dataDir: string;
  listenHost: string;
  listenPort: number;
  /** public base URL; default http://<listenHost or 127.0.0.1>:<bound port> */
  publicUrl?: string;
  secret: string;
  agents: AgentEndpoint[];
  /** PEM files: the CA of the agents' certificates, and this controller's client certificate + key (mutual TLS) */
  agentTls?: { ca?: string; cert?: string; key?: string };
  passwords: { admin: string; demo: string };
  /** projects, users and roles declared in the config file (applied after the bootstrap, idempotently) */
  identity?: unknown;
  config?: Partial<ControllerConfig>;
  scheduler?: SchedulerConfig;
  heartbeatIntervalMs?: number;
  /** this controller's id among controllers sharing a database (default: kept in <dataDir>/controller-id) */
  controllerId?: string;
  /**
   * the store: a SQLite file (default <dataDir>/controller.db; controllers on one machine may share it) or a
   * `postgres://` URL (controllers on any machines share the PostgreSQL database)
   */
  databasePath?: string;
  log: Logger;
}

/**
 * A controller's id survives its restarts (it then takes its own unfinished tasks back at once instead of waiting
 * for their leases to run out); controllers sharing one database must have different ids (different data dirs).
 */
export function controllerIdOf(dataDir: string): string {
  const f = join(dataDir, 'controller-id');
  if (existsSync(f)) return readFileSync(f, 'utf8').trim();
  const id = `controller-${randomUUID()}`;
  writeFileSync(f, `${id}\n`, { mode: 0o600 });
  return id;
}

export interface ControllerProcess {
  app: FastifyInstance;
  store: Store;
  cluster: AgentCluster;
  cfg: ControllerConfig;
  url: string;
  recovered: RecoveryReport;
  close(): Promise<void>;
}

export async function startControllerProcess(o: ControllerProcessOptions): Promise<ControllerProcess> {
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore(o.databasePath ?? join(o.dataDir, 'controller.db'));
  const listenHost = o.listenHost;
  // the public URL must be known before the app is built (catalog): bind first when the port is 0
  const port = o.listenPort;
  const guessUrl = o.publicUrl ?? `http://${listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost}:${port}`;
  const cfg = defaultConfig({ imageDir: join(o.dataDir, 'images'), ...o.config, ...(o.scheduler ? { scheduler: o.scheduler } : {}), publicUrl: guessUrl });
  const controllerId = o.controllerId ?? controllerIdOf(o.dataDir);
  const cluster = createAgentCluster({
    store, secret: o.secret, agents: o.agents, internalUrl: cfg.publicUrl, runningDeletedTimeoutSeconds: cfg.runningDeletedTimeoutSeconds,
    ...(o.heartbeatIntervalMs ? { heartbeatIntervalMs: o.heartbeatIntervalMs } : {}),
    ...(o.agentTls ? { clientTls: Object.fromEntries(Object.entries(o.agentTls).map(([k, f]) => [k, readFileSync(f)])) } : {}),
    log: { warn: (obj, msg) => o.log.warn(obj, msg) }, controllerId,
  });
  const app = buildControllerApp(cfg, store, cluster.transport, {
    loggerInstance: o.log.child({ component: 'api' }), controllerId,
    failpoints: parseFailpoints(process.env.NOVALET_FAILPOINTS), processMetrics: true,
  });
  await bootstrapIdentity(app.novalet.identity, o.passwords);
  if (o.identity !== undefined) await applyIdentityConfig(app.novalet.identity, o.identity);
  await seedFlavors(store);
  await cluster.attach(app, { compute: app.novalet.compute, images: app.novalet.images });
  const recovered = await app.novalet.compute.recover();
  await app.listen({ host: listenHost, port });
  return {
    app, store, cluster, cfg, url: cfg.publicUrl, recovered,
    async close() {
      cluster.close();
      await cluster.heartbeats?.leave();
      await app.close();
      await store.close();
    },
  };
}
