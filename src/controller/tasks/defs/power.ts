/**
 * Single-host power actions: one agent operation each; the server settles at the power the agent reports.
 * Adding such an action is one line here plus its API route.
 */
import type { OperationKind } from '../../../rpc/protocol/operations.js';
import { RULES, type ActionRule } from '../../compute/states.js';
import { POWER, novaPower } from '../../compute/power.js';
import type { TaskDef } from '../types.js';
import { cancelOthers } from './delete.js';

type PowerKind = Extract<OperationKind, 'start' | 'stop' | 'reboot' | 'pause' | 'unpause' | 'suspend' | 'resume'>;

/** the task a rule's action runs: call `op` on the server's host, then vm_state `vmState` */
function powerTask(kind: string, rule: ActionRule, op: PowerKind, vmState: string, params: Record<string, unknown> = {}): TaskDef {
  return {
    kind, rule, action: rule.instanceAction, event: rule.event, taskState: rule.task,
    steps: [{
      name: op,
      run: async (t) => { await t.save({ power: (await t.call(op, params as never)).power }); },
    }],
    success: (t) => ({ vmState, powerState: novaPower(t.data.power) }),
  };
}

export const POWER_TASKS = {
  start: powerTask('start', RULES.start, 'start', 'active'),
  stop: powerTask('stop', RULES.stop, 'stop', 'stopped'),
  reboot_soft: powerTask('reboot_soft', RULES.rebootSoft, 'reboot', 'active', { hard: false }),
  reboot_hard: powerTask('reboot_hard', RULES.rebootHard, 'reboot', 'active', { hard: true }),
  pause: powerTask('pause', RULES.pause, 'pause', 'paused'),
  unpause: powerTask('unpause', RULES.unpause, 'unpause', 'active'),
  suspend: powerTask('suspend', RULES.suspend, 'suspend', 'suspended'),
  resume: powerTask('resume', RULES.resume, 'resume', 'active'),
  /** restore from the recycle bin: power on, leave soft-delete */
  restore: { ...powerTask('restore', RULES.restore, 'start', 'active'), success: (t) => ({ vmState: 'active', powerState: novaPower(t.data.power), deletedAt: null }) },
} satisfies Record<string, TaskDef>;

/** soft delete (recycle bin): powered off, kept until reclaimed or restored */
export const softDelete: TaskDef = {
  kind: 'soft_delete', action: 'delete', event: 'compute_soft_delete_instance', taskState: 'soft-deleting',
  steps: [cancelOthers, {
    name: 'stop',
    run: async (t) => {
      const s = await t.server();
      if (s.powerState === POWER.SHUTDOWN || !s.host) return t.save({ power: 'shutdown' });
      await t.save({ power: (await t.call('stop', {})).power });
    },
  }],
  success: (t) => ({ vmState: 'soft-delete', powerState: novaPower(t.data.power), deletedAt: new Date().toISOString() }),
};
