/** Cinder's v3 views (cinder/api/v3/views): volumes, snapshots, types, attachments. */
import type { FastifyRequest } from 'fastify';
import type { Volume, VolumeAttachment, VolumeSnapshot, VolumeType } from '../../store/index.js';
import { isAdmin } from '../../controller/context.js';
import { atLeast } from './microversion.js';

/** Cinder's timestamps: ISO 8601 with microseconds, no zone */
export const cinderTime = (t: string | null): string | null => (t ? t.replace(/Z$/, '').replace(/(\.\d{3})$/, '$1000') : null);

export function links(base: string, projectId: string, kind: string, id: string) {
  return [
    { rel: 'self', href: `${base}/v3/${projectId}/${kind}/${id}` },
    { rel: 'bookmark', href: `${base}/${projectId}/${kind}/${id}` },
  ];
}

export function volumeSummary(base: string, v: Volume) {
  return { id: v.id, name: v.name, links: links(base, v.projectId, 'volumes', v.id) };
}

export function volumeAttachmentView(a: VolumeAttachment) {
  return {
    id: a.volumeId, attachment_id: a.id, volume_id: a.volumeId, server_id: a.serverId, host_name: a.hostName,
    device: a.device, attached_at: cinderTime(a.attachedAt),
  };
}

export function volumeDetail(req: FastifyRequest, base: string, v: Volume, type: VolumeType | undefined, attachments: VolumeAttachment[]) {
  const out: Record<string, unknown> = {
    id: v.id, name: v.name, description: v.description, status: v.status, size: v.size,
    availability_zone: v.availabilityZone, created_at: cinderTime(v.createdAt), updated_at: cinderTime(v.updatedAt),
    attachments: attachments.filter((a) => a.status === 'attached').map(volumeAttachmentView),
    volume_type: type?.name ?? null, snapshot_id: v.snapshotId, source_volid: v.sourceVolid, metadata: v.metadata,
    links: links(base, v.projectId, 'volumes', v.id), user_id: v.userId, bootable: v.bootable ? 'true' : 'false',
    encrypted: false, replication_status: null, consistencygroup_id: null, multiattach: false,
    'os-vol-tenant-attr:tenant_id': v.projectId,
  };
  if (v.imageId) out.volume_image_metadata = { image_id: v.imageId };
  if (isAdmin(req.ctx)) {
    out['os-vol-host-attr:host'] = `novalet@${v.backend}#${v.backend}`;
    out['os-vol-mig-status-attr:migstat'] = null;
    out['os-vol-mig-status-attr:name_id'] = null;
  }
  if (atLeast(req, '3.13')) out.group_id = null;
  if (atLeast(req, '3.21') && isAdmin(req.ctx)) out.provider_id = null;
  if (atLeast(req, '3.48')) out.shared_targets = false;
  if (atLeast(req, '3.48') && isAdmin(req.ctx)) out.service_uuid = null;
  if (atLeast(req, '3.61') && isAdmin(req.ctx)) out.cluster_name = null;
  if (atLeast(req, '3.63')) out.volume_type_id = v.volumeTypeId;
  if (atLeast(req, '3.65')) out.consumes_quota = true;
  return out;
}

export function snapshotView(req: FastifyRequest, s: VolumeSnapshot) {
  const out: Record<string, unknown> = {
    id: s.id, name: s.name, description: s.description, volume_id: s.volumeId, status: s.status, size: s.size,
    metadata: s.metadata, created_at: cinderTime(s.createdAt), updated_at: cinderTime(s.updatedAt),
    'os-extended-snapshot-attributes:progress': s.status === 'available' ? '100%' : '0%',
    'os-extended-snapshot-attributes:project_id': s.projectId,
  };
  if (atLeast(req, '3.14')) out.group_snapshot_id = null;
  if (atLeast(req, '3.41')) out.user_id = s.userId;
  if (atLeast(req, '3.65')) out.consumes_quota = true;
  return out;
}

export function typeView(req: FastifyRequest, t: VolumeType) {
  const out: Record<string, unknown> = {
    id: t.id, name: t.name, description: t.description, is_public: t.isPublic, 'os-volume-type-access:is_public': t.isPublic,
    qos_specs_id: null,
  };
  if (isAdmin(req.ctx)) out.extra_specs = t.extraSpecs;
  return out;
}

export function attachmentView(a: VolumeAttachment, detail: boolean) {
  const out: Record<string, unknown> = { id: a.id, status: a.status, instance: a.serverId, volume_id: a.volumeId };
  if (detail) Object.assign(out, { attached_at: cinderTime(a.attachedAt), detached_at: null, attach_mode: a.attachMode, connection_info: {} });
  return out;
}
