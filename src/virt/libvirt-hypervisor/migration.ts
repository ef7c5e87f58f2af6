/**
 * Live migration over the binding: virDomainMigrateToURI3 peer-to-peer with Nova's flags, and the job
 * statistics the agent's monitor reads while it runs (the migration blocks its own thread in the addon, so
 * getJobStats / abortJob / migrateSetMaxDowntime keep answering meanwhile).
 */
import { DomainJobType, DomainMigrateFlags, DomainXMLFlags, type LibvirtDomain, type MigrateParams } from '../libvirt/index.js';
import { parseDisks, parseDomainXml } from '../domain-xml/index.js';
import { rewritePaths, type MigrateRequest, type MigrationStats } from '../migration.js';

/** Nova's live migration flags (nova.conf's defaults since Pike: no tunnelling, p2p, persistent on the target). */
export const NOVA_LIVE_FLAGS = DomainMigrateFlags.LIVE | DomainMigrateFlags.PEER2PEER | DomainMigrateFlags.PERSIST_DEST |
  DomainMigrateFlags.UNDEFINE_SOURCE;

/** Writable local file disks: what a block migration copies (volumes on block devices and read-only disks are not). */
export function localDiskTargets(xml: string): string[] {
  return parseDisks(xml).filter((d) => d.device === 'disk' && !d.readonly && d.sourceType === 'file' && d.path !== '').map((d) => d.target);
}

export async function migrate(dom: LibvirtDomain, req: MigrateRequest): Promise<void> {
  let flags = NOVA_LIVE_FLAGS;
  const migratable = DomainXMLFlags.SECURE | DomainXMLFlags.MIGRATABLE;
  const live = await dom.getXMLDesc(migratable);
  if (req.pauseEmulated && parseDomainXml(live).type === 'qemu') flags &= ~DomainMigrateFlags.LIVE;
  const params: MigrateParams = {};
  if (req.migrateUri) params.migrateUri = req.migrateUri;
  if (req.bandwidthMiBs) params.bandwidth = req.bandwidthMiBs;
  if (req.blockMigration) {
    const disks = req.copyDisks ?? localDiskTargets(live);
    // without a disk to copy, NON_SHARED_INC would copy every disk (libvirt's default): leave it off
    if (disks.length > 0) {
      flags |= DomainMigrateFlags.NON_SHARED_INC;
      params.migrateDisks = disks;
    }
  }
  if (req.autoConverge) flags |= DomainMigrateFlags.AUTO_CONVERGE;
  if (req.postCopy) flags |= DomainMigrateFlags.POSTCOPY;
  if (req.tls) flags |= DomainMigrateFlags.TLS;
  if (req.sharedStorage) flags |= DomainMigrateFlags.UNSAFE;
  if (req.pathRewrites?.length) {
    params.destXml = rewritePaths(live, req.pathRewrites);
    params.persistXml = rewritePaths(await dom.getXMLDesc(migratable | DomainXMLFlags.INACTIVE), req.pathRewrites);
  }
  await dom.migrateToURI3(req.destUri, params, flags);
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0);

export async function migrationStats(dom: LibvirtDomain): Promise<MigrationStats> {
  const { type, stats } = await dom.getJobStats(0);
  return jobStatsOf(type !== DomainJobType.NONE, stats);
}

/** libvirt's job typed parameters (virDomainGetJobStats, the JOB_COMPLETED event) as MigrationStats */
export function jobStatsOf(active: boolean, s: Record<string, unknown>): MigrationStats {
  const out: MigrationStats = {
    active,
    elapsedMs: num(s['time_elapsed']),
    dataTotal: num(s['data_total']),
    dataProcessed: num(s['data_processed']),
    dataRemaining: num(s['data_remaining']),
    memoryTotal: num(s['memory_total']),
    memoryProcessed: num(s['memory_processed']),
    memoryRemaining: num(s['memory_remaining']),
    memoryDirtyRate: num(s['memory_dirty_rate']) * (num(s['memory_page_size']) || 4096),
    iterations: num(s['memory_iteration']),
    diskTotal: num(s['disk_total']),
    diskProcessed: num(s['disk_processed']),
    diskRemaining: num(s['disk_remaining']),
  };
  if (s['downtime'] !== undefined) out.expectedDowntimeMs = num(s['downtime']);
  return out;
}
