import { AgentError } from '../../rpc/errors.js';
import { decodeUserData } from '../config-drive/config-drive.js';
import { bootImages, buildDomainSpec, CONFIG_DRIVE_TARGET } from './domain-spec.js';
import { removeAll } from './files.js';
import { createInstanceDisks, defineCephSecrets, ownedFiles, rootImage, specVolumes } from './instance-disks.js';
import { recordPower } from './helpers.js';
import { plugNics, unplugNics } from './instance-nics.js';
import type { OperationDef } from './types.js';

/**
 * spawn: image (and kernel / ramdisk images) into the cache -> disks (qcow2 overlay on the cached base, ephemeral, swap, owned extra
 * disks, config drive) -> DHCP host entries of NICs with a fixed ip -> define -> start. Files are journaled before they are created, so a rollback (or destroy)
 * after a crash finds every one of them.
 */
export const spawn: OperationDef<'spawn'> = {
  kind: 'spawn',
  createsServer: true,
  refusedWhenDrained: true,
  check(server, params) {
    if (server && server.status !== 'deleted') throw new AgentError('invalid_state', 'server already exists on this host');
    if (!params.spec.image && !params.spec.rootVolume) throw new AgentError('bad_request', 'give an image or a root volume');
    for (const d of params.spec.disks ?? []) {
      if (!d.path && !d.sizeGiB) throw new AgentError('bad_request', `disk ${d.target}: give a path or a sizeGiB`);
      if (params.spec.configDrive && d.target === CONFIG_DRIVE_TARGET) throw new AgentError('bad_request', `target ${d.target} is the config drive's`);
    }
    try {
      decodeUserData(params.spec);
    } catch (err) {
      throw new AgentError('bad_request', (err as Error).message);
    }
  },
  async run(x) {
    const { hv, images, journal, paths } = x.deps;
    const spec = x.params.spec;

    x.step('image');
    const img = await rootImage(images, spec, (pct) => x.progress(pct * 0.6));
    for (const ref of bootImages(spec)) await images.ensure(ref);
    x.progress(60);

    x.step('disks');
    journal.addFiles(spec.uuid, ownedFiles(paths, spec));
    await createInstanceDisks(x.deps, spec, img, x.params.adminPass ? { adminPass: x.params.adminPass } : {});
    x.progress(75);

    await plugNics(x, spec.nics);

    await defineCephSecrets(hv, specVolumes(spec));
    x.step('define');
    await hv.define(buildDomainSpec(spec, paths, x.deps, x.deps.networks.resolveNic));
    x.progress(85);

    x.step('start');
    const dom = await hv.getDomain(spec.uuid);
    if (dom?.power !== 'running') await hv.start(spec.uuid);
    x.updateServer({ status: 'active' });
    const power = await recordPower(x, 'running');
    return { power };
  },
  async rollback(x) {
    const { hv } = x.deps;
    const uuid = x.op.serverUuid;
    // only reached from a failed run in this process (or a crash before 'define'): the guest never ran for
    // the user, so removing it is the rollback, not a kill of a known guest
    if (await hv.getDomain(uuid)) {
      await hv.destroy(uuid);
      await hv.undefine(uuid);
    }
    await removeAll(x.server().files);
    x.updateServer({ status: 'error', files: [], power: 'nostate', desiredPower: 'nostate' });
    await unplugNics(x, x.server().spec.nics);
  },
};
