/**
 * Nova's config drive: an ISO9660 volume labelled `config-2` (Rock Ridge + Joliet, as Nova's genisoimage call
 * makes it) holding openstack/<version>/{meta_data.json, user_data, vendor_data.json, network_data.json} for
 * 'latest' and the 2012-08-10 version cloud-init and older agents look for. Attached read-only as an IDE cdrom
 * (Nova's default for config_drive_format iso9660 on x86 'pc' machines). The content is a pure function of the
 * server spec (plus a random seed), so a re-driven spawn writes the same drive.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ServerSpec } from '../../rpc/protocol/server-spec.js';
import { execCapture } from '../../virt/exec.js';

export const CONFIG_DRIVE_LABEL = 'config-2';
export const CONFIG_DRIVE_VERSIONS = ['2012-08-10', 'latest'] as const;
/** Nova's limit on user_data (decoded) */
export const MAX_USER_DATA_BYTES = 65_535;

/** The hostname Nova derives from a display name when none is given: lower case, [a-z0-9-], at most 63. */
export function hostnameOf(spec: ServerSpec): string {
  const h = (spec.hostname ?? spec.displayName).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return h || `server-${spec.uuid.slice(0, 8)}`;
}

export function decodeUserData(spec: ServerSpec): Buffer | undefined {
  if (spec.userData === undefined) return undefined;
  const buf = Buffer.from(spec.userData.replace(/\s+/g, ''), 'base64');
  if (buf.length > MAX_USER_DATA_BYTES) throw new Error(`user data is ${buf.length} bytes decoded; the limit is ${MAX_USER_DATA_BYTES}`);
  return buf;
}

/** what goes on the drive besides the spec: the admin password of this spawn or rebuild (meta_data.json admin_pass) */
export interface ConfigDriveExtra { adminPass?: string }

export function metaData(spec: ServerSpec, randomSeed: string, extra: ConfigDriveExtra = {}): Record<string, unknown> {
  const md: Record<string, unknown> = {
    uuid: spec.uuid,
    name: spec.displayName,
    hostname: hostnameOf(spec),
    launch_index: 0,
    availability_zone: spec.availabilityZone ?? 'nova',
    meta: { ...(spec.metadata ?? {}) },
    random_seed: randomSeed,
    devices: [],
  };
  if (spec.projectId) md['project_id'] = spec.projectId;
  if (spec.keyName && spec.keyData) {
    md['public_keys'] = { [spec.keyName]: spec.keyData };
    md['keys'] = [{ name: spec.keyName, type: 'ssh', data: spec.keyData }];
  }
  // Nova's libvirt driver: extra_md admin_pass (the guest's cloud-init sets the password from it)
  if (extra.adminPass) md['admin_pass'] = extra.adminPass;
  return md;
}

/** network_data.json: one link per NIC; addresses come by DHCP (a fixed ip is a DHCP host entry). */
export function networkData(spec: ServerSpec): Record<string, unknown> {
  const nics = spec.nics ?? [];
  return {
    links: nics.map((n) => ({ id: `tap${n.portId.slice(0, 11)}`, vif_id: n.portId, type: 'phy', ethernet_mac_address: n.mac.toLowerCase(), mtu: null })),
    networks: nics.map((n, i) => ({ id: `network${i}`, link: `tap${n.portId.slice(0, 11)}`, network_id: n.portId, type: 'ipv4_dhcp' })),
    services: [],
  };
}

/** Relative path -> content of every file on the drive. */
export function configDriveFiles(spec: ServerSpec, randomSeed = randomBytes(512).toString('base64'), extra: ConfigDriveExtra = {}): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
  const userData = decodeUserData(spec);
  for (const v of CONFIG_DRIVE_VERSIONS) {
    files.set(`openstack/${v}/meta_data.json`, json(metaData(spec, randomSeed, extra)));
    if (userData) files.set(`openstack/${v}/user_data`, userData);
    files.set(`openstack/${v}/vendor_data.json`, json({}));
    if (v === 'latest') {
      files.set(`openstack/${v}/network_data.json`, json(networkData(spec)));
      files.set(`openstack/${v}/vendor_data2.json`, json({}));
    }
  }
  return files;
}

/** Writes the files into a staging dir and makes the ISO at `path` with genisoimage (Nova's options). */
export async function makeIso(path: string, label: string, files: Map<string, Buffer>): Promise<void> {
  const stage = await mkdtemp(join(tmpdir(), 'novalet-iso-'));
  try {
    for (const [rel, content] of files) {
      const f = join(stage, rel);
      await mkdir(dirname(f), { recursive: true });
      await writeFile(f, content, { mode: 0o644 });
    }
    const args = ['-o', path, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-publisher', 'novalet', '-quiet', '-J', '-r', '-V', label, stage];
    const r = await execCapture('genisoimage', args, { timeoutMs: 120_000 });
    if (r.exitCode !== 0) throw new Error(`genisoimage failed (${r.exitCode ?? 'not started'}): ${r.stderr.trim()}`);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
