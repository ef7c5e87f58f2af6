/** Controller configuration. Defaults follow Nova's where Nova has one. */
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
}

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
    ...over,
  };
}

/** Where each service lives under the one listener (devstack's layout). */
export const PREFIX = { identity: '/identity', compute: '/compute', image: '/image', network: '/network', volume: '/volume' } as const;
