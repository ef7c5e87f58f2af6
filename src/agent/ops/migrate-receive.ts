import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../../rpc/errors.js';
import { GiB, MiB } from '../disks/disk-tool.js';
import { plugNics, unplugNics } from './instance-nics.js';
import { bootImages, buildDomainSpec, serverFiles } from './domain-spec.js';
import { createOnce, removeAll } from './files.js';
import { defineCephSecrets, rootImage, specVolumes } from './instance-disks.js';
import { recordPower } from './helpers.js';
import { sourceAgent, sourceError } from './source-agent.js';
import type { OperationDef } from './types.js';

/**
 * migrate_receive, the target's side of a resize or cold migration across hosts: the base image into the cache
 * (as spawn) -> the server's instance files pulled from the source's agent (temp file + rename each, journaled
 * before they are written, so a rollback or destroy finds them) -> the root disk pointed at this host's cached
 * base and grown to the new flavor -> missing ephemeral / swap disks created -> DHCP host entries -> define ->
 * start if the guest ran on the source. Re-driven after a crash it skips every file already in place.
 */
export const migrateReceive: OperationDef<'migrate_receive'> = {
  kind: 'migrate_receive',
  createsServer: true,
  refusedWhenDrained: true,
  check(server) {
    // a move that failed here before and was rolled back (status error, nothing owned) may be tried again
    const leftover = server?.status === 'error' && server.files.length === 0;
    if (server && server.status !== 'deleted' && !leftover) throw new AgentError('invalid_state', 'server already exists on this host');
  },
  async run(x) {
    const { hv, images, disks, journal, paths } = x.deps;
    const spec = x.params.spec;
    const uuid = spec.uuid;
    const f = serverFiles(paths, uuid);

    x.step('image');
    const img = await rootImage(images, spec, (pct) => x.progress(pct * 0.2));
    for (const ref of bootImages(spec)) await images.ensure(ref);

    x.step('list_files');
    const source = sourceAgent(x.deps.config, x.params.sourceUrl);
    let files: Array<{ name: string; sizeBytes: number }>;
    try { files = (await source.instanceFiles(uuid)).files; } catch (err) { throw sourceError(err); }
    if (img && !files.some((g) => g.name === 'disk')) throw new AgentError('invalid_state', `the source has no root disk of ${uuid}`);
    const owned = [f.dir, f.consoleLog, ...files.map((g) => join(f.dir, g.name))];
    if ((spec.ephemeralGiB ?? 0) > 0) owned.push(f.ephemeral);
    if ((spec.swapMiB ?? 0) > 0) owned.push(f.swap);
    journal.addFiles(uuid, owned);
    await mkdir(f.dir, { recursive: true, mode: 0o755 });

    x.step('copy_files', { files: files.map((g) => g.name) });
    const total = files.reduce((n, g) => n + g.sizeBytes, 0) || 1;
    let done = 0;
    for (const g of files) {
      try {
        await createOnce(join(f.dir, g.name), async (tmp) => { await source.downloadInstanceFile(uuid, g.name, tmp); });
      } catch (err) { throw sourceError(err); }
      done += g.sizeBytes;
      x.progress(20 + Math.floor((done / total) * 55));
    }

    x.step('disks');
    // the overlay named the source's cache path of its base image: the same image is in this host's cache
    // a root volume stays where it is (shared storage): nothing of it was copied
    if (img) {
      if (disks.rebase && (await disks.info(f.root)).backingFile) await disks.rebase(f.root, img.path, img.format);
      await disks.resize(f.root, spec.rootGiB * GiB);
    }
    if ((spec.ephemeralGiB ?? 0) > 0 && !existsSync(f.ephemeral)) await createOnce(f.ephemeral, (tmp) => disks.create(tmp, 'qcow2', (spec.ephemeralGiB ?? 0) * GiB));
    if ((spec.swapMiB ?? 0) > 0 && !existsSync(f.swap)) await createOnce(f.swap, (tmp) => disks.create(tmp, 'qcow2', (spec.swapMiB ?? 0) * MiB));
    x.progress(80);

    await plugNics(x, spec.nics);

    await defineCephSecrets(hv, specVolumes(spec));
    x.step('define');
    await hv.define(buildDomainSpec(spec, paths, x.deps, x.deps.networks.resolveNic));
    x.progress(90);

    if (x.params.start) {
      x.step('start');
      const dom = await hv.getDomain(uuid);
      if (dom?.power !== 'running') await hv.start(uuid);
    }
    x.updateServer({ status: 'active' });
    return { power: await recordPower(x, x.params.start ? 'running' : 'shutdown') };
  },
  async rollback(x) {
    const { hv } = x.deps;
    const uuid = x.op.serverUuid;
    // the source still has the server: this copy never ran for the user, removing it is the rollback
    if (await hv.getDomain(uuid)) {
      await hv.destroy(uuid);
      await hv.undefine(uuid);
    }
    await removeAll(x.server().files);
    x.updateServer({ status: 'error', files: [], power: 'nostate', desiredPower: 'nostate' });
    await unplugNics(x, x.server().spec.nics);
  },
};
