/**
 * The DESTINATION side of a live migration (Nova's pre_live_migration / post_live_migration_at_destination /
 * rollback_live_migration_at_destination):
 *  - live_migrate_prepare: the server enters this host's journal as 'migrating' (so the reconciler and power sync
 *    know the incoming domain), its images are fetched into the cache (the overlay's base, kernel / ramdisk), its
 *    disks pre-created for a block migration (root overlay on the cached base at the same size, blank owned disks,
 *    the config drive copied from the source byte for byte), its DHCP host entries started (finish waits for them). Answers where the source should migrate to.
 *  - live_migrate_finish: the guest arrived (libvirt says it runs here): the server is 'active' with libvirt's power.
 *  - live_migrate_rollback: the migration failed: undo prepare. Refused while the guest runs here (libvirt is the
 *    truth: then the migration completed and finish is the answer).
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { AgentError } from '../../rpc/errors.js';
import { plugNics, unplugNics } from './instance-nics.js';
import { addDhcpEntries, dhcpEntries } from '../network/dhcp-hosts.js';
import type { AgentConfig } from '../config.js';
import { bootImages, serverFiles } from './domain-spec.js';
import { createOnce, removeAll } from './files.js';
import { createInstanceDisks, defineCephSecrets, ownedFiles, rootImage, specVolumes } from './instance-disks.js';
import { powerOf, recordPower, requireStatus } from './helpers.js';
import { sourceAgent } from './source-agent.js';
import type { OpExec, OperationDef } from './types.js';

/** libvirt URI other hosts' libvirtds use to reach this one, and QEMU's data channel (Nova's inbound_addr) */
export function inboundUris(config: AgentConfig): { destUri: string; migrateUri?: string } {
  const addr = config.liveMigrationInboundAddr ?? hostname();
  const out: { destUri: string; migrateUri?: string } = { destUri: `qemu+${config.liveMigrationScheme}://${addr}/system` };
  if (config.liveMigrationInboundAddr) out.migrateUri = `tcp://${addr}`;
  return out;
}

/** DHCP entries that prepare started and finish (or rollback) waits for, per agent (its deps) by server; gone with the agent */
const dhcpStarted = new WeakMap<object, Map<string, Promise<void>>>();
function dhcpPendingOf(x: OpExec<unknown>): Map<string, Promise<void>> {
  let m = dhcpStarted.get(x.deps);
  if (!m) dhcpStarted.set(x.deps, m = new Map());
  return m;
}

/** the server's DHCP entries are in: prepare's, or (after a restart of the agent, or a failure) added now */
async function dhcpIn(x: OpExec<unknown>): Promise<void> {
  const uuid = x.op.serverUuid;
  const dhcpPending = dhcpPendingOf(x);
  const pending = dhcpPending.get(uuid);
  dhcpPending.delete(uuid);
  const ok = pending ? await pending.then(() => true, () => false) : false;
  if (!ok) await addDhcpEntries(x.deps.hv, dhcpEntries(x.server().spec.nics));
}

/** The files a server owns on a host (as spawn lists them). */
export const liveMigratePrepare: OperationDef<'live_migrate_prepare'> = {
  kind: 'live_migrate_prepare',
  createsServer: true,
  refusedWhenDrained: true,
  check(server, params) {
    if (server && server.status !== 'deleted') throw new AgentError('invalid_state', 'the server is already on this host');
    if (!params.blockMigration && !params.sharedInstancePath) {
      throw new AgentError('invalid_state', 'the instances dir is not shared with the source: a block migration is needed for the local disks');
    }
  },
  async run(x) {
    const { images, journal, paths, config } = x.deps;
    const spec = x.params.spec;
    const shared = x.params.sharedInstancePath ?? false;
    x.updateServer({ status: 'migrating', power: 'nostate' });

    // the base is needed even on shared instance storage: the overlay's backing file is in this host's cache
    x.step('image');
    const img = await rootImage(images, spec, (pct) => x.progress(pct * 0.6));
    for (const ref of bootImages(spec)) await images.ensure(ref);
    x.progress(60);

    x.step('disks', { sharedInstancePath: shared });
    journal.addFiles(spec.uuid, ownedFiles(x.deps.paths, spec));
    if (!shared) {
      // the running guest has its config drive mounted and QEMU does not copy read-only disks: it must be the
      // source's, byte for byte (one made again differs: timestamps, the admin password it carried), as Nova copies
      // disk.config. A guest that read a made-again drive after arriving has crashed in its ISO9660 code.
      if (spec.configDrive && x.params.sourceUrl) {
        const source = sourceAgent(config, x.params.sourceUrl);
        const f = serverFiles(paths, spec.uuid);
        await mkdir(f.dir, { recursive: true, mode: 0o755 });
        await createOnce(f.config, async (tmp) => { await source.downloadInstanceFile(spec.uuid, basename(f.config), tmp); }).catch((err: unknown) => {
          throw new AgentError('internal', `the config drive of ${spec.uuid} could not be copied from the source: ${(err as Error).message}`);
        });
      }
      // the targets of the block migration's NBD copy: same virtual size as on the source, same backing content
      await createInstanceDisks(x.deps, spec, img);
    }
    x.progress(85);

    await defineCephSecrets(x.deps.hv, specVolumes(spec));
    // the DHCP entries go in while the memory is copied (finish waits for them): the guest renews its lease
    // only after it arrived
    const { dhcp } = await plugNics(x, spec.nics, { dhcpLater: true });
    dhcpPendingOf(x).set(spec.uuid, dhcp);
    dhcp.then(() => undefined, (err: unknown) => x.log.warn({ err }, 'adding DHCP host entries failed; finish adds them again'));
    return { ...inboundUris(config), paths: { instances: paths.instances, images: paths.images }, sharedInstancePath: shared };
  },
  async rollback(x) {
    await undoPrepare(x);
  },
};

export const liveMigrateFinish: OperationDef<'live_migrate_finish'> = {
  kind: 'live_migrate_finish',
  refusedWhenDrained: false,
  check: (s) => { requireStatus(s, ['migrating', 'active'], 'finish the live migration of'); },
  async run(x) {
    const power = powerOf(await x.deps.hv.getDomain(x.op.serverUuid));
    if (power !== 'running' && power !== 'paused') {
      throw new AgentError('invalid_state', `the guest has not arrived on this host (power ${power})`);
    }
    await dhcpIn(x);
    x.step('activate');
    x.updateServer({ status: 'active' });
    return { power: await recordPower(x, power) };
  },
};

export const liveMigrateRollback: OperationDef<'live_migrate_rollback'> = {
  kind: 'live_migrate_rollback',
  refusedWhenDrained: false,
  check: (s) => { requireStatus(s, ['migrating'], 'roll back the live migration of'); },
  async run(x) {
    const removed = await undoPrepare(x);
    return { deletedFiles: removed };
  },
};

/** Undoes live_migrate_prepare unless the guest runs here; returns how many files were deleted. */
async function undoPrepare(x: OpExec<unknown>): Promise<number> {
  const { hv, journal } = x.deps;
  const uuid = x.op.serverUuid;
  const d = await hv.getDomain(uuid);
  const power = powerOf(d);
  if (power === 'running' || power === 'paused') {
    throw new AgentError('invalid_state', 'the guest runs on this host: the migration completed (live_migrate_finish)');
  }
  if (d) {
    x.step('undefine');
    await hv.undefine(uuid);
  }
  const prepare = journal.listOperations(uuid, 50).find((o) => o.kind === 'live_migrate_prepare');
  const shared = (prepare?.params as { sharedInstancePath?: boolean } | undefined)?.sharedInstancePath === true;
  const spec = x.server().spec;
  // prepare's DHCP entries settle before they are removed
  await dhcpPendingOf(x).get(uuid)?.catch(() => undefined);
  dhcpPendingOf(x).delete(uuid);
  x.step('undo_prepare', { sharedInstancePath: shared });
  await unplugNics(x, spec.nics);
  // on shared storage the files are the source's, where the guest still runs
  const files = shared ? [] : x.server().files;
  await removeAll(files);
  x.updateServer({ status: 'deleted', power: 'nostate', desiredPower: 'nostate', files: [] });
  return files.length;
}
