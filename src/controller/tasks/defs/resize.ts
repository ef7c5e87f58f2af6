/**
 * Resize on the server's host (across hosts comes with the many-hosts issue): the claim grows to the new flavor
 * first (refused with "No valid host was found." when the host has no room), then the agent resizes; confirm
 * drops the old flavor, revert brings it back and shrinks the claim again.
 */
import { claimOf } from '../../../store/index.js';
import { RULES } from '../../compute/states.js';
import { novaPower, vmStateFor } from '../../compute/power.js';
import { noValidHost } from '../../errors.js';
import type { FlavorSnapshot } from '../../../store/index.js';
import type { TaskDef } from '../types.js';

export interface ResizeParams { flavor: FlavorSnapshot }

export const resize: TaskDef<ResizeParams> = {
  kind: 'resize', rule: RULES.resize, action: RULES.resize.instanceAction, event: RULES.resize.event, taskState: RULES.resize.task,
  steps: [
    {
      name: 'claim',
      run: async (t) => {
        const s = await t.server();
        await t.save({ oldFlavor: s.flavor });
        if (!s.host) return;
        if (!(await t.svc.store.resizeClaim(s.id, claimOf(t.params.flavor), t.svc.placement.scheduler.limits(s.host)))) throw noValidHost();
      },
    },
    {
      name: 'resize',
      run: async (t) => {
        const f = t.params.flavor;
        await t.save({ power: (await t.call('resize', { vcpus: f.vcpus, memoryMiB: f.ram, rootGiB: f.disk })).power });
      },
    },
  ],
  success: (t) => ({ vmState: 'resized', flavor: t.params.flavor, oldFlavor: t.data.oldFlavor as FlavorSnapshot, powerState: novaPower(t.data.power) }),
  // the host still runs the old flavor: give back the growth
  undo: async (t) => {
    const old = t.data.oldFlavor as FlavorSnapshot | undefined;
    if (old) await t.svc.store.resizeClaim(t.task.serverId, claimOf(old), null);
  },
};

export const confirmResize: TaskDef = {
  kind: 'confirm_resize', rule: RULES.confirmResize, action: RULES.confirmResize.instanceAction, event: RULES.confirmResize.event,
  taskState: RULES.confirmResize.task,
  steps: [{ name: 'resize_confirm', run: async (t) => { await t.call('resize_confirm', {}); } }],
  success: async (t) => ({ vmState: vmStateFor((await t.server()).powerState), oldFlavor: null }),
  failure: { vmState: 'error' },
};

export const revertResize: TaskDef = {
  kind: 'revert_resize', rule: RULES.revertResize, action: RULES.revertResize.instanceAction, event: RULES.revertResize.event,
  taskState: RULES.revertResize.task,
  steps: [
    { name: 'resize_revert', run: async (t) => { await t.save({ power: (await t.call('resize_revert', {})).power }); } },
    {
      name: 'unclaim',
      run: async (t) => {
        const s = await t.server();
        if (s.oldFlavor) await t.svc.store.resizeClaim(s.id, claimOf(s.oldFlavor), null);
      },
    },
  ],
  success: async (t) => {
    const s = await t.server();
    const power = novaPower(t.data.power);
    return { vmState: vmStateFor(power), flavor: s.oldFlavor ?? s.flavor, oldFlavor: null, powerState: power };
  },
  failure: { vmState: 'error' },
};
