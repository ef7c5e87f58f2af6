import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Type, type Static } from '@sinclair/typebox';
import type { AgentEndpoint } from '../controller/agents/index.js';
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from '../controller/scheduler/scheduler.js';
import { PACK, SPREAD } from '../controller/scheduler/weighers.js';
import { LIVE_MIGRATION_POLICY_KEYS, type ControllerConfig, type NetworkDef } from '../controller/config.js';
import { OperationParams } from '../rpc/protocol/operations.js';
import { checkIdentityRules, IdentityConfigSchema } from '../controller/identity/config.js';
import { ConfigError, LogLevel, readConfigFile } from '../common/config-file.js';
import { loadPolicyFile } from '../controller/policy/file.js';
import type { Policy } from '../controller/policy/policy.js';
import { startControllerProcess } from './controller-process.js';
import { exitOnSignals } from './shutdown.js';
import { parseArgs, parseListen, str } from './args.js';
import { fileSecret } from './up/secrets.js';
import { checkStoreLocation, redactStoreLocation } from '../store/index.js';

export const CONTROLLER_USAGE = `usage: novalet controller [--config FILE] [--data-dir DIR] [--listen ADDR:PORT] [--public-url URL]
                          [--secret-file FILE] [--agent URL[,URL...]] [--store PATH|postgres://...] [--log-level LEVEL]
  FILE (JSON): { dataDir, listen, publicUrl, secretFile, agents: [{url, local?, ca?}], networks: [...],
                 scheduler: {cpuAllocationRatio, ..., strategy: spread|pack, weighers: {ram, cpu, disk}}, heartbeatIntervalSeconds, reclaimIntervalSeconds, shelvedOffloadTime (0), tokenTtlSeconds, logLevel,
                 database (SQLite file, or postgres://user:password@host:port/db shared by several controllers;
                 --store overrides it), controllerId, taskLeaseSeconds (30), imageDir (DATA_DIR/images; shared storage
                 when several controllers serve one cloud),
                 tokenIssueLimit: {burst (50), perMinute (300)}, agentTls: {ca, cert, key} (novalet pki), policyFile,
                 allowResizeToSameHost (false), resizeConfirmWindowSeconds (0 = never),
                 liveMigration: {bandwidthMiBs, maxDowntimeMs, completionTimeoutPerGiBSec, permitPostCopy, ...},
                 serviceDownTimeSeconds (60), evacuation: {auto (false), delaySeconds (300), maxConcurrentHosts (1),
                            maxServersPerHost (10), maxDownFraction (0.5), monitorIntervalSeconds (5)},
                 identity: { projects: [{name}], users: [{name, password, project, roles}] },
                 volumes: { dir (file volumes, same path on every host), rbd: {pool, user, conf, keyring},
                            defaultBackend, quotaDefaults } }
  admin/demo passwords: DATA_DIR/admin-password and demo-password (generated on first start)`;

const Str = Type.String({ minLength: 1 });
const Ratio = Type.Number({ exclusiveMinimum: 0 });
const Seconds = Type.Number({ minimum: 0 });
const AgentEndpointSchema = Type.Object({ url: Str, local: Type.Optional(Type.Boolean()), ca: Type.Optional(Str) }, { additionalProperties: false });
const NetworkSchema = Type.Object({
  id: Str, name: Str, cidr: Str, gateway: Str, subnetId: Str, bridge: Type.Optional(Str), libvirtNetwork: Type.Optional(Str),
}, { additionalProperties: false });
/** any subset; the rest from DEFAULT_SCHEDULER_CONFIG */
const SchedulerSchema = Type.Object({
  cpuAllocationRatio: Type.Optional(Ratio), ramAllocationRatio: Type.Optional(Ratio), diskAllocationRatio: Type.Optional(Ratio),
  reservedHostMemoryMb: Type.Optional(Seconds),
  /** 'spread' (Nova's default) or 'pack': the sign of every weigher; `weighers` then sets single multipliers */
  strategy: Type.Optional(Type.Union([Type.Literal('spread'), Type.Literal('pack')])),
  weighers: Type.Optional(Type.Object({
    ram: Type.Optional(Type.Number()), cpu: Type.Optional(Type.Number()), disk: Type.Optional(Type.Number()),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

const Quota = Type.Integer({ minimum: -1 });
/** block storage (ControllerConfig.volumes): the file backend's shared directory, Ceph RBD, default quotas */
const VolumesSchema = Type.Object({
  dir: Type.Optional(Str), fileFormat: Type.Optional(Type.Union([Type.Literal('qcow2'), Type.Literal('raw')])),
  defaultBackend: Type.Optional(Type.Union([Type.Literal('file'), Type.Literal('rbd')])),
  rbd: Type.Optional(Type.Object({ pool: Str, user: Str, conf: Type.Optional(Str), keyring: Type.Optional(Str) }, { additionalProperties: false })),
  quotaDefaults: Type.Optional(Type.Object({
    volumes: Type.Optional(Quota), snapshots: Type.Optional(Quota), gigabytes: Type.Optional(Quota), per_volume_gigabytes: Type.Optional(Quota),
    backups: Type.Optional(Quota), backup_gigabytes: Type.Optional(Quota), groups: Type.Optional(Quota),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

/** `novalet controller --config FILE` */
export const ControllerFileSchema = Type.Object({
  dataDir: Type.Optional(Str), listen: Type.Optional(Str), publicUrl: Type.Optional(Str), secretFile: Type.Optional(Str),
  agents: Type.Optional(Type.Array(AgentEndpointSchema)),
  networks: Type.Optional(Type.Array(NetworkSchema, { minItems: 1 })),
  scheduler: Type.Optional(SchedulerSchema),
  heartbeatIntervalSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  reclaimIntervalSeconds: Type.Optional(Seconds),
  /** Nova's shelved_offload_time: 0 = offload a shelved server at once, -1 = never */
  shelvedOffloadTime: Type.Optional(Type.Integer({ minimum: -1 })),
  tokenTtlSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  serviceDownTimeSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** a guest still running for a server deleted longer ago than this is destroyed (Nova's running_deleted_instance_timeout; 60) */
  runningDeletedTimeoutSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  region: Type.Optional(Str),
  logLevel: Type.Optional(LogLevel),
  identity: Type.Optional(IdentityConfigSchema),
  /**
   * the store: a SQLite file (default <dataDir>/controller.db; shared by controllers on one machine) or a
   * postgres:// URL (shared by controllers anywhere)
   */
  database: Type.Optional(Str),
  /** the image store's files (default <dataDir>/images): the same shared directory for controllers of one cloud */
  imageDir: Type.Optional(Str),
  /** this controller's id among several (default: kept in <dataDir>/controller-id) */
  controllerId: Type.Optional(Str),
  /** a task whose owner stopped renewing its lease this long is taken over */
  taskLeaseSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** PEM files for the agent RPC: the agents' CA, and this controller's client certificate + key (mutual TLS, `novalet pki`) */
  agentTls: Type.Optional(Type.Object({ ca: Type.Optional(Str), cert: Type.Optional(Str), key: Type.Optional(Str) }, { additionalProperties: false })),
  /** a policy file (Nova's policy.yaml form, or JSON) over Nova's default rules */
  policyFile: Type.Optional(Str),
  /** tokens per user: at once and per minute (default 50 and 300; perMinute 0 = no limit) */
  tokenIssueLimit: Type.Optional(Type.Object({ burst: Type.Integer({ minimum: 1 }), perMinute: Type.Number({ minimum: 0 }) }, { additionalProperties: false })),
  /** Nova's allow_resize_to_same_host (false) */
  allowResizeToSameHost: Type.Optional(Type.Boolean()),
  /** Nova's resize_confirm_window: VERIFY_RESIZE confirmed automatically after this (0 = never, the default) */
  resizeConfirmWindowSeconds: Type.Optional(Seconds),
  volumes: Type.Optional(VolumesSchema),
  /** nova.conf's [libvirt] live_migration_* for every live migration (bandwidthMiBs, maxDowntimeMs, permitPostCopy, ...) */
  /** host failure handling (host-monitor/config.ts): auto (false), delaySeconds (300), maxConcurrentHosts (1), maxServersPerHost (10), maxDownFraction (0.5), monitorIntervalSeconds (5) */
  evacuation: Type.Optional(Type.Object({
    auto: Type.Optional(Type.Boolean()), delaySeconds: Type.Optional(Seconds),
    maxConcurrentHosts: Type.Optional(Type.Integer({ minimum: 1 })), maxServersPerHost: Type.Optional(Type.Integer({ minimum: 1 })),
    maxDownFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })), monitorIntervalSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  }, { additionalProperties: false })),
  liveMigration: Type.Optional(Type.Partial(Type.Pick(OperationParams.live_migrate, [...LIVE_MIGRATION_POLICY_KEYS]), { additionalProperties: false })),
}, { additionalProperties: false });
export type ControllerFile = Static<typeof ControllerFileSchema>;
// the file's sections fit the types they are handed to
const fits: [AgentEndpoint[], NetworkDef[], Partial<Omit<SchedulerConfig, 'weighers'>>] = [[] as Static<typeof AgentEndpointSchema>[], [] as Static<typeof NetworkSchema>[], {} as Omit<Static<typeof SchedulerSchema>, 'strategy' | 'weighers'>];

/** the file's scheduler section over the defaults: the strategy picks the weighers' signs, single multipliers override */
export function schedulerConfig(f: Static<typeof SchedulerSchema>): SchedulerConfig {
  const { strategy, weighers, ...rest } = f;
  return { ...DEFAULT_SCHEDULER_CONFIG, ...rest, weighers: { ...(strategy === 'pack' ? PACK : SPREAD), ...weighers } };
}
void fits;

/** reads and checks the controller's config file (identity section included) before anything starts */
export function loadControllerFile(path: string): ControllerFile {
  const file = readConfigFile(ControllerFileSchema, path);
  if (file.identity) checkIdentityRules(file.identity, path, '/identity');
  const bad = file.database !== undefined ? checkStoreLocation(file.database) : null;
  if (bad) throw new ConfigError(`${path}: /database: ${bad}`);
  return file;
}

/** `novalet controller`: the API, scheduler and orchestration for a set of agents. */
export async function controllerCommand(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv);
  if (flags['help']) { console.log(CONTROLLER_USAGE); return; }
  const file: ControllerFile = str(flags, 'config') ? loadControllerFile(str(flags, 'config')!) : {};
  const database = str(flags, 'store') ?? file.database;
  const badStore = database !== undefined ? checkStoreLocation(database) : null;
  if (badStore) throw new ConfigError(`--store: ${badStore}`);
  const dataDir = str(flags, 'data-dir') ?? file.dataDir ?? '/var/lib/novalet/controller';
  const listen = parseListen(str(flags, 'listen') ?? file.listen ?? '0.0.0.0:8774');
  const secretFile = str(flags, 'secret-file') ?? file.secretFile ?? '/etc/novalet/cluster-secret';
  const secret = readFileSync(secretFile, 'utf8').split('\n')[0]!.trim();
  if (secret.length < 16) throw new Error(`${secretFile}: cluster secret missing or shorter than 16 characters`);
  const agents = str(flags, 'agent') ? str(flags, 'agent')!.split(',').map((url) => ({ url })) : file.agents ?? [];
  const log = pino({ level: str(flags, 'log-level') ?? file.logLevel ?? 'info', base: { svc: 'novalet-controller', pid: process.pid } });
  const { networks, reclaimIntervalSeconds, tokenTtlSeconds, region, serviceDownTimeSeconds, taskLeaseSeconds, tokenIssueLimit, runningDeletedTimeoutSeconds, allowResizeToSameHost, resizeConfirmWindowSeconds, shelvedOffloadTime, volumes, liveMigration, imageDir, evacuation } = file;
  const policy = file.policyFile ? loadPolicy(file.policyFile) : undefined;
  const config: Partial<ControllerConfig> = Object.fromEntries(Object.entries({
    networks, reclaimIntervalSeconds, tokenTtlSeconds, region, serviceDownTimeSeconds, taskLeaseSeconds, tokenIssueLimit, runningDeletedTimeoutSeconds,
    allowResizeToSameHost, resizeConfirmWindowSeconds, shelvedOffloadTime, policy, volumes, liveMigration, imageDir, evacuation,
  }).filter(([, v]) => v !== undefined));

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const c = await startControllerProcess({
    dataDir, listenHost: listen.host, listenPort: listen.port, secret, agents, log, config,
    ...(str(flags, 'public-url') ?? file.publicUrl ? { publicUrl: str(flags, 'public-url') ?? file.publicUrl } : {}),
    ...(file.scheduler ? { scheduler: schedulerConfig(file.scheduler) } : {}),
    ...(database ? { databasePath: database } : {}),
    ...(file.agentTls ? { agentTls: file.agentTls } : {}),
    ...(file.controllerId ? { controllerId: file.controllerId } : {}),
    ...(file.identity !== undefined ? { identity: file.identity } : {}),
    ...(file.heartbeatIntervalSeconds ? { heartbeatIntervalMs: file.heartbeatIntervalSeconds * 1000 } : {}),
    passwords: { admin: fileSecret(join(dataDir, 'admin-password')), demo: fileSecret(join(dataDir, 'demo-password')) },
  });
  log.info({ url: c.url, agents: agents.length, store: redactStoreLocation(database ?? join(dataDir, 'controller.db')), recovered: c.recovered }, 'controller ready');
  exitOnSignals(log, 'controller', () => c.close());
}

/** the policy file, or a ConfigError naming the bad rule or line (the process does not start) */
function loadPolicy(file: string): Policy {
  try {
    return loadPolicyFile(file);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}
