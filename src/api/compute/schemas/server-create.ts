/**
 * POST /servers body, after nova/api/openstack/compute/schemas/servers.py. Fields that only exist from a
 * microversion on (description 2.19, networks auto/none 2.37, tags 2.52, host + hypervisor_hostname 2.74) are in
 * the schema and refused below that version by `versionedFields`.
 */
import { Type } from '@sinclair/typebox';
import { Metadata, Name, Tag } from './strings.js';

const Str255 = Name;
const PositiveInt = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]*[1-9][0-9]*$' })]);

export const NetworkItem = Type.Object({
  uuid: Type.Optional(Type.String()),
  port: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  fixed_ip: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
}, { additionalProperties: false });

export const BdmV2 = Type.Object({
  boot_index: Type.Optional(Type.Union([Type.Integer(), Type.String(), Type.Null()])),
  uuid: Type.Optional(Type.String()),
  source_type: Type.Optional(Type.Union([Type.Literal('volume'), Type.Literal('image'), Type.Literal('snapshot'), Type.Literal('blank')])),
  destination_type: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('volume')])),
  delete_on_termination: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  volume_size: Type.Optional(Type.Union([Type.Integer(), Type.String(), Type.Null()])),
  device_name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  device_type: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  disk_bus: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  guest_format: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  no_device: Type.Optional(Type.Boolean()),
  tag: Type.Optional(Type.String()),
  volume_type: Type.Optional(Type.Union([Type.String(), Type.Null()])),
}, { additionalProperties: false });


export const ServerCreate = Type.Object({
  server: Type.Object({
    name: Str255,
    imageRef: Type.Optional(Type.String()),
    flavorRef: Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 1 })]),
    networks: Type.Optional(Type.Union([Type.Array(NetworkItem), Type.Literal('auto'), Type.Literal('none')])),
    accessIPv4: Type.Optional(Type.String({ format: 'ipv4' })),
    accessIPv6: Type.Optional(Type.String({ format: 'ipv6' })),
    adminPass: Type.Optional(Type.String()),
    availability_zone: Type.Optional(Str255),
    block_device_mapping_v2: Type.Optional(Type.Array(BdmV2)),
    block_device_mapping: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
    key_name: Type.Optional(Str255),
    metadata: Type.Optional(Metadata),
    'OS-DCF:diskConfig': Type.Optional(Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')])),
    security_groups: Type.Optional(Type.Array(Type.Object({ name: Str255 }, { additionalProperties: false }))),
    user_data: Type.Optional(Type.String({ maxLength: 65535 })),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
    host: Type.Optional(Str255),
    hypervisor_hostname: Type.Optional(Str255),
    min_count: Type.Optional(PositiveInt),
    max_count: Type.Optional(PositiveInt),
    return_reservation_id: Type.Optional(Type.Boolean()),
    config_drive: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
    personality: Type.Optional(Type.Array(Type.Object({ path: Type.String(), contents: Type.String() }))),
    trusted_image_certificates: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  }, { additionalProperties: false }),
  'os:scheduler_hints': Type.Optional(Type.Object({}, { additionalProperties: true })),
  'OS-SCH-HNT:scheduler_hints': Type.Optional(Type.Object({}, { additionalProperties: true })),
}, { additionalProperties: false });

/** field -> [first version, last version] it is accepted in */
export const versionedFields: Record<string, [string, string?]> = {
  description: ['2.19'],
  tags: ['2.52'],
  host: ['2.74'],
  hypervisor_hostname: ['2.74'],
  trusted_image_certificates: ['2.63'],
  personality: ['2.1', '2.56'],
};

export const ServerUpdate = Type.Object({
  server: Type.Object({
    name: Type.Optional(Str255),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
    accessIPv4: Type.Optional(Type.String({ format: 'ipv4' })),
    accessIPv6: Type.Optional(Type.String({ format: 'ipv6' })),
    'OS-DCF:diskConfig': Type.Optional(Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')])),
    hostname: Type.Optional(Str255),
  }, { additionalProperties: false }),
}, { additionalProperties: false });
