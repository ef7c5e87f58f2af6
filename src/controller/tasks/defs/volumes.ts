/**
 * os-volume_attachments: attach and detach a volume as tasks of the server. The attachment record was reserved by
 * the API (volumes/attachments.ts); the task moves it through attaching -> attached (or detaching -> gone) around
 * the host's attach_disk / detach_disk, and the server's row lists its attached volumes at the end (raising its
 * revision, so views follow). A failed attach gives the volume back (available); a failed detach leaves it attached.
 */
import type { AttachedVolume } from '../../../store/index.js';
import type { ActionRule } from '../../compute/states.js';
import type { TaskCtx, TaskDef } from '../types.js';

export interface VolumeTaskParams {
  attachmentId: string;
  volumeId: string;
  /** /dev/vdX */
  device: string;
  tag?: string | null;
  deleteOnTermination?: boolean;
}

/**
 * Nova: lock-checked; active, paused or stopped servers (the host changes the live domain if it runs, and always the
 * persistent definition). Not suspended: a managed-save image must come back with the devices it was saved with.
 */
export const VOLUME_RULES = {
  attach: { name: 'attach_volume', instanceAction: 'attach_volume', vmStates: ['active', 'paused', 'stopped'], taskStates: [null], lock: true, task: 'attaching_volume', event: 'compute_attach_volume' },
  detach: { name: 'detach_volume', instanceAction: 'detach_volume', vmStates: ['active', 'paused', 'stopped'], taskStates: [null], lock: true, task: 'detaching_volume', event: 'compute_detach_volume' },
} satisfies Record<string, ActionRule>;

const target = (device: string) => device.replace(/^\/dev\//, '');

function attachments(t: TaskCtx<VolumeTaskParams>) {
  const v = t.svc.volumes;
  if (!v) throw new Error('this controller has no volume service');
  return v;
}

export const attachVolume: TaskDef<VolumeTaskParams> = {
  kind: 'attach_volume', rule: VOLUME_RULES.attach, action: VOLUME_RULES.attach.instanceAction, event: VOLUME_RULES.attach.event,
  taskState: VOLUME_RULES.attach.task,
  steps: [{
    name: 'attach',
    run: async (t) => {
      const va = attachments(t);
      const p = t.params;
      if (!(await va.begin(p.attachmentId))) throw new Error(`attachment ${p.attachmentId} of volume ${p.volumeId} is gone`);
      const { source } = await va.source(p.volumeId);
      await t.call('attach_disk', { disk: { target: target(p.device), path: source.path, format: source.format, bus: 'virtio', volumeId: p.volumeId, sourceType: source.sourceType, ...(source.rbd ? { rbd: source.rbd } : {}) } });
      await va.finish(p.attachmentId, { device: p.device, hostName: (await t.server()).host });
    },
  }],
  success: async (t) => {
    const p = t.params;
    const entry: AttachedVolume = { volumeId: p.volumeId, attachmentId: p.attachmentId, device: p.device, tag: p.tag ?? null, deleteOnTermination: p.deleteOnTermination ?? false };
    return { volumesAttached: [...((await t.server()).volumesAttached ?? []).filter((v) => v.volumeId !== p.volumeId), entry] };
  },
  undo: async (t) => { await attachments(t).remove(t.params.attachmentId); },
};

export const detachVolume: TaskDef<VolumeTaskParams> = {
  kind: 'detach_volume', rule: VOLUME_RULES.detach, action: VOLUME_RULES.detach.instanceAction, event: VOLUME_RULES.detach.event,
  taskState: VOLUME_RULES.detach.task,
  steps: [{
    name: 'detach',
    run: async (t) => {
      const p = t.params;
      await t.call('detach_disk', { target: target(p.device) });
      await attachments(t).remove(p.attachmentId);
    },
  }],
  success: async (t) => ({ volumesAttached: ((await t.server()).volumesAttached ?? []).filter((v) => v.volumeId !== t.params.volumeId) }),
  undo: async (t) => { await attachments(t).abortDetach(t.params.attachmentId); },
};
