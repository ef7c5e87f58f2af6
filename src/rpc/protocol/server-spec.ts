import { Type, type Static } from '@sinclair/typebox';
import { Uuid } from './common.js';
import { PortSecurity } from './networks.js';

/** Where the agent gets an image: a local path or an http(s) URL (the controller's image service later). */
export const ImageRef = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }),
  source: Type.String({ minLength: 1 }),
  format: Type.Optional(Type.Union([Type.Literal('qcow2'), Type.Literal('raw')])),
});
export type ImageRef = Static<typeof ImageRef>;

const IPV4 = '^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$';

export const NicSpec = Type.Object({
  portId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }),
  mac: Type.String({ pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' }),
  attachment: Type.Union([
    Type.Object({ type: Type.Literal('network'), network: Type.String({ minLength: 1 }) }),
    Type.Object({ type: Type.Literal('bridge'), bridge: Type.String({ minLength: 1 }) }),
    Type.Object({ type: Type.Literal('ethernet'), tap: Type.String({ minLength: 1 }) }),
    /** a tenant network given to the agent by PUT /v1/networks/:networkId (networks.ts) */
    Type.Object({ type: Type.Literal('tenant'), network: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }) }),
  ]),
  model: Type.Optional(Type.Union([Type.Literal('virtio'), Type.Literal('e1000')])),
  /**
   * Fixed IPv4 address of the port. With a `network` attachment the agent keeps a DHCP host entry mac -> ip in
   * that libvirt network (live + config) while the NIC exists, so the guest gets exactly this address.
   */
  ip: Type.Optional(Type.String({ pattern: IPV4 })),
  /** tenant attachment: every fixed IP of the port (v4 and v6) */
  ips: Type.Optional(Type.Array(Type.Object({ subnetId: Type.String(), address: Type.String() }))),
  /** tenant attachment: the port's filter (absent = as null: no filtering) */
  security: Type.Optional(PortSecurity),
  mtu: Type.Optional(Type.Integer({ minimum: 68, maximum: 9000 })),
});
export type NicSpec = Static<typeof NicSpec>;

/**
 * A Ceph RBD volume as QEMU opens it: the monitors, the cephx user and its key; the agent keeps the key in a libvirt
 * secret (usage ceph, `secretUuid`) that the disk's <auth> names.
 */
export const RbdSource = Type.Object({
  hosts: Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })) }), { minItems: 1 }),
  user: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$' }),
  secretUuid: Uuid,
  /** base64, as in a keyring */
  key: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9+/=]+$' }),
});
export type RbdSource = Static<typeof RbdSource>;

/**
 * An extra disk: a volume at `path` (not owned: never deleted by the agent) or, without `path`, a blank
 * disk of `sizeGiB` the agent creates in the server's directory (owned: deleted with the server).
 */
export const ExtraDisk = Type.Object({
  target: Type.String({ pattern: '^(vd|sd|hd)[a-z]{1,2}$' }),
  path: Type.Optional(Type.String({ minLength: 1 })),
  sizeGiB: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  format: Type.Optional(Type.Union([Type.Literal('qcow2'), Type.Literal('raw')])),
  bus: Type.Optional(Type.Union([Type.Literal('virtio'), Type.Literal('sata')])),
  volumeId: Type.Optional(Type.String()),
  sourceType: Type.Optional(Type.Union([Type.Literal('file'), Type.Literal('block'), Type.Literal('network')])),
  /** sourceType network: a Ceph RBD image (`path` is pool/image) */
  rbd: Type.Optional(RbdSource),
});
export type ExtraDisk = Static<typeof ExtraDisk>;

/** A volume as the root disk: where it is and how it is opened (file on shared storage, or a block device). */
export const RootVolume = Type.Object({
  path: Type.String({ minLength: 1 }),
  format: Type.Union([Type.Literal('qcow2'), Type.Literal('raw')]),
  volumeId: Type.String({ minLength: 1 }),
  sourceType: Type.Optional(Type.Union([Type.Literal('file'), Type.Literal('block'), Type.Literal('network')])),
  /** sourceType network: a Ceph RBD image (`path` is pool/image) */
  rbd: Type.Optional(RbdSource),
});
export type RootVolume = Static<typeof RootVolume>;

/**
 * Disk boot, or direct kernel boot (Nova's AMI-style images: kernel_id / ramdisk_id). Kernel and ramdisk are a
 * host path, or an image (id + source) the agent fetches into its image cache like a base image.
 */
export const BootSpec = Type.Union([
  Type.Object({ kind: Type.Literal('disk') }),
  Type.Object({
    kind: Type.Literal('kernel'),
    kernel: Type.Union([Type.String(), ImageRef]),
    ramdisk: Type.Optional(Type.Union([Type.String(), ImageRef])),
    cmdline: Type.String(),
  }),
]);
export type BootSpec = Static<typeof BootSpec>;

/** What the controller asks the agent to run: flavor + image + devices. Host paths are the agent's business. */
export const ServerSpec = Type.Object({
  uuid: Uuid,
  displayName: Type.String({ maxLength: 255 }),
  vcpus: Type.Integer({ minimum: 1, maximum: 256 }),
  maxVcpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  memoryMiB: Type.Integer({ minimum: 16 }),
  /** the image the root disk is made from; absent for a server booted from a volume (rootVolume) */
  image: Type.Optional(ImageRef),
  /**
   * Boot from volume: the root disk (vda) is this volume, attached by path (not owned: never deleted or copied by
   * the agent); no image is fetched and no root overlay made.
   */
  rootVolume: Type.Optional(RootVolume),
  rootGiB: Type.Number({ minimum: 0 }),
  ephemeralGiB: Type.Optional(Type.Number({ minimum: 0 })),
  swapMiB: Type.Optional(Type.Integer({ minimum: 0 })),
  boot: Type.Optional(BootSpec),
  nics: Type.Optional(Type.Array(NicSpec)),
  disks: Type.Optional(Type.Array(ExtraDisk)),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
  domainType: Type.Optional(Type.Union([Type.Literal('kvm'), Type.Literal('qemu')])),
  /** Nova's user_data: base64, at most 64 KiB decoded (served on the config drive) */
  userData: Type.Optional(Type.String({ maxLength: 87_384, pattern: '^[A-Za-z0-9+/=\\s]*$' })),
  /** the server's keypair (meta_data.json public_keys / keys) */
  keyName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  keyData: Type.Optional(Type.String({ minLength: 1 })),
  /** build an ISO9660 config drive labelled config-2 (Nova's config_drive) */
  configDrive: Type.Optional(Type.Boolean()),
  /** meta_data.json: hostname (default from displayName), availability_zone, project_id */
  hostname: Type.Optional(Type.String({ maxLength: 255 })),
  availabilityZone: Type.Optional(Type.String({ maxLength: 255 })),
  projectId: Type.Optional(Type.String({ maxLength: 255 })),
});
export type ServerSpec = Static<typeof ServerSpec>;
