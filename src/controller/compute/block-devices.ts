/**
 * block_device_mapping_v2 of POST /servers, checked as Nova's API checks it (nova/block_device.py BlockDeviceDict,
 * compute/api.py _validate_bdm): what boots the server (an image -> local root disk, or a volume at boot_index 0)
 * and which volumes it gets. Clients send numbers as strings ("0", "1") and booleans as strings ("false"):
 * normalised here, and the normalised list is what the server row keeps (the view's volume-backed test reads it).
 */
import { badRequest } from '../errors.js';

export type VolumeSourceType = 'image' | 'volume' | 'snapshot' | 'blank';

/** a mapping whose destination is a volume: made (image, snapshot, blank) or given (volume) */
export interface VolumeBdm {
  sourceType: VolumeSourceType;
  /** image, volume or snapshot id (absent for blank) */
  uuid: string | null;
  /** 0: the root disk */
  bootIndex: number | null;
  volumeSize: number | null;
  deleteOnTermination: boolean;
  deviceName: string | null;
  tag: string | null;
  volumeType: string | null;
}

export interface ParsedBdms {
  /** the image the root disk is made from (image -> local at boot_index 0), if any */
  imageRef: string | null;
  /** the volume mappings, the root one (boot_index 0) first */
  volumes: VolumeBdm[];
  /** the mappings as stored on the server (numbers and booleans normalised) */
  normalized: Array<Record<string, unknown>>;
}

const invalid = (why: string) => badRequest(`Block Device Mapping is Invalid: ${why}`);

function int(v: unknown, what: string): number | null {
  if (v === undefined || v === null || v === '' || v === 'none' || v === 'None') return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?[0-9]+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n)) throw badRequest(`Invalid input for field/attribute ${what}. Value: ${String(v)}.`);
  return n;
}

function bool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return ['true', '1', 'yes', 'on', 't', 'y'].includes(v.trim().toLowerCase());
  return false;
}

export function parseBlockDevices(bdms: Array<Record<string, unknown>>, imageRef: string): ParsedBdms {
  let image: string | null = imageRef || null;
  const volumes: VolumeBdm[] = [];
  const normalized: Array<Record<string, unknown>> = [];
  let rootMappings = 0;
  for (const raw of bdms) {
    const bootIndex = int(raw.boot_index, 'boot_index');
    const src = (raw.source_type ?? 'volume') as VolumeSourceType;
    const dst = (raw.destination_type ?? (src === 'image' || src === 'blank' ? 'local' : 'volume')) as 'local' | 'volume';
    const volumeSize = int(raw.volume_size, 'volume_size');
    const dot = bool(raw.delete_on_termination);
    const uuid = typeof raw.uuid === 'string' && raw.uuid !== '' ? raw.uuid : null;
    normalized.push({
      ...raw, source_type: src, destination_type: dst, boot_index: bootIndex, delete_on_termination: dot,
      ...(volumeSize !== null ? { volume_size: volumeSize } : {}),
    });
    if (bootIndex === 0) rootMappings++;
    if (dst === 'local') {
      if (src === 'image') {
        if (bootIndex === 0 && uuid) image = uuid;
        continue;
      }
      if (src === 'blank') continue;
      throw invalid(`Mapping ${src} to a local disk is not supported.`);
    }
    if (src !== 'blank' && !uuid) throw invalid(`Missing uuid for a ${src} mapping.`);
    if ((src === 'image' || src === 'blank') && (volumeSize === null || volumeSize <= 0)) {
      throw invalid(`Images with destination_type 'volume' need to have a non-zero size specified`);
    }
    if (volumeSize !== null && volumeSize < 0) throw invalid('volume_size must be a positive integer.');
    volumes.push({
      sourceType: src, uuid, bootIndex, volumeSize, deleteOnTermination: dot,
      deviceName: typeof raw.device_name === 'string' && raw.device_name !== '' ? raw.device_name : null,
      tag: typeof raw.tag === 'string' ? raw.tag : null,
      volumeType: typeof raw.volume_type === 'string' ? raw.volume_type : null,
    });
  }
  const root = volumes.find((v) => v.bootIndex === 0);
  // one thing boots the server: an image (imageRef or image -> local at 0) or a volume at boot_index 0
  if (rootMappings > 1 || (root && bdms.some((b) => int(b.boot_index, 'boot_index') === 0 && b.destination_type === 'local'))) {
    throw invalid('Boot sequence for the instance and image/block device mapping combination is not valid.');
  }
  if (root) image = null;
  else if (!image) throw invalid('Boot sequence for the instance and image/block device mapping combination is not valid.');
  return { imageRef: image, volumes: root ? [root, ...volumes.filter((v) => v !== root)] : volumes, normalized };
}

/**
 * The mappings an image defines (Nova's _get_image_defined_bdms): a volume-backed server's snapshot image
 * (volume-backed-snapshot.ts) carries `bdm_v2` 'True' and `block_device_mapping`, a JSON list of Nova's mappings
 * (snapshot -> volume, with snapshot_id). Returned in the API's block_device_mapping_v2 form; nothing for any other
 * image (a malformed list too: Glance lets anyone write the property, and Nova ignores what it cannot read).
 */
export function imageDefinedBdms(properties: Record<string, string>): Array<Record<string, unknown>> {
  const v2 = String(properties['bdm_v2'] ?? '').toLowerCase();
  if (!['true', '1', 'yes'].includes(v2) || !properties['block_device_mapping']) return [];
  let list: unknown;
  try { list = JSON.parse(properties['block_device_mapping']); } catch { return []; }
  if (!Array.isArray(list)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const m of list as Array<Record<string, unknown>>) {
    if (!m || typeof m !== 'object' || m.no_device) continue;
    const uuid = m.snapshot_id ?? m.volume_id ?? m.image_id ?? m.uuid;
    const src = m.source_type;
    if (src !== 'snapshot' && src !== 'volume' && src !== 'image' && src !== 'blank') continue;
    out.push(Object.fromEntries(Object.entries({
      source_type: src, destination_type: m.destination_type, uuid, boot_index: m.boot_index, device_name: m.device_name,
      volume_size: m.volume_size, delete_on_termination: m.delete_on_termination, disk_bus: m.disk_bus, device_type: m.device_type,
      guest_format: m.guest_format, tag: m.tag, volume_type: m.volume_type,
    }).filter(([, v]) => v !== undefined && v !== null)));
  }
  return out;
}

/**
 * Nova's merge of the image's mappings with the request's (_check_and_transform_bdm, _merge_bdms_lists): the
 * request's mapping of a device name replaces the image's, and when the image has the root (boot_index 0) the
 * request's image -> root mapping (the client's rendering of imageRef) goes.
 */
export function mergeImageBdms(fromImage: Array<Record<string, unknown>>, requested: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  if (!fromImage.length) return requested;
  const isRoot = (b: Record<string, unknown>) => String(b.boot_index) === '0';
  const kept = fromImage.some(isRoot) ? requested.filter((b) => !(isRoot(b) && (b.source_type ?? 'volume') === 'image')) : requested;
  const names = new Set(kept.map((b) => b.device_name).filter((d) => typeof d === 'string' && d !== ''));
  return [...kept, ...fromImage.filter((b) => !names.has(b.device_name))];
}
