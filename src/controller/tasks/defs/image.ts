/**
 * createImage: the host writes the root disk to the image store (a local agent straight into the file, a remote
 * one by a signed upload URL); the image row, created 'queued' by the API, goes saving -> active, or killed when
 * the task fails. createBackup (defs/backup.ts) and shelve (defs/shelve.ts) take their snapshot the same way.
 */
import { RULES } from '../../compute/states.js';
import type { StepDef, TaskCtx, TaskDef } from '../types.js';

export interface SnapshotParams { imageId: string }

/**
 * snapshots the server's root disk into image `imageId` on its host (`uploading` runs once the host is done,
 * before the bytes are adopted); `tag` tells this host call apart from the
 * task's others (each host call of one task needs its own, the agent dedupes by request id and tag)
 */
export async function takeSnapshot(t: TaskCtx<unknown>, imageId: string, o: { tag?: string; uploading?: () => Promise<void> } = {}): Promise<void> {
  const store = t.svc.store;
  await store.updateImage(imageId, { status: 'saving' });
  const s = await t.server();
  if (!s.host) throw new Error(`Instance ${s.id} is not on any host.`);
  const r = await t.call('snapshot', { imageId, ...t.svc.hosts.snapshotTarget(s.host, imageId) }, o.tag ? { tag: o.tag } : {});
  await o.uploading?.();
  // the bytes are at images.filePath(imageId) now (a host that wrote none: record the size it reported)
  if (!(await t.svc.images.adoptFile(imageId))) await store.updateImage(imageId, { status: 'active', size: Number(r.sizeBytes ?? 0) });
}

export const snapshotStep: StepDef<SnapshotParams> = { name: 'snapshot', run: (t) => takeSnapshot(t, t.params.imageId) };

export const markImageKilled = async (t: TaskCtx<SnapshotParams>): Promise<void> => { await t.svc.store.updateImage(t.params.imageId, { status: 'killed' }); };

export const snapshot: TaskDef<SnapshotParams> = {
  kind: 'snapshot', rule: RULES.createImage, action: RULES.createImage.instanceAction, event: RULES.createImage.event,
  taskState: RULES.createImage.task,
  steps: [snapshotStep],
  success: () => ({}),
  undo: markImageKilled,
};
