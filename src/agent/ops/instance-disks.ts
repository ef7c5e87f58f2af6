/**
 * A server's local files as a spawn makes them, shared by spawn and the live migration destination's prepare (the
 * targets of the block migration's copy: same virtual sizes, same backing content): which files the server owns
 * (journaled before any is created, so a rollback or destroy after a crash finds each), and their creation.
 */
import { mkdir } from 'node:fs/promises';
import type { ServerSpec } from '../../rpc/protocol/server-spec.js';
import { GiB, MiB } from '../disks/disk-tool.js';
import { CONFIG_DRIVE_LABEL, configDriveFiles, makeIso } from '../config-drive/config-drive.js';
import { extraDiskPath, serverFiles } from './domain-spec.js';
import { createOnce } from './files.js';
import type { AgentDeps } from './types.js';

/** the files the server owns on this host (its dir, disks, console log, config drive) */
export function ownedFiles(paths: AgentDeps['paths'], spec: ServerSpec): string[] {
  const f = serverFiles(paths, spec.uuid);
  const owned = [f.dir, f.root, f.consoleLog];
  if ((spec.ephemeralGiB ?? 0) > 0) owned.push(f.ephemeral);
  if ((spec.swapMiB ?? 0) > 0) owned.push(f.swap);
  for (const d of spec.disks ?? []) if (!d.path) owned.push(extraDiskPath(paths, spec.uuid, d));
  if (spec.configDrive) owned.push(f.config);
  return owned;
}

/** root overlay on the cached base image, ephemeral, swap, owned extra disks, config drive; each only once */
export async function createInstanceDisks(deps: Pick<AgentDeps, 'disks' | 'paths'>, spec: ServerSpec, img: { path: string; format: 'qcow2' | 'raw' }): Promise<void> {
  const { disks, paths } = deps;
  const f = serverFiles(paths, spec.uuid);
  await mkdir(f.dir, { recursive: true, mode: 0o755 });
  await createOnce(f.root, (tmp) => disks.createOverlay(tmp, img.path, img.format, spec.rootGiB * GiB));
  if ((spec.ephemeralGiB ?? 0) > 0) await createOnce(f.ephemeral, (tmp) => disks.create(tmp, 'qcow2', (spec.ephemeralGiB ?? 0) * GiB));
  // swap is left unformatted: the guest's cloud-init (or the image) runs mkswap, as with Nova's raw swap
  if ((spec.swapMiB ?? 0) > 0) await createOnce(f.swap, (tmp) => disks.create(tmp, 'qcow2', (spec.swapMiB ?? 0) * MiB));
  for (const d of spec.disks ?? []) {
    if (!d.path) await createOnce(extraDiskPath(paths, spec.uuid, d), (tmp) => disks.create(tmp, d.format ?? 'qcow2', (d.sizeGiB ?? 1) * GiB));
  }
  if (spec.configDrive) {
    const files = configDriveFiles(spec);
    await createOnce(f.config, (tmp) => (disks.makeIso ? disks.makeIso(tmp, CONFIG_DRIVE_LABEL, files) : makeIso(tmp, CONFIG_DRIVE_LABEL, files)));
  }
}
