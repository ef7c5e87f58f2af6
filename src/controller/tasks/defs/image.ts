/**
 * createImage: the host writes the root disk to the image store (a local agent straight into the file, a remote
 * one by a signed upload URL); the image row, created 'queued' by the API, goes saving -> active, or killed when
 * the task fails.
 */
import { RULES } from '../../compute/states.js';
import type { TaskDef } from '../types.js';

export interface SnapshotParams { imageId: string }

export const snapshot: TaskDef<SnapshotParams> = {
  kind: 'snapshot', rule: RULES.createImage, action: RULES.createImage.instanceAction, event: RULES.createImage.event,
  taskState: RULES.createImage.task,
  steps: [{
    name: 'snapshot',
    run: async (t) => {
      const { imageId } = t.params;
      const store = t.svc.store;
      await store.updateImage(imageId, { status: 'saving' });
      const s = await t.server();
      if (!s.host) throw new Error(`Instance ${s.id} is not on any host.`);
      const r = await t.call('snapshot', { imageId, ...t.svc.hosts.snapshotTarget(s.host, imageId) });
      // the bytes are at images.filePath(imageId) now (a host that wrote none: record the size it reported)
      if (!(await t.svc.images.adoptFile(imageId))) await store.updateImage(imageId, { status: 'active', size: Number(r.sizeBytes ?? 0) });
    },
  }],
  success: () => ({}),
  undo: async (t) => { await t.svc.store.updateImage(t.params.imageId, { status: 'killed' }); },
};
