/**
 * Thin `virsh` wrappers for integration tests (spawns virsh via execa; ~50-90 ms per call).
 * Deliberately independent of the native binding so tests can validate it.
 */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { dirname, resolve, join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT_URI = 'qemu:///system';

/** Repository root (this file lives in test/support). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Unique name with the test prefix, e.g. nvt-guest-3f9a1c. */
export function uniqueName(what: string): string {
  return `nvt-${what}-${randomBytes(3).toString('hex')}`;
}

/** Runs `virsh -c uri ...args`; resolves with trimmed stdout, rejects with virsh's stderr. */
export async function virsh(uri: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await execa('virsh', ['-q', '-c', uri, ...args], {
    timeout: opts.timeoutMs ?? 120_000,
    reject: false,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    env: { LC_ALL: 'C' },
  });
  if (r.exitCode !== 0) {
    throw new Error(`virsh -c ${uri} ${args.join(' ')} failed (exit ${r.exitCode}): ${String(r.stderr).trim() || String(r.stdout).trim()}`);
  }
  return String(r.stdout).trim();
}

/** Defines a domain from an XML string (via a temporary file). */
export async function defineXml(uri: string, xml: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nvt-xml-'));
  try {
    const file = join(dir, 'domain.xml');
    await writeFile(file, xml);
    await virsh(uri, ['define', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Domain state as virsh prints it ('running', 'shut off', ...) or undefined if it does not exist. */
export async function domState(uri: string, name: string): Promise<string | undefined> {
  try {
    return await virsh(uri, ['domstate', name], { timeoutMs: 30_000 });
  } catch (e) {
    if (/failed to get domain|Domain not found/i.test(String(e))) return undefined;
    throw e;
  }
}

export async function waitForState(uri: string, name: string, state: string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  while (Date.now() < deadline) {
    last = await domState(uri, name);
    if (last === state) return;
    await sleep(250);
  }
  throw new Error(`domain ${name}: state '${last}' after ${timeoutMs} ms, expected '${state}'`);
}

/** Best effort: destroy (if running) and undefine a domain; never throws. */
export async function destroyAndUndefine(uri: string, name: string): Promise<void> {
  await virsh(uri, ['destroy', name], { timeoutMs: 60_000 }).catch(() => undefined);
  await virsh(uri, ['undefine', name, '--managed-save', '--snapshots-metadata', '--checkpoints-metadata'], { timeoutMs: 60_000 }).catch(() => undefined);
}

/** Names of all domains (running and defined) on a connection. */
export async function listDomains(uri: string): Promise<string[]> {
  const out = await virsh(uri, ['list', '--all', '--name'], { timeoutMs: 30_000 });
  return out.split('\n').map((s) => s.trim()).filter((s) => s !== '');
}

/** Starts the root-namespace libvirtd (scripts/libvirtd.sh start; no-op if running). Root only. */
export async function ensureRootLibvirtd(): Promise<void> {
  await execa(resolve(REPO_ROOT, 'scripts/libvirtd.sh'), ['start'], { timeout: 60_000 });
}

/** Builds (or validates the cache of) the test guest: scripts/build-guest.sh. Root only. */
export async function ensureGuestBuilt(): Promise<void> {
  await execa(resolve(REPO_ROOT, 'scripts/build-guest.sh'), [], { timeout: 300_000 });
}
