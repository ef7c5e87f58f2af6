/**
 * The build's volume steps (block_device_mapping_v2 with destination volume; volumes/boot-volumes.ts): before the
 * spawn, the volumes to make are made (as the server's project) and every mapping's attachment goes to attaching,
 * so the spawn's spec carries them (the root one as the disk the host boots); after the spawn they are attached on
 * the server's host (in-use) and listed on the server's row. A failed build releases them (volumes marked
 * delete_on_termination are deleted, as Nova's cleanup of a failed build does).
 */
import type { RequestContext } from '../../context.js';
import { parseBlockDevices } from '../../compute/block-devices.js';
import { chooseDevices } from '../../volumes/boot-volumes.js';
import type { StepDef, TaskCtx } from '../types.js';

/** the server's project acting through the build (the volume service checks quotas and image access with it) */
function ownerCtx(t: TaskCtx<unknown>): RequestContext {
  return { requestId: t.task.requestId, userId: t.task.userId, userName: '', projectId: t.task.projectId, projectName: '', domainId: 'default', roles: ['member'], tokenId: '' };
}

export const prepareVolumes: StepDef<unknown> = {
  name: 'volumes',
  run: async (t) => {
    const s = await t.server();
    const { volumes } = parseBlockDevices(s.blockDeviceMapping as Array<Record<string, unknown>>, s.imageRef);
    if (!volumes.length) return;
    const boot = t.svc.bootVolumes;
    if (!boot) throw new Error('this controller has no volume service');
    const devices = chooseDevices(volumes, { ephemeral: s.flavor.ephemeral > 0, swap: s.flavor.swap > 0 });
    await boot.prepare(ownerCtx(t), s.id, volumes, devices, (t.data.madeVolumes as Record<string, string> | undefined) ?? {}, (m) => t.save({ madeVolumes: m }));
  },
};

export const attachBuiltVolumes: StepDef<unknown> = {
  name: 'attach_volumes',
  run: async (t) => {
    const boot = t.svc.bootVolumes;
    if (!boot) return;
    await t.save({ volumesAttached: await boot.finish(t.task.serverId, t.data.host as string) });
  },
};
