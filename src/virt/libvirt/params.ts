// Typed option objects mapped to libvirt typed parameters (names from libvirt-domain.h).
import type { TypedParamTuple } from './native.js';

/** virDomainMigrateToURI3 parameters (VIR_MIGRATE_PARAM_*). */
export interface MigrateParams {
  /** VIR_MIGRATE_PARAM_URI 'migrate_uri': hypervisor data channel, e.g. 'tcp://10.0.0.2' */
  migrateUri?: string;
  /** 'destination_name' */
  destName?: string;
  /** 'destination_xml': domain XML used on the destination */
  destXml?: string;
  /** 'persistent_xml': persistent config on the destination (with PERSIST_DEST) */
  persistXml?: string;
  /** 'bandwidth' in MiB/s */
  bandwidth?: number | bigint;
  /** 'bandwidth.postcopy' in MiB/s */
  bandwidthPostcopy?: number | bigint;
  /** 'graphics_uri' */
  graphicsUri?: string;
  /** 'listen_address' on the destination for incoming migration */
  listenAddress?: string;
  /** 'migrate_disks': disk targets to copy with NON_SHARED_DISK/INC */
  migrateDisks?: string[];
  /** 'disks_port' for the NBD server */
  disksPort?: number;
  /** 'disks_uri' for the NBD server */
  disksUri?: string;
  /** 'compression' methods, e.g. ['xbzrle', 'mt'] */
  compression?: string[];
  compressionMtLevel?: number;
  compressionMtThreads?: number;
  compressionMtDThreads?: number;
  compressionXbzrleCache?: number | bigint;
  autoConvergeInitial?: number;
  autoConvergeIncrement?: number;
  /** 'parallel.connections' (with VIR_MIGRATE_PARALLEL) */
  parallelConnections?: number;
  /** 'tls.destination' */
  tlsDestination?: string;
}

const MIGRATE_SCALARS: { [K in keyof MigrateParams]-?: [string, TypedParamTuple[1]] } = {
  migrateUri: ['migrate_uri', 'string'],
  destName: ['destination_name', 'string'],
  destXml: ['destination_xml', 'string'],
  persistXml: ['persistent_xml', 'string'],
  bandwidth: ['bandwidth', 'ullong'],
  bandwidthPostcopy: ['bandwidth.postcopy', 'ullong'],
  graphicsUri: ['graphics_uri', 'string'],
  listenAddress: ['listen_address', 'string'],
  migrateDisks: ['migrate_disks', 'string'],
  disksPort: ['disks_port', 'int'],
  disksUri: ['disks_uri', 'string'],
  compression: ['compression', 'string'],
  compressionMtLevel: ['compression.mt.level', 'int'],
  compressionMtThreads: ['compression.mt.threads', 'int'],
  compressionMtDThreads: ['compression.mt.dthreads', 'int'],
  compressionXbzrleCache: ['compression.xbzrle.cache', 'ullong'],
  autoConvergeInitial: ['auto_converge.initial', 'int'],
  autoConvergeIncrement: ['auto_converge.increment', 'int'],
  parallelConnections: ['parallel.connections', 'int'],
  tlsDestination: ['tls.destination', 'string'],
};

export function migrateParamsToTuples(p: MigrateParams): TypedParamTuple[] {
  const out: TypedParamTuple[] = [];
  for (const key of Object.keys(MIGRATE_SCALARS) as (keyof MigrateParams)[]) {
    const value = p[key];
    if (value === undefined) continue;
    const [name, type] = MIGRATE_SCALARS[key];
    // List parameters are passed as the same name repeated, as virTypedParamsAddStringList does.
    if (Array.isArray(value)) for (const v of value) out.push([name, type, v]);
    else out.push([name, type, value]);
  }
  return out;
}

/** virDomainBlockCopy parameters (VIR_DOMAIN_BLOCK_COPY_*). */
export interface BlockCopyParams {
  /** 'bandwidth' in bytes/s */
  bandwidth?: number | bigint;
  /** 'granularity' in bytes (power of two) */
  granularity?: number;
  /** 'buf-size' in bytes */
  bufSize?: number | bigint;
}

export function blockCopyParamsToTuples(p: BlockCopyParams): TypedParamTuple[] {
  const out: TypedParamTuple[] = [];
  if (p.bandwidth !== undefined) out.push(['bandwidth', 'ullong', p.bandwidth]);
  if (p.granularity !== undefined) out.push(['granularity', 'uint', p.granularity]);
  if (p.bufSize !== undefined) out.push(['buf-size', 'ullong', p.bufSize]);
  return out;
}
