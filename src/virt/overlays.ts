/**
 * Naming of the external snapshot overlays snapshotDisks creates: `<disk>.<snapshot name>.overlay.qcow2`
 * next to the disk. The suffix is how commitDisk recognises a disk that still sits on an overlay: a root
 * disk on a cached image has a backing file too, and must never be merged into the cache.
 */
export const OVERLAY_SUFFIX = '.overlay.qcow2';

export function overlayPathFor(diskPath: string, snapshotName: string): string {
  return `${diskPath}.${snapshotName}${OVERLAY_SUFFIX}`;
}

export function isOverlayPath(path: string, snapshotName?: string): boolean {
  return path.endsWith(snapshotName === undefined ? OVERLAY_SUFFIX : `.${snapshotName}${OVERLAY_SUFFIX}`);
}

/** Snapshot names become part of file names: keep them to a safe alphabet. */
export function checkSnapshotName(name: string): string | undefined {
  return /^[A-Za-z0-9_-]{1,64}$/.test(name) ? undefined : `snapshot name '${name}' must be 1-64 letters, digits, '-' or '_'`;
}
