import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { LogLevel, readConfigFile } from '../common/config-file.js';

/**
 * Agent configuration. Time-outs default to Nova's where Nova has one (rules of the house):
 *   shutdown_timeout = 60 s, SHUTDOWN_RETRY_INTERVAL = 10 s ([DEFAULT] / nova.virt.libvirt.driver)
 *   wait_soft_reboot_seconds = 120 ([libvirt])
 *   sync_power_state_interval = 600 s ([DEFAULT])
 */
export interface AgentConfig {
  dataDir: string;
  /** run dir for the ctl socket (root only) */
  runDir: string;
  listenHost: string;
  listenPort: number;
  /** file holding the shared cluster secret (first line) */
  secretFile: string;
  /** secret given directly (tests); wins over secretFile */
  secret?: string;
  /** HTTPS; `clientCa`: mutual TLS, only clients with a certificate from that CA (the controller) are served */
  tls?: { cert: string; key: string; clientCa?: string };
  libvirtUri: string;
  shutdownTimeoutSec: number;
  shutdownRetryIntervalSec: number;
  softRebootTimeoutSec: number;
  /** periodic power sweep (events catch most changes; the sweep catches missed ones) */
  syncPowerStateIntervalSec: number;
  /** periodic reconcile of unfinished operations (on start always) */
  reconcileIntervalSec: number;
  /**
   * While an operation waits for the guest to go off (stop, soft reboot, rebuild, resize): how often it
   * re-reads the domain in case a lifecycle event was lost. The event settles the wait; this is only the safety net.
   */
  pollIntervalMs: number;
  /** finished operations (and deleted servers) older than this are pruned from the journal; 0 keeps them forever */
  journalRetentionDays: number;
  /** how often the pruning runs (also once at start) */
  journalPruneIntervalSec: number;
  /** how often the live migration monitor reads the job (Nova: 0.5 s) */
  liveMigrationMonitorIntervalMs: number;
  /**
   * How other hosts' libvirtds reach this one for live migration (Nova's live_migration_scheme and
   * live_migration_inbound_addr): `qemu+<scheme>://<inbound addr>/system`; 'tls' is libvirt TLS with the cluster's CA
   * (src/agent/README.md, "Live migration between hosts"). The address defaults to the host name.
   */
  liveMigrationScheme: 'tls' | 'tcp';
  liveMigrationInboundAddr?: string;
  /**
   * Guests emulated by TCG (hosts without KVM): 'paused' (default) pauses the guest while its memory is copied
   * (no VIR_MIGRATE_LIVE; downtime = RAM / bandwidth), because with QEMU 7.2 TCG guests that wrote memory during a
   * live copy hung or oopsed on the destination (src/agent/README.md, "Live migration of emulated guests"); 'live'
   * migrates them live anyway.
   * KVM guests always migrate live.
   */
  liveMigrationEmulated: 'paused' | 'live';
  logLevel: string;
  /**
   * Tenant networks (issue 12): this host's VXLAN tunnel (underlay) address. Absent: the address the controller
   * reaches the agent on (learned from its requests; reported in the inventory as `tunnelIp`).
   */
  tunnelIp?: string;
  /** flat (provider) networks: Neutron's physical_network name -> an existing bridge on this host */
  physicalNetworks: Record<string, string>;
  /**
   * Fencing lease (fencing/controller-lease.ts): without a controller's heartbeat poll for this long (or since the
   * agent started), new work that would start a guest is refused; running guests keep running. 0 = off.
   */
  controllerLeaseSec: number;
}

export const DEFAULT_CONFIG: AgentConfig = {
  dataDir: '/var/lib/novalet/agent',
  runDir: '/run/novalet',
  listenHost: '0.0.0.0',
  listenPort: 8779,
  secretFile: '/etc/novalet/cluster-secret',
  libvirtUri: 'qemu:///system',
  shutdownTimeoutSec: 60,
  shutdownRetryIntervalSec: 10,
  softRebootTimeoutSec: 120,
  syncPowerStateIntervalSec: 600,
  reconcileIntervalSec: 60,
  pollIntervalMs: 5000,
  journalRetentionDays: 30,
  journalPruneIntervalSec: 3600,
  liveMigrationMonitorIntervalMs: 500,
  liveMigrationScheme: 'tls',
  liveMigrationEmulated: 'paused',
  logLevel: 'info',
  physicalNetworks: {},
  controllerLeaseSec: 0,
};

const Seconds = Type.Number({ minimum: 0 });
/** `novalet agent --config FILE`: any AgentConfig key, no other */
export const AgentConfigFileSchema = Type.Object({
  dataDir: Type.String({ minLength: 1 }),
  runDir: Type.String({ minLength: 1 }),
  listenHost: Type.String({ minLength: 1 }),
  listenPort: Type.Integer({ minimum: 0, maximum: 65535 }),
  secretFile: Type.String({ minLength: 1 }),
  secret: Type.String({ minLength: 16 }),
  tls: Type.Object({ cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }), clientCa: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
  libvirtUri: Type.String({ minLength: 1 }),
  shutdownTimeoutSec: Seconds,
  shutdownRetryIntervalSec: Seconds,
  softRebootTimeoutSec: Seconds,
  syncPowerStateIntervalSec: Seconds,
  reconcileIntervalSec: Seconds,
  pollIntervalMs: Type.Number({ exclusiveMinimum: 0 }),
  journalRetentionDays: Seconds,
  journalPruneIntervalSec: Seconds,
  liveMigrationMonitorIntervalMs: Type.Number({ exclusiveMinimum: 0 }),
  liveMigrationScheme: Type.Union([Type.Literal('tls'), Type.Literal('tcp')]),
  liveMigrationEmulated: Type.Union([Type.Literal('paused'), Type.Literal('live')]),
  liveMigrationInboundAddr: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' }),
  logLevel: LogLevel,
  tunnelIp: Type.String({ pattern: '^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$' }),
  physicalNetworks: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Type.String({ pattern: '^[A-Za-z0-9_.-]{1,15}$' })),
  controllerLeaseSec: Seconds,
}, { additionalProperties: false });
// the file's keys are exactly AgentConfig's and its values fit: a key added to one and not the other fails to compile
type FileConfig = Static<typeof AgentConfigFileSchema>;
const sameKeys: Record<Exclude<keyof AgentConfig, keyof FileConfig> | Exclude<keyof FileConfig, keyof AgentConfig>, never> = {};
const fits: FileConfig extends AgentConfig ? typeof sameKeys : never = sameKeys;
void fits;

/** Reads a JSON config file (keys as in AgentConfig, checked) over the defaults, then explicit overrides. */
export function loadConfig(file: string | undefined, overrides: Partial<AgentConfig> = {}): AgentConfig {
  let fromFile: Partial<AgentConfig> = {};
  if (file) fromFile = readConfigFile(Type.Partial(AgentConfigFileSchema), file);
  const cfg = { ...DEFAULT_CONFIG, ...fromFile };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  return cfg;
}

export function readSecret(cfg: AgentConfig): string {
  const s = cfg.secret ?? readFileSync(cfg.secretFile, 'utf8').split('\n')[0]?.trim();
  if (!s || s.length < 16) throw new Error('cluster secret missing or shorter than 16 characters');
  return s;
}

/** Where the agent keeps things inside its data dir. */
export interface AgentPaths {
  journal: string;
  instances: string;
  images: string;
  /** per tenant network: its dnsmasq's config, hosts and options files and pid file */
  networks: string;
  instanceDir(uuid: string): string;
}

export function agentPaths(dataDir: string): AgentPaths {
  return {
    journal: join(dataDir, 'journal.sqlite'),
    instances: join(dataDir, 'instances'),
    images: join(dataDir, 'images'),
    networks: join(dataDir, 'networks'),
    instanceDir: (uuid) => join(dataDir, 'instances', uuid),
  };
}
