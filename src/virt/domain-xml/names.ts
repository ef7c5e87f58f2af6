/**
 * Names novalet puts into libvirt XML so that it can find its own things again: the metadata namespace,
 * and device aliases. libvirt keeps user aliases (they must start with 'ua-') in the persistent definition,
 * so a device can be found by alias in both the live and the inactive XML.
 */
import type { DiskSpec } from '../hypervisor.js';

export const NOVALET_XMLNS = 'https://novalet.dev/xmlns/instance/1';
export const NOVALET_PREFIX = 'novalet';

const DISK_ROLES: readonly DiskSpec['role'][] = ['root', 'ephemeral', 'swap', 'config', 'volume'];

/** NIC alias: the port id names the device. */
export function nicAlias(portId: string): string {
  return `ua-${portId}`;
}

/** Disk alias; carries the role so that it survives in libvirt without a side table. */
export function diskAlias(role: DiskSpec['role'], target: string): string {
  return `ua-disk-${role}-${target}`;
}

export function parseDiskAlias(alias: string | undefined): { role: DiskSpec['role']; target: string } | undefined {
  const m = /^ua-disk-([a-z]+)-(.+)$/.exec(alias ?? '');
  if (!m || !DISK_ROLES.includes(m[1] as DiskSpec['role'])) return undefined;
  return { role: m[1] as DiskSpec['role'], target: m[2] ?? '' };
}

/** Port id of a NIC alias made by nicAlias (undefined for libvirt's own 'net0' style aliases). */
export function parseNicAlias(alias: string | undefined): string | undefined {
  if (!alias?.startsWith('ua-') || alias.startsWith('ua-disk-')) return undefined;
  return alias.slice(3);
}

// libvirt accepts [A-Za-z0-9_-] in user aliases; reject anything else early with a clear message.
export function checkAliasPart(what: string, value: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) throw new Error(`${what} '${value}' may only contain letters, digits, '-' and '_'`);
}
