/**
 * A server's local files as a spawn makes them, shared by spawn and the live migration destination's prepare (the
 * targets of the block migration's copy: same virtual sizes, same backing content): which files the server owns
 * (journaled before any is created, so a rollback or destroy after a crash finds each), and their creation.
 */
import { mkdir } from 'node:fs/promises';
import { AgentError } from '../../rpc/errors.js';
import type { RbdSource, ServerSpec } from '../../rpc/protocol/server-spec.js';
import { GiB, MiB } from '../disks/disk-tool.js';
import { CONFIG_DRIVE_LABEL, configDriveFiles, makeIso, type ConfigDriveExtra } from '../config-drive/config-drive.js';
import { cephSecrets, extraDiskPath, serverFiles } from './domain-spec.js';
import { createOnce } from './files.js';
import type { AgentDeps } from './types.js';

/** the files the server owns on this host (its dir, disks, console log, config drive) */
export function ownedFiles(paths: AgentDeps['paths'], spec: ServerSpec): string[] {
  const f = serverFiles(paths, spec.uuid);
  // a root volume is not the server's to delete
  const owned = spec.rootVolume ? [f.dir, f.consoleLog] : [f.dir, f.root, f.consoleLog];
  if ((spec.ephemeralGiB ?? 0) > 0) owned.push(f.ephemeral);
  if ((spec.swapMiB ?? 0) > 0) owned.push(f.swap);
  for (const d of spec.disks ?? []) if (!d.path) owned.push(extraDiskPath(paths, spec.uuid, d));
  if (spec.configDrive) owned.push(f.config);
  return owned;
}

/** root overlay on the cached base image, ephemeral, swap, owned extra disks, config drive (with `drive`); each only once */
export async function createInstanceDisks(deps: Pick<AgentDeps, 'disks' | 'paths'>, spec: ServerSpec, img: { path: string; format: 'qcow2' | 'raw' } | null, drive: ConfigDriveExtra = {}): Promise<void> {
  const { disks, paths } = deps;
  const f = serverFiles(paths, spec.uuid);
  await mkdir(f.dir, { recursive: true, mode: 0o755 });
  if (img) await createOnce(f.root, (tmp) => disks.createOverlay(tmp, img.path, img.format, spec.rootGiB * GiB));
  if ((spec.ephemeralGiB ?? 0) > 0) await createOnce(f.ephemeral, (tmp) => disks.create(tmp, 'qcow2', (spec.ephemeralGiB ?? 0) * GiB));
  // swap is left unformatted: the guest's cloud-init (or the image) runs mkswap, as with Nova's raw swap
  if ((spec.swapMiB ?? 0) > 0) await createOnce(f.swap, (tmp) => disks.create(tmp, 'qcow2', (spec.swapMiB ?? 0) * MiB));
  for (const d of spec.disks ?? []) {
    if (!d.path) await createOnce(extraDiskPath(paths, spec.uuid, d), (tmp) => disks.create(tmp, d.format ?? 'qcow2', (d.sizeGiB ?? 1) * GiB));
  }
  if (spec.configDrive) await createOnce(f.config, (tmp) => writeConfigDrive(disks, tmp, spec, drive));
}

/** the config drive of `spec` at `path` */
export function writeConfigDrive(disks: AgentDeps['disks'], path: string, spec: ServerSpec, drive: ConfigDriveExtra = {}): Promise<void> {
  const files = configDriveFiles(spec, undefined, drive);
  return disks.makeIso ? disks.makeIso(path, CONFIG_DRIVE_LABEL, files) : makeIso(path, CONFIG_DRIVE_LABEL, files);
}

/** the root disk's base image into the cache (none for a server booted from a volume) */
export async function rootImage(images: AgentDeps['images'], spec: ServerSpec, onProgress?: (pct: number) => void): Promise<{ path: string; format: 'qcow2' | 'raw' } | null> {
  if (spec.rootVolume) return null;
  if (!spec.image) throw new AgentError('bad_request', 'the spec has neither an image nor a root volume');
  return images.ensure(spec.image, onProgress);
}

/** the libvirt secrets (cephx keys) of the rbd disks among `disks`, defined before QEMU opens them */
export async function defineCephSecrets(hv: AgentDeps['hv'], disks: Array<{ rbd?: RbdSource } | undefined>): Promise<void> {
  const secrets = cephSecrets(disks);
  if (!secrets.length) return;
  if (!hv.setCephSecret) throw new AgentError('bad_request', 'this host cannot attach rbd disks (no libvirt secrets)');
  for (const sec of secrets) await hv.setCephSecret(sec);
}

/** every disk of the spec that may name a ceph secret */
export const specVolumes = (spec: ServerSpec) => [spec.rootVolume, ...(spec.disks ?? [])];
