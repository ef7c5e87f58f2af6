/** Rebuild: the host rebuilds the root disk from the (new) image the API recorded on the server. */
import { RULES } from '../../compute/states.js';
import { novaPower, vmStateFor } from '../../compute/power.js';
import type { TaskDef } from '../types.js';
import { adminPassOf } from './admin-pass.js';

export const rebuild: TaskDef<{ adminPass?: string }> = {
  kind: 'rebuild', rule: RULES.rebuild, action: RULES.rebuild.instanceAction, event: RULES.rebuild.event, taskState: RULES.rebuild.task,
  steps: [{
    name: 'rebuild',
    run: async (t) => {
      const s = await t.server();
      if (!s.host) throw new Error(`Instance ${s.id} is not on any host.`);
      await t.save({ power: (await t.call('rebuild', { image: await t.svc.specs.imageRef(s.host, s.imageRef), ...adminPassOf(t.params) })).power });
    },
  }],
  success: (t) => {
    const power = novaPower(t.data.power);
    return { vmState: vmStateFor(power), powerState: power, launchedAt: new Date().toISOString() };
  },
  failure: { vmState: 'error' },
};
