/**
 * The server views as in Nova's api samples: the basic {id, name, links} and the detailed view with the extension
 * attributes. Microversion gates: 2.3 extended OS-EXT-SRV-ATTR fields, 2.9 locked, 2.16 host_status, 2.19
 * description, 2.26 tags, 2.47 embedded flavor, 2.63 trusted_image_certificates, 2.71 server_groups (show only),
 * 2.73 locked_reason, 2.90 OS-EXT-SRV-ATTR:hostname for everyone. OS-EXT-SRV-ATTR:* and host_status are admin-only.
 * Update and rebuild answer without the extension attributes below 2.75 (updateView, rebuildView).
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

/** addresses by network; `extended`: with OS-EXT-IPS:type and OS-EXT-IPS-MAC:mac_addr */
export function addressesView(s: Server, extended = true) {
  const out: Record<string, Array<Record<string, unknown>>> = {};
  for (const a of s.addresses) {
    (out[a.network] ??= []).push(extended ? { version: a.version, addr: a.addr, 'OS-EXT-IPS:type': a.type, 'OS-EXT-IPS-MAC:mac_addr': a.mac } : { version: a.version, addr: a.addr });
  }
  return out;
}

const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);

export type HostStatus = (host: string) => string;

export interface DetailOptions {
  /** one server (show, update, rebuild): server_groups from 2.71 */
  show?: boolean;
  /** host_status (2.16, admin) */
  hostStatus?: HostStatus;
  /** the server's groups (2.71, with `show`) */
  serverGroups?: string[];
  /**
   * false: Nova's update and rebuild responses below 2.75 (servers.py), without availability zone, config drive,
   * key name, usage times, security groups, task/vm/power states, attached volumes, OS-EXT-SRV-ATTR:*,
   * host_status, and with addresses of version and addr only. Default true.
   */
  extended?: boolean;
  /** key_name in a view that is not extended (rebuild from 2.54) */
  keyName?: boolean;
  /** OS-EXT-SRV-ATTR:user_data among the admin's attributes (rebuild shows user_data under its own key). Default true. */
  srvUserData?: boolean;
}

/**
 * Every field comes from the server's row (so that its revision tells when a render is stale, see
 * server-list-renders.ts), the request's microversion and role, and the URLs; host_status only with `hostStatus`.
 */
export function detailView(req: FastifyRequest, u: Urls, s: Server, opts: DetailOptions = {}) {
  const admin = isAdmin(req.ctx);
  const extended = opts.extended ?? true;
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
    addresses: addressesView(s, extended),
    accessIPv4: s.accessIPv4,
    accessIPv6: s.accessIPv6,
    links: links(u, 'servers', s.id),
    'OS-DCF:diskConfig': s.diskConfig,
  };
  if (extended) {
    v['OS-EXT-AZ:availability_zone'] = s.availabilityZone ?? '';
    v.config_drive = s.configDrive;
  }
  if (extended || opts.keyName) v.key_name = s.keyName;
  if (extended) {
    v['OS-SRV-USG:launched_at'] = usg(s.launchedAt);
    v['OS-SRV-USG:terminated_at'] = usg(s.terminatedAt);
    v['OS-EXT-STS:task_state'] = s.taskState;
    v['OS-EXT-STS:vm_state'] = s.vmState;
    v['OS-EXT-STS:power_state'] = s.powerState;
    // kept on the server row by the attach/detach tasks: each change raises the server's revision, so lists
    // never keep an old render (server-list-renders.ts)
    v['os-extended-volumes:volumes_attached'] = (s.volumesAttached ?? []).map((a) => (atLeast(req, '2.3') ? { id: a.volumeId, delete_on_termination: a.deleteOnTermination } : { id: a.volumeId }));
    v.security_groups = s.securityGroups.map((name) => ({ name }));
  }
  if (PROGRESS_STATUSES.has(s.status)) v.progress = s.progress;
  if (admin && extended) {
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
      if (opts.srvUserData ?? true) v['OS-EXT-SRV-ATTR:user_data'] = s.userData;
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
  if (opts.hostStatus && extended) {
    const hs = hostStatusOf(req, s.host, opts.hostStatus);
    if (hs !== undefined) v.host_status = hs;
  }
  return v;
}

/** PUT /servers/{id}: the view without the extended attributes below 2.75 (Nova's servers.py update()) */
export function updateView(req: FastifyRequest, u: Urls, s: Server, hostStatus: HostStatus, serverGroups: string[] = []) {
  return detailView(req, u, s, { show: true, hostStatus, extended: atLeast(req, '2.75'), serverGroups });
}

/**
 * rebuild: as update, but key_name from 2.54 and user_data from 2.57 (under its own key, so never as
 * OS-EXT-SRV-ATTR:user_data); the caller adds adminPass
 */
export function rebuildView(req: FastifyRequest, u: Urls, s: Server, hostStatus: HostStatus, serverGroups: string[] = []) {
  const v = detailView(req, u, s, { show: true, hostStatus, extended: atLeast(req, '2.75'), keyName: atLeast(req, '2.54'), srvUserData: false, serverGroups });
  if (atLeast(req, '2.57')) v.user_data = s.userData;
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
