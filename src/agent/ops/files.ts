import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Creates `path` through a temp file + rename, and skips it if it already exists: an operation re-driven
 * after a crash reuses what the first attempt finished and never sees a half-written image.
 */
export async function createOnce(path: string, make: (tmp: string) => Promise<void>): Promise<boolean> {
  if (existsSync(path)) return false;
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp`;
  await rm(tmp, { force: true });
  await make(tmp);
  await rename(tmp, path);
  return true;
}

export async function removeAll(paths: string[]): Promise<void> {
  // longest first: files before the directories that hold them
  for (const p of [...paths].sort((a, b) => b.length - a.length)) {
    await rm(p, { force: true, recursive: true });
    await rm(`${p}.tmp`, { force: true });
  }
}

/** Does the domain XML have a disk with this target / a device with this alias? (re-drive checks) */
export function xmlHasDiskTarget(xml: string, target: string): boolean {
  return new RegExp(`<target\\s+dev=['"]${target}['"]`).test(xml);
}

export function xmlHasAlias(xml: string, alias: string): boolean {
  return new RegExp(`<alias\\s+name=['"]${alias}['"]`).test(xml) || xml.includes(`'${alias}'`) || xml.includes(`"${alias}"`);
}

/** Source file of the disk with this target in a domain XML (the active layer after a snapshot). */
export function diskSource(xml: string, target: string): string | undefined {
  for (const m of xml.matchAll(/<disk\b[\s\S]*?<\/disk>/g)) {
    const d = m[0];
    if (!new RegExp(`<target\\s+dev=['"]${target}['"]`).test(d)) continue;
    // the first <source> is the active layer; <backingStore> sources come after it
    return /<source\s+(?:file|dev)=['"]([^'"]+)['"]/.exec(d)?.[1];
  }
  return undefined;
}
