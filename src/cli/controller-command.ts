import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AgentEndpoint } from '../controller/agents/index.js';
import type { SchedulerConfig } from '../controller/scheduler/scheduler.js';
import type { ControllerConfig } from '../controller/config.js';
import { startControllerProcess } from '../controller/process.js';
import { exitOnSignals } from './shutdown.js';
import { parseArgs, parseListen, str } from './args.js';
import { fileSecret } from './up/secrets.js';

export const CONTROLLER_USAGE = `usage: novalet controller [--config FILE] [--data-dir DIR] [--listen ADDR:PORT] [--public-url URL]
                          [--secret-file FILE] [--agent URL[,URL...]] [--log-level LEVEL]
  FILE (JSON): { dataDir, listen, publicUrl, secretFile, agents: [{url, local?, ca?}], networks: [...],
                 scheduler: {...}, heartbeatIntervalSeconds, reclaimIntervalSeconds, tokenTtlSeconds, logLevel,
                 database (SQLite file shared by controllers on one machine), controllerId, taskLeaseSeconds (30),
                 identity: { projects: [{name}], users: [{name, password, project, roles}] } }
  admin/demo passwords: DATA_DIR/admin-password and demo-password (generated on first start)`;

interface ControllerFile extends Partial<Pick<ControllerConfig, 'networks' | 'reclaimIntervalSeconds' | 'tokenTtlSeconds' | 'region' | 'serviceDownTimeSeconds'>> {
  dataDir?: string; listen?: string; publicUrl?: string; secretFile?: string; agents?: AgentEndpoint[];
  scheduler?: SchedulerConfig; heartbeatIntervalSeconds?: number; logLevel?: string;
  /** SQLite file shared by several controllers on one machine (default <dataDir>/controller.db) */
  database?: string;
  /** this controller's id among several (default: kept in <dataDir>/controller-id) */
  controllerId?: string;
  /** a task whose owner stopped renewing its lease this long is taken over */
  taskLeaseSeconds?: number;
  /** { projects: [{name, description?}], users: [{name, password, project?, roles?, enabled?}] } */
  identity?: unknown;
}

/** `novalet controller`: the API, scheduler and orchestration for a set of agents. */
export async function controllerCommand(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv);
  if (flags['help']) { console.log(CONTROLLER_USAGE); return; }
  const file: ControllerFile = str(flags, 'config') ? JSON.parse(readFileSync(str(flags, 'config')!, 'utf8')) as ControllerFile : {};
  const dataDir = str(flags, 'data-dir') ?? file.dataDir ?? '/var/lib/novalet/controller';
  const listen = parseListen(str(flags, 'listen') ?? file.listen ?? '0.0.0.0:8774');
  const secretFile = str(flags, 'secret-file') ?? file.secretFile ?? '/etc/novalet/cluster-secret';
  const secret = readFileSync(secretFile, 'utf8').split('\n')[0]!.trim();
  if (secret.length < 16) throw new Error(`${secretFile}: cluster secret missing or shorter than 16 characters`);
  const agents = str(flags, 'agent') ? str(flags, 'agent')!.split(',').map((url) => ({ url })) : file.agents ?? [];
  const log = pino({ level: str(flags, 'log-level') ?? file.logLevel ?? 'info', base: { svc: 'novalet-controller', pid: process.pid } });
  const { networks, reclaimIntervalSeconds, tokenTtlSeconds, region, serviceDownTimeSeconds, taskLeaseSeconds } = file;
  const config: Partial<ControllerConfig> = Object.fromEntries(Object.entries({ networks, reclaimIntervalSeconds, tokenTtlSeconds, region, serviceDownTimeSeconds, taskLeaseSeconds }).filter(([, v]) => v !== undefined));

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const c = await startControllerProcess({
    dataDir, listenHost: listen.host, listenPort: listen.port, secret, agents, log, config,
    ...(str(flags, 'public-url') ?? file.publicUrl ? { publicUrl: str(flags, 'public-url') ?? file.publicUrl } : {}),
    ...(file.scheduler ? { scheduler: file.scheduler } : {}),
    ...(file.database ? { databasePath: file.database } : {}),
    ...(file.controllerId ? { controllerId: file.controllerId } : {}),
    ...(file.identity !== undefined ? { identity: file.identity } : {}),
    ...(file.heartbeatIntervalSeconds ? { heartbeatIntervalMs: file.heartbeatIntervalSeconds * 1000 } : {}),
    passwords: { admin: fileSecret(join(dataDir, 'admin-password')), demo: fileSecret(join(dataDir, 'demo-password')) },
  });
  log.info({ url: c.url, agents: agents.length, recovered: c.recovered }, 'controller ready');
  exitOnSignals(log, 'controller', () => c.close());
}
