/**
 * The one store interface, composed of one repository interface per aggregate (./repos/). Every method is async so
 * that a PostgreSQL implementation (network round trips) can satisfy it later; the SQLite implementation answers
 * synchronously underneath. Only src/store/ talks SQL.
 */
import type { SettingsRepo } from './repos/settings.js';
import type { IdentityRepo } from './repos/identity.js';
import type { FlavorRepo } from './repos/flavors.js';
import type { KeypairRepo } from './repos/keypairs.js';
import type { ImageRepo } from './repos/images.js';
import type { ServerMetadataRepo, ServerRepo } from './repos/servers.js';
import type { InstanceActionRepo } from './repos/instance-actions.js';
import type { HostRepo } from './repos/hosts.js';
import type { FixedIpRepo } from './repos/fixed-ips.js';
import type { QuotaRepo } from './repos/quotas.js';
import type { ClaimRepo } from './repos/claims.js';
import type { TaskRepo } from './repos/tasks.js';
import type { ServerGroupRepo } from './repos/server-groups.js';
import type { VolumeRepo } from './repos/volumes.js';
import type { ClusterLeaseRepo } from './repos/leases.js';
import type { MigrationRepo } from './repos/migrations.js';
import type { NetworkRepo } from './repos/networks.js';
import type { AggregateRepo } from './repos/aggregates.js';

export interface Store extends
  SettingsRepo,
  IdentityRepo,
  FlavorRepo,
  KeypairRepo,
  ImageRepo,
  ServerRepo,
  ServerMetadataRepo,
  InstanceActionRepo,
  HostRepo,
  FixedIpRepo,
  QuotaRepo,
  ClaimRepo,
  TaskRepo,
  ServerGroupRepo,
  VolumeRepo,
  ClusterLeaseRepo,
  MigrationRepo,
  NetworkRepo,
  AggregateRepo {
  close(): Promise<void>;
}
