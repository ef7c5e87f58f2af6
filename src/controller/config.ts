/** Controller configuration. Defaults follow Nova's where Nova has one. */
import type { Policy } from './policy/policy.js';
import type { ParamsOf } from '../rpc/protocol/operations.js';
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './scheduler/scheduler.js';
import type { VolumeConfig } from './volumes/config.js';
import type { EvacuationConfig } from './host-monitor/config.js';

export interface ControllerConfig {
  /** public base URL of this controller, e.g. http://127.0.0.1:8774 (the catalog is built from it) */
  publicUrl: string;
  region: string;
  /** token lifetime in seconds (Keystone's default is 3600) */
  tokenTtlSeconds: number;
  /** soft-delete recycle bin: 0 = delete immediately (Nova's reclaim_instance_interval) */
  reclaimIntervalSeconds: number;
  /** directory for image files */
  imageDir: string;
  /** default quotas (Nova's defaults) */
  quotaDefaults: { instances: number; cores: number; ram: number; key_pairs: number; metadata_items: number; server_groups: number; server_group_members: number };
  /** availability zone reported for servers and hosts */
  defaultAvailabilityZone: string;
  /** max items per list page (Nova's max_limit) */
  maxLimit: number;
  /** a host whose last heartbeat is older than this is down (Nova's service_down_time) */
  serviceDownTimeSeconds: number;
  /**
   * Networks servers can attach to (read-only until the networking issue): the all-in-one's NAT bridge. Listed by
   * the minimal network API so that `--network NAME` resolves; the first one is used for "auto" or no networks.
   */
  networks: NetworkDef[];
  /** allocation ratios and reserved memory (Nova's scheduler/placement options) */
  scheduler: SchedulerConfig;
  /** hosts a build is tried on before it fails (Nova's [scheduler] max_attempts) */
  schedulerMaxAttempts: number;
  /**
   * A task's owner renews its lease every third of this; a task whose lease ran out (its controller died) is
   * taken over by another controller (or by the same one when it restarts, at once).
   */
  taskLeaseSeconds: number;
  /**
   * A guest an agent still runs for a server deleted longer ago than this is destroyed by the heartbeat (Nova's
   * running_deleted_instance_action = reap with running_deleted_instance_timeout); sooner, it is only reported.
   */
  runningDeletedTimeoutSeconds: number;
  /** block storage: backends and quotas (volumes/config.ts; defaults: file volumes next to the images) */
  volumes?: VolumeConfig;
  /** tokens a user may be issued at once and per minute (perMinute 0 = no limit); more answer 429 with Retry-After */
  tokenIssueLimit: { burst: number; perMinute: number };
  /** the policy file's rules over Nova's defaults (controller/policy/); absent: the defaults */
  policy?: Policy;
  /** a resize may stay on the server's own host (Nova's allow_resize_to_same_host, default false) */
  allowResizeToSameHost: boolean;
  /**
   * a resize or cold migration left in VERIFY_RESIZE longer than this is confirmed automatically (Nova's
   * resize_confirm_window; 0 = never, Nova's default)
   */
  resizeConfirmWindowSeconds: number;
  /**
   * Nova's shelved_offload_time: a shelved server is offloaded from its host (SHELVED_OFFLOADED, the host's
   * resources freed) at once when 0, after this many seconds when positive, never when -1.
   */
  shelvedOffloadTime: number;
  /**
   * what every live migration asks of its source's monitor (nova.conf's [libvirt] live_migration_bandwidth,
   * _downtime*, _completion_timeout, _timeout_action, _permit_post_copy, _permit_auto_converge); absent: the agent's
   * defaults, which are Nova's (src/agent/README.md "Live migration")
   */
  liveMigration: LiveMigrationPolicy;
  /** host failure: the monitor's round and automatic evacuation (host-monitor/config.ts; absent: the defaults, auto off) */
  evacuation?: Partial<EvacuationConfig>;
}

export const LIVE_MIGRATION_POLICY_KEYS = [
  'bandwidthMiBs', 'nativeTls', 'maxDowntimeMs', 'downtimeSteps', 'downtimeDelaySec', 'completionTimeoutPerGiBSec',
  'timeoutAction', 'progressTimeoutSec', 'permitPostCopy', 'permitAutoConverge', 'postCopyAfterIterations',
] as const;
export type LiveMigrationPolicy = Partial<Pick<ParamsOf<'live_migrate'>, (typeof LIVE_MIGRATION_POLICY_KEYS)[number]>>;

export interface NetworkDef {
  id: string; name: string; cidr: string; gateway: string; subnetId: string;
  /** NICs plug into this Linux bridge directly ... */
  bridge?: string;
  /** ... or into this libvirt network on each host (default: the network's name); its DHCP hands out the fixed IPs */
  libvirtNetwork?: string;
}

export const DEFAULT_NETWORK: NetworkDef = {
  id: '3cb9bc59-5699-4588-a4b1-b87f96708bc6', name: 'private', cidr: '10.0.0.0/24', gateway: '10.0.0.1',
  subnetId: 'f9f8a8c1-5b0e-4bd2-9a3c-6a1d2f0c7e11',
};

export function defaultConfig(over: Partial<ControllerConfig> = {}): ControllerConfig {
  return {
    publicUrl: 'http://127.0.0.1:8774',
    region: 'RegionOne',
    tokenTtlSeconds: 3600,
    reclaimIntervalSeconds: 0,
    imageDir: '/var/lib/novalet/images',
    quotaDefaults: { instances: 10, cores: 20, ram: 51200, key_pairs: 100, metadata_items: 128, server_groups: 10, server_group_members: 10 },
    defaultAvailabilityZone: 'nova',
    maxLimit: 1000,
    serviceDownTimeSeconds: 60,
    networks: [DEFAULT_NETWORK],
    scheduler: DEFAULT_SCHEDULER_CONFIG,
    schedulerMaxAttempts: 3,
    taskLeaseSeconds: 30,
    runningDeletedTimeoutSeconds: 60,
    tokenIssueLimit: { burst: 50, perMinute: 300 },
    allowResizeToSameHost: false,
    resizeConfirmWindowSeconds: 0,
    shelvedOffloadTime: 0,
    liveMigration: {},
    ...over,
  };
}

/** Where each service lives under the one listener (devstack's layout). */
export const PREFIX = { identity: '/identity', compute: '/compute', image: '/image', network: '/network', volume: '/volume' } as const;
