/**
 * Shared instance storage detection, as Nova's check_can_live_migrate does it: the destination writes a marker
 * file into its instances dir, the source looks for the same name in its own, the destination removes it. Only
 * storage both hosts really share (NFS, CephFS, a cluster file system at the same path) shows the marker on both.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../rpc/errors.js';
import type { AgentPaths } from '../config.js';

const MARKER_RE = /^\.novalet-shared-[0-9a-f-]{36}$/;

function markerPath(paths: AgentPaths, marker: string): string {
  if (!MARKER_RE.test(marker)) throw new AgentError('bad_request', `not a storage marker: ${marker}`);
  return join(paths.instances, marker);
}

export async function createMarker(paths: AgentPaths): Promise<string> {
  const marker = `.novalet-shared-${randomUUID()}`;
  await writeFile(markerPath(paths, marker), `${hostname()}\n`, { flag: 'wx', mode: 0o644 });
  return marker;
}

export function markerExists(paths: AgentPaths, marker: string): boolean {
  return existsSync(markerPath(paths, marker));
}

export async function removeMarker(paths: AgentPaths, marker: string): Promise<void> {
  await rm(markerPath(paths, marker), { force: true });
}
