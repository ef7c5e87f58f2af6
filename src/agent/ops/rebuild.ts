import { AgentError } from '../../rpc/errors.js';
import { rename, rm } from 'node:fs/promises';
import { GiB } from '../disks/disk-tool.js';
import { buildDomainSpec, serverFiles } from './domain-spec.js';
import { writeConfigDrive } from './instance-disks.js';
import { currentPower, gracefulStop, recordPower, requirePower } from './helpers.js';
import type { OperationDef } from './types.js';

/**
 * rebuild: new root disk from an image, redefine, start if it was running. Whether it was running is
 * checkpointed before the stop, so a re-drive after a crash (guest already stopped) still restarts it.
 * The new overlay is built beside the old one and renamed over it (atomic on one filesystem).
 */
export const rebuild: OperationDef<'rebuild'> = {
  kind: 'rebuild',
  refusedWhenDrained: true,
  check: (s) => {
    const srv = requirePower(s, ['running', 'shutdown', 'paused', 'crashed'], 'rebuild');
    // the root disk is a volume: no overlay here to remake (Nova reimages volumes only from 2.93, through Cinder)
    if (srv.spec.rootVolume) throw new AgentError('invalid_state', 'cannot rebuild a server booted from a volume');
  },
  async run(x) {
    const { hv, images, disks, paths } = x.deps;
    const uuid = x.op.serverUuid;
    const f = serverFiles(paths, uuid);
    if (x.data()['wasRunning'] === undefined) {
      const p = await currentPower(x);
      x.save({ wasRunning: p === 'running' || p === 'paused' });
    }
    const wasRunning = x.data()['wasRunning'] === true;

    x.step('stop');
    await gracefulStop(x);
    x.progress(20);

    x.step('image');
    const img = await images.ensure(x.params.image, (pct) => x.progress(20 + pct * 0.5));
    const spec = { ...x.server().spec, image: x.params.image };

    x.step('root_disk');
    const next = `${f.root}.rebuild`;
    await rm(next, { force: true });
    await disks.createOverlay(next, img.path, img.format, spec.rootGiB * GiB);
    await rename(next, f.root);
    // a new password reaches the guest as Nova's does on rebuild: the config drive made again (beside, then renamed)
    if (spec.configDrive && x.params.adminPass) {
      await rm(`${f.config}.rebuild`, { force: true });
      await writeConfigDrive(disks, `${f.config}.rebuild`, spec, { adminPass: x.params.adminPass });
      await rename(`${f.config}.rebuild`, f.config);
    }
    x.progress(80);

    x.step('define');
    await hv.define(buildDomainSpec(spec, paths, x.deps, x.deps.networks.resolveNic));
    x.updateServer({ spec, status: 'active' });

    if (wasRunning) {
      x.step('start');
      if ((await currentPower(x)) !== 'running') await hv.start(uuid);
    }
    return { image: x.params.image.id, power: await recordPower(x, wasRunning ? 'running' : 'shutdown') };
  },
};
