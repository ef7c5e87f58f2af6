/**
 * live_migrate, on the SOURCE host: peer-to-peer live migration to the destination's libvirtd (which
 * live_migrate_prepare readied), watched by the monitor (../migration/monitor.ts) that records progress, steps up
 * the downtime, switches to post-copy and aborts by Nova's policy. On success the guest runs on the destination and
 * this host forgets the server: DHCP entries and (unless the instances dir is shared) its files are removed, its
 * journal row is 'deleted'. On failure or abort the guest still runs here (unpaused again if force-complete paused
 * it) and the operation ends rolled_back; the controller then calls live_migrate_rollback on the destination.
 */
import { AgentError } from '../../rpc/errors.js';
import { isVirtError, type MigrateRequest } from '../../virt/index.js';
import { MigrationMonitor } from '../migration/monitor.js';
import { dataGiB, policyOf } from '../migration/policy.js';
import { progressView, type RunningMigration } from '../migration/registry.js';
import { unplugNics } from './instance-nics.js';
import { removeAll } from './files.js';
import { localDiskTargets, volumeTargets } from './domain-spec.js';
import { currentPower, recordPower, requirePower } from './helpers.js';
import type { OpExec, OperationDef } from './types.js';

/** how often the monitor's reading is also written to the journal (the controller reads the live one from memory) */
const SAVE_PROGRESS_MS = 5000;

export const liveMigrate: OperationDef<'live_migrate'> = {
  kind: 'live_migrate',
  // draining a host for maintenance is exactly when its guests are moved away
  refusedWhenDrained: false,
  check(s) {
    const srv = requirePower(s, ['running', 'paused'], 'live-migrate');
    if (srv.status !== 'active') throw new AgentError('invalid_state', `cannot live-migrate a server in status ${srv.status}`);
  },
  async run(x) {
    const { hv, paths, config, migrations } = x.deps;
    const uuid = x.op.serverUuid;
    const p = x.params;
    const spec = x.server().spec;
    const policy = policyOf(p);
    const gib = dataGiB(spec, p.blockMigration);
    // Nova: auto-converge only where post-copy is not permitted (post-copy is the better way to converge)
    const autoConverge = policy.permitAutoConverge && !policy.permitPostCopy;
    if (x.data()['wasPaused'] === undefined) x.save({ wasPaused: (await currentPower(x)) === 'paused' });

    x.step('migrate', { destUri: p.destUri, blockMigration: p.blockMigration, sharedInstancePath: p.sharedInstancePath ?? false });
    let lastSaved = 0;
    const entry: RunningMigration = {
      op: x.op, destUri: p.destUri, blockMigration: p.blockMigration, autoConverge,
      monitor: new MigrationMonitor({
        hv, uuid, policy, gib, intervalMs: config.liveMigrationMonitorIntervalMs, log: x.log,
        onSample: (m) => {
          const s = m.stats;
          if (s.dataTotal > 0) x.progress(Math.min(99, 100 - (s.dataRemaining * 100) / s.dataTotal));
          if (Date.now() - lastSaved >= SAVE_PROGRESS_MS) {
            lastSaved = Date.now();
            x.save({ progress: progressView(entry), pausedByUs: m.pausedByUs });
          }
        },
      }),
    };
    const req: MigrateRequest = {
      destUri: p.destUri, blockMigration: p.blockMigration, autoConverge, postCopy: policy.permitPostCopy,
      pauseEmulated: config.liveMigrationEmulated === 'paused',
    };
    if (p.migrateUri) req.migrateUri = p.migrateUri;
    if (p.bandwidthMiBs) req.bandwidthMiBs = p.bandwidthMiBs;
    if (p.nativeTls) req.tls = true;
    if (p.sharedInstancePath) req.sharedStorage = true;
    const volumes = volumeTargets(spec);
    if (volumes.length) {
      // volumes live on storage every host sees: never block-copied (the copy would write the volume onto itself),
      // and libvirt cannot tell that such a directory is shared
      req.sharedStorage = true;
      if (p.blockMigration) req.copyDisks = localDiskTargets(spec);
    }
    // hosts normally share one layout (then the definition goes as it is); a destination with other dirs gets its own paths
    const rewrites = p.destPaths ? ([[paths.instances, p.destPaths.instances], [paths.images, p.destPaths.images]] as [string, string][]).filter(([f, t]) => f !== t) : [];
    if (rewrites.length) req.pathRewrites = rewrites;

    migrations.add(uuid, entry);
    const job = hv.migrate(uuid, req);
    try {
      await Promise.all([entry.monitor.watch(job), job]);
    } catch (err) {
      x.save({ progress: progressView(entry), pausedByUs: entry.monitor.pausedByUs });
      const m = entry.monitor;
      if (m.abortCause && isVirtError(err, 'aborted')) throw Object.assign(new Error(`live migration aborted: ${m.abortReason}`), { code: m.abortCause });
      throw err;
    } finally {
      migrations.remove(uuid);
    }
    const final = { ...progressView(entry), phase: 'succeeded' as const };
    x.save({ progress: final });
    const cleaned = await forgetOnSource(x, p.sharedInstancePath ?? false);
    return {
      destUri: p.destUri, blockMigration: p.blockMigration, postCopy: final.postCopy, autoConverge,
      maxDowntimeMs: final.maxDowntimeMs, elapsedMs: final.elapsedMs, iterations: final.iterations,
      memoryTotal: final.memoryTotal, memoryProcessed: final.memoryProcessed, memoryRemaining: final.memoryRemaining,
      diskTotal: final.diskTotal, diskProcessed: final.diskProcessed, diskRemaining: final.diskRemaining,
      events: final.events, deletedFiles: cleaned,
    };
  },
  async rollback(x) {
    const { hv } = x.deps;
    const uuid = x.op.serverUuid;
    const d = await hv.getDomain(uuid);
    // libvirt is the truth: without the domain here the migration may well have completed; the destination decides
    if (!d) throw new AgentError('invalid_state', 'the guest is no longer on this host: the migration may have completed');
    if (x.data()['pausedByUs'] === true && x.data()['wasPaused'] !== true && d.power === 'paused') {
      x.step('unpause');
      await hv.unpause(uuid);
    }
    await recordPower(x);
  },
};

/**
 * The guest runs on the destination now: drop this host's share of the server (DHCP host entries, port filters, its files
 * unless the instances dir is shared with the destination, the journal row). Returns how many files were deleted.
 */
export async function forgetOnSource(x: OpExec<unknown>, sharedInstancePath: boolean): Promise<number> {
  const { hv } = x.deps;
  const uuid = x.op.serverUuid;
  x.step('cleanup_source', { sharedInstancePath });
  // UNDEFINE_SOURCE removed the definition; a leftover inactive one (an older libvirt, a re-drive) goes too
  const d = await hv.getDomain(uuid);
  if (d && (d.power === 'running' || d.power === 'paused')) throw new AgentError('invalid_state', 'the guest still runs on this host');
  if (d) await hv.undefine(uuid);
  // its DHCP entries and tenant port filters go with it (the tap went with the guest); the DHCP entries' removal
  // is queued, not waited for: the guest runs elsewhere and the server is waiting for its finish
  await unplugNics(x, x.server().spec.nics, { dhcpLater: true });
  const files = sharedInstancePath ? [] : x.server().files;
  await removeAll(files);
  x.updateServer({ status: 'deleted', power: 'nostate', desiredPower: 'nostate', files: [], resizeOld: null });
  return files.length;
}
