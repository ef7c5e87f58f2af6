/**
 * The server views as in Nova's api samples: the basic {id, name, links} and the detailed view with the extension
 * attributes. Microversion gates: 2.3 extended OS-EXT-SRV-ATTR fields, 2.9 locked, 2.16 host_status, 2.19
 * description, 2.26 tags, 2.47 embedded flavor, 2.63 trusted_image_certificates, 2.71 server_groups (show only),
 * 2.73 locked_reason, 2.90 OS-EXT-SRV-ATTR:hostname for everyone. OS-EXT-SRV-ATTR:* and host_status are admin-only.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Server } from '../../../store/index.js';
import { isAdmin } from '../../../controller/context.js';
import { atLeast } from '../microversion.js';
import { links, type Urls } from '../urls.js';

/**
 * Nova's hostId: sha224(project id + host), the same for every server of a project on a host. Cached: a list of
 * 1,000 servers would otherwise hash 1,000 times for a handful of distinct values (bounded; cleared when full).
 */
const hostIds = new Map<string, string>();
export function hostIdOf(projectId: string, host: string | null): string {
  if (!host) return '';
  const key = projectId + host;
  let id = hostIds.get(key);
  if (id === undefined) {
    if (hostIds.size >= 10_000) hostIds.clear();
    id = createHash('sha224').update(key).digest('hex');
    hostIds.set(key, id);
  }
  return id;
}

// Our timestamps are Date.toISOString(): 'YYYY-MM-DDTHH:MM:SS.mmmZ' (24 characters). Sliced, not matched with a
// regular expression: three per server and 1,000 servers a page (measured ~1 ms a page).
const isIsoMs = (t: string): boolean => t.length === 24 && t.charCodeAt(19) === 46 /* . */ && t.charCodeAt(23) === 90 /* Z */;
/** Nova: seconds precision, Z suffix, for created/updated */
export const isoZ = (t: string | null): string | null => (t ? (isIsoMs(t) ? `${t.slice(0, 19)}Z` : t) : null);
/** Nova: launched_at / terminated_at as naive microsecond timestamps */
const usg = (t: string | null): string | null => (t ? (isIsoMs(t) ? `${t.slice(0, 23)}000` : t) : null);

export function basicView(u: Urls, s: Server) {
  return { id: s.id, name: s.name, links: links(u, 'servers', s.id) };
}

export function addressesView(s: Server) {
  const out: Record<string, Array<Record<string, unknown>>> = {};
  for (const a of s.addresses) {
    (out[a.network] ??= []).push({ version: a.version, addr: a.addr, 'OS-EXT-IPS:type': a.type, 'OS-EXT-IPS-MAC:mac_addr': a.mac });
  }
  return out;
}

const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);

export type HostStatus = (host: string) => string;

/**
 * Every field comes from the server's row (so that its revision tells when a render is stale, see
 * server-list-renders.ts), the request's microversion and role, and the URLs; host_status only with `hostStatus`.
 */
export function detailView(req: FastifyRequest, u: Urls, s: Server, opts: { show?: boolean; hostStatus?: HostStatus; serverGroups?: string[] } = {}) {
  const admin = isAdmin(req.ctx);
  const v: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status: s.status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: s.metadata,
    hostId: hostIdOf(s.projectId, s.host),
    image: s.imageRef && !isVolumeBacked(s) ? { id: s.imageRef, links: [{ rel: 'bookmark', href: `${u.bookmark}/images/${s.imageRef}` }] } : '',
    flavor: atLeast(req, '2.47')
      ? { vcpus: s.flavor.vcpus, ram: s.flavor.ram, disk: s.flavor.disk, ephemeral: s.flavor.ephemeral, swap: s.flavor.swap, original_name: s.flavor.name, extra_specs: s.flavor.extraSpecs }
      : { id: s.flavor.id, links: [{ rel: 'bookmark', href: `${u.bookmark}/flavors/${s.flavor.id}` }] },
    created: isoZ(s.createdAt),
    updated: isoZ(s.updatedAt),
    addresses: addressesView(s),
    accessIPv4: s.accessIPv4,
    accessIPv6: s.accessIPv6,
    links: links(u, 'servers', s.id),
    'OS-DCF:diskConfig': s.diskConfig,
    'OS-EXT-AZ:availability_zone': s.availabilityZone ?? '',
    config_drive: s.configDrive,
    key_name: s.keyName,
    'OS-SRV-USG:launched_at': usg(s.launchedAt),
    'OS-SRV-USG:terminated_at': usg(s.terminatedAt),
    'OS-EXT-STS:task_state': s.taskState,
    'OS-EXT-STS:vm_state': s.vmState,
    'OS-EXT-STS:power_state': s.powerState,
    // when attachments are served from their own table, attaching or detaching must raise the server's revision,
    // or lists keep showing the old render (server-list-renders.ts)
    'os-extended-volumes:volumes_attached': [],
    security_groups: s.securityGroups.map((name) => ({ name })),
  };
  if (PROGRESS_STATUSES.has(s.status)) v.progress = s.progress;
  if (admin) {
    v['OS-EXT-SRV-ATTR:host'] = s.host;
    v['OS-EXT-SRV-ATTR:instance_name'] = instanceName(s);
    v['OS-EXT-SRV-ATTR:hypervisor_hostname'] = s.node;
    if (atLeast(req, '2.3')) {
      v['OS-EXT-SRV-ATTR:reservation_id'] = s.reservationId;
      v['OS-EXT-SRV-ATTR:launch_index'] = s.launchIndex;
      v['OS-EXT-SRV-ATTR:hostname'] = s.hostname;
      v['OS-EXT-SRV-ATTR:kernel_id'] = s.kernelId;
      v['OS-EXT-SRV-ATTR:ramdisk_id'] = s.ramdiskId;
      v['OS-EXT-SRV-ATTR:root_device_name'] = s.rootDeviceName;
      v['OS-EXT-SRV-ATTR:user_data'] = s.userData;
    }
  } else if (atLeast(req, '2.90')) {
    v['OS-EXT-SRV-ATTR:hostname'] = s.hostname;
  }
  if (atLeast(req, '2.9')) v.locked = s.locked;
  if (atLeast(req, '2.19')) v.description = s.description;
  if (atLeast(req, '2.26')) v.tags = s.tags;
  if (atLeast(req, '2.63')) v.trusted_image_certificates = null;
  if (atLeast(req, '2.71') && opts.show) v.server_groups = opts.serverGroups ?? [];
  if (atLeast(req, '2.73')) v.locked_reason = s.lockedReason;
  if (s.fault && (s.status === 'ERROR' || s.status === 'DELETED')) {
    v.fault = { code: s.fault.code, created: isoZ(s.fault.created), message: s.fault.message, ...(admin && s.fault.details ? { details: s.fault.details } : {}) };
  }
  if (opts.hostStatus) {
    const hs = hostStatusOf(req, s.host, opts.hostStatus);
    if (hs !== undefined) v.host_status = hs;
  }
  return v;
}

/**
 * host_status (2.16, admin only; undefined where the view has none): it follows the host's heartbeats, not the
 * server, so it is always the last field of a detailed view and cached list renders add it per request.
 */
export function hostStatusOf(req: FastifyRequest, host: string | null, hostStatus: HostStatus): string | undefined {
  if (!isAdmin(req.ctx) || !atLeast(req, '2.16')) return undefined;
  return host ? hostStatus(host) : '';
}

function isVolumeBacked(s: Server): boolean {
  return s.blockDeviceMapping.some((b) => {
    const x = b as Record<string, unknown>;
    return x.boot_index === 0 && x.destination_type === 'volume';
  });
}

/** libvirt domain name as the agent names it */
export const instanceName = (s: Server): string => `novalet-${s.id}`;
