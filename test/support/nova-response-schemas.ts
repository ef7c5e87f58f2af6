/**
 * Nova's compute response bodies as JSON schemas (TypeBox), per microversion, for API tests only. Written after
 * tempest's tempest/lib/api_schema/response/compute/v2_N/servers.py and flavors.py and, where tempest is lenient about
 * which keys appear (it marks API "extensions" optional), after Nova's own views (nova/api/openstack/compute/views/
 * servers.py and flavors.py, servers.py update/_action_rebuild): a key Nova always sends is required, and no other
 * key is allowed.
 *
 * Server views by version: 2.3 more OS-EXT-SRV-ATTR:* and delete_on_termination; 2.9 locked; 2.16 host_status;
 * 2.19 description; 2.26 tags; 2.47 embedded flavor; 2.54 rebuild's key_name; 2.57 rebuild's user_data; 2.63
 * trusted_image_certificates; 2.71 server_groups (show, update, rebuild); 2.73 locked_reason; 2.75 update and
 * rebuild as detailed as show (rebuild without OS-EXT-SRV-ATTR:user_data); 2.90 OS-EXT-SRV-ATTR:hostname for all.
 * Flavors: 2.55 description, 2.61 extra_specs, 2.75 swap 0 instead of "". Limits: 2.36, 2.39, 2.57 drop fields.
 * Keypairs: 2.2 type. Instance actions: 2.51 events for members, 2.58 updated_at, 2.62 hostId/host, 2.84 details.
 */
import { FormatRegistry, Type, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isIPv4, isIPv6 } from 'node:net';

const formats: Record<string, (v: string) => boolean> = {
  uri: (v) => URL.canParse(v),
  ipv4: (v) => isIPv4(v),
  ipv6: (v) => isIPv6(v),
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v),
  // Nova's created/updated: seconds precision, Z
  'date-time': (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(v),
  base64: (v) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v),
};
for (const [name, f] of Object.entries(formats)) if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, f);

const n = (v: string): number => { const [a, b] = v.split('.'); return Number(a) * 1000 + Number(b); };
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Str = Type.String();
const Int = Type.Integer();
/** OS-SRV-USG:*: a naive UTC datetime as Nova's JSON writes it (oslo's to_primitive: %Y-%m-%dT%H:%M:%S.%f) */
const Naive = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}$' });

export const Links = Type.Array(Type.Object({ href: Type.String({ format: 'uri' }), rel: Str }, { additionalProperties: false }), { minItems: 1 });
const Ref = Type.Object({ id: Str, links: Links }, { additionalProperties: false });
const closed = (props: TProperties, optional: string[] = []) =>
  Type.Object(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, optional.includes(k) ? Type.Optional(v) : v])), { additionalProperties: false });

/** metadata as Nova's views give it: string values under Nova's metadata keys */
const Metadata = Type.Record(Type.String({ pattern: '^[a-zA-Z0-9-_:. ]{1,255}$' }), Str, { additionalProperties: false });
const ExtraSpecs = Type.Record(Type.String({ pattern: '^[a-zA-Z0-9-_:. ]{1,255}$' }), Str, { additionalProperties: false });

function addresses(extended: boolean) {
  const item = closed({
    version: Type.Union([Type.Literal(4), Type.Literal(6)]),
    addr: Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })]),
    ...(extended ? { 'OS-EXT-IPS:type': Type.Union([Type.Literal('fixed'), Type.Literal('floating')]), 'OS-EXT-IPS-MAC:mac_addr': Type.String({ pattern: '^(?:[a-f0-9]{2}:){5}[a-f0-9]{2}$' }) } : {}),
  });
  return Type.Record(Type.String({ pattern: '^[a-zA-Z0-9-_.]+$' }), Type.Array(item), { additionalProperties: false });
}

function flavorInServer(version: string) {
  if (n(version) < n('2.47')) return Ref;
  return closed({ original_name: Str, disk: Int, ephemeral: Int, ram: Int, swap: Int, vcpus: Int, extra_specs: ExtraSpecs }, ['extra_specs']);
}

export type ServerView = 'show' | 'detail' | 'update' | 'rebuild';

/** one server as GET /servers/{id} (show), GET /servers/detail (detail), PUT /servers/{id} or rebuild shows it */
export function serverSchema(view: ServerView, version: string, admin: boolean): TSchema {
  const at = (v: string) => n(version) >= n(v);
  const extended = view === 'show' || view === 'detail' || at('2.75');
  const p: TProperties = {
    id: Type.String({ format: 'uuid' }), name: Str, status: Str, tenant_id: Str, user_id: Str, metadata: Metadata, hostId: Str,
    image: Type.Union([Ref, Type.Literal('')]), flavor: flavorInServer(version),
    created: Type.String({ format: 'date-time' }), updated: Type.String({ format: 'date-time' }),
    addresses: addresses(extended),
    accessIPv4: Type.Union([Type.String({ format: 'ipv4' }), Type.Literal('')]),
    accessIPv6: Type.Union([Type.String({ format: 'ipv6' }), Type.Literal('')]),
    links: Links, 'OS-DCF:diskConfig': Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')]),
    progress: Int,
    fault: closed({ code: Int, created: Type.String({ format: 'date-time' }), message: Str, details: Str }, ['details']),
  };
  const optional = ['progress', 'fault'];
  if (extended) {
    Object.assign(p, {
      'OS-EXT-AZ:availability_zone': Str, config_drive: Str, key_name: Nullable(Str),
      'OS-SRV-USG:launched_at': Nullable(Naive), 'OS-SRV-USG:terminated_at': Nullable(Naive),
      'OS-EXT-STS:task_state': Nullable(Str), 'OS-EXT-STS:vm_state': Str,
      'OS-EXT-STS:power_state': Type.Union([0, 1, 3, 4, 6, 7].map((s) => Type.Literal(s))),
      'os-extended-volumes:volumes_attached': Type.Array(closed({ id: Str, ...(at('2.3') ? { delete_on_termination: Type.Boolean() } : {}) })),
      // Nova leaves security_groups out when the server has none
      security_groups: Type.Array(closed({ name: Str })),
    });
    optional.push('security_groups');
    if (admin) {
      Object.assign(p, { 'OS-EXT-SRV-ATTR:host': Nullable(Str), 'OS-EXT-SRV-ATTR:instance_name': Str, 'OS-EXT-SRV-ATTR:hypervisor_hostname': Nullable(Str) });
      if (at('2.3')) {
        Object.assign(p, {
          'OS-EXT-SRV-ATTR:reservation_id': Nullable(Str), 'OS-EXT-SRV-ATTR:launch_index': Int, 'OS-EXT-SRV-ATTR:hostname': Str,
          'OS-EXT-SRV-ATTR:kernel_id': Nullable(Str), 'OS-EXT-SRV-ATTR:ramdisk_id': Nullable(Str), 'OS-EXT-SRV-ATTR:root_device_name': Nullable(Str),
        });
        if (view !== 'rebuild') p['OS-EXT-SRV-ATTR:user_data'] = Nullable(Str);
      }
      if (at('2.16')) p.host_status = Str;
    } else if (at('2.90')) {
      p['OS-EXT-SRV-ATTR:hostname'] = Str;
    }
  }
  if (at('2.9')) p.locked = Type.Boolean();
  if (at('2.19')) p.description = Nullable(Str);
  if (at('2.26')) p.tags = Tags;
  if (at('2.63')) p.trusted_image_certificates = Nullable(Type.Array(Str));
  if (at('2.71') && view !== 'detail') p.server_groups = Type.Array(Type.String({ format: 'uuid' }), { maxItems: 1 });
  if (at('2.73')) p.locked_reason = Nullable(Str);
  if (view === 'rebuild') {
    p.adminPass = Str;
    if (at('2.54')) p.key_name = Nullable(Str);
    if (at('2.57')) p.user_data = Nullable(Type.String({ format: 'base64', maxLength: 65535 }));
  }
  return closed(p, optional);
}

const envelope = (key: string, item: TSchema) => closed({ [key]: item });
const list = (key: string, item: TSchema) => closed({ [key]: Type.Array(item), [`${key}_links`]: Links }, [`${key}_links`]);

/** response bodies by operation */
export const bodies = {
  serverList: () => list('servers', closed({ id: Type.String({ format: 'uuid' }), name: Str, links: Links })),
  serverDetailList: (version: string, admin: boolean) => list('servers', serverSchema('detail', version, admin)),
  serverShow: (version: string, admin: boolean) => envelope('server', serverSchema('show', version, admin)),
  serverUpdate: (version: string, admin: boolean) => envelope('server', serverSchema('update', version, admin)),
  serverRebuild: (version: string, admin: boolean) => envelope('server', serverSchema('rebuild', version, admin)),
  /** POST /servers: 202 {server: {id, links, OS-DCF:diskConfig, security_groups, adminPass}} */
  serverCreate: () => envelope('server', closed({
    id: Type.String({ format: 'uuid' }), links: Links, 'OS-DCF:diskConfig': Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')]),
    security_groups: Type.Array(closed({ name: Str })), adminPass: Str,
  }, ['security_groups'])),
  serverCreateReservation: () => closed({ reservation_id: Type.String({ pattern: '^r-[a-z0-9]{8}$' }) }),
  createImage: () => closed({ image_id: Type.String({ format: 'uuid' }) }),
  flavorList: (version: string) => list('flavors', flavorBasic(version)),
  flavorDetailList: (version: string) => list('flavors', flavorDetail(version)),
  flavor: (version: string) => envelope('flavor', flavorDetail(version)),
  ips: () => closed({ addresses: addresses(false) }),
  ipsOfNetwork: () => addresses(false),
  metadata: () => closed({ metadata: Metadata }),
  metadataItem: () => closed({ meta: Type.Record(Type.String({ pattern: '^[a-zA-Z0-9-_:. ]{1,255}$' }), Str, { additionalProperties: false, minProperties: 1, maxProperties: 1 }) }),
  tags: () => closed({ tags: Tags }),
  /** POST /os-keypairs (views/keypairs.py create): private_key when generated, type from 2.2 */
  keypairCreate: (version: string, generated: boolean) => envelope('keypair', closed({
    ...keypairBase(version), user_id: Str, ...(generated ? { private_key: Type.String({ pattern: '^-----BEGIN' }) } : {}),
  })),
  keypairList: (version: string) => list('keypairs', closed({ keypair: closed(keypairBase(version)) })),
  keypairShow: (version: string) => envelope('keypair', closed({
    ...keypairBase(version), user_id: Str, created_at: Naive, deleted: Type.Boolean(), deleted_at: Nullable(Naive), updated_at: Nullable(Naive), id: Int,
  })),
  instanceActionList: (version: string) => closed({ instanceActions: Type.Array(instanceAction(version)), links: Links }, ['links']),
  /** events for admins, and for members from 2.51 */
  instanceActionShow: (version: string, admin: boolean) => {
    const at = (v: string) => n(version) >= n(v);
    const event = closed({
      event: Str, start_time: Naive, finish_time: Nullable(Naive), result: Nullable(Str),
      ...(admin ? { traceback: Nullable(Str) } : {}),
      ...(at('2.62') ? { hostId: Str, ...(admin ? { host: Str } : {}) } : {}),
      // 2.84 (admins): tempest has it optional; Nova always sends it to admins (see the tests)
      ...(at('2.84') && admin ? { details: Nullable(Str) } : {}),
    }, ['details']);
    const base = instanceAction(version);
    return envelope('instanceAction', closed({ ...base.properties, events: Type.Array(event) }, admin || at('2.51') ? [] : ['events']));
  },
  /** os-quota-sets show/defaults (with id), update (without), detail ({limit, in_use, reserved} each) */
  quotaSet: (version: string, form: 'show' | 'update' | 'detail') => {
    const item = form === 'detail' ? closed({ limit: Int, in_use: Int, reserved: Int }) : Int;
    return envelope('quota_set', closed({ ...(form === 'update' ? {} : { id: Str }), ...Object.fromEntries(quotaKeys(version).map((k) => [k, item])) }));
  },
  limits: (version: string) => envelope('limits', closed({ rate: Type.Array(Type.Unknown(), { maxItems: 0 }), absolute: absoluteLimits(version) })),
};

const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' }), { maxItems: 50 });

function keypairBase(version: string): TProperties {
  return { name: Str, public_key: Str, fingerprint: Type.String({ pattern: '^([0-9a-f]{2}:){15}[0-9a-f]{2}$' }), ...(n(version) >= n('2.2') ? { type: Type.Union([Type.Literal('ssh'), Type.Literal('x509')]) } : {}) };
}

/** an instance action (instance_actions.py ACTION_KEYS; updated_at from 2.58) */
function instanceAction(version: string) {
  return closed({
    action: Str, instance_uuid: Type.String({ format: 'uuid' }), request_id: Type.String({ pattern: '^req-[0-9a-f-]{36}$' }), user_id: Str, project_id: Str,
    start_time: Naive, message: Nullable(Str), ...(n(version) >= n('2.58') ? { updated_at: Nullable(Naive) } : {}),
  });
}

/** views/quota_sets: 2.36 drops the network quotas, 2.57 the injected-file ones */
function quotaKeys(version: string): string[] {
  const keys = ['cores', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_groups', 'server_group_members'];
  if (n(version) < n('2.36')) keys.push('fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups');
  if (n(version) < n('2.57')) keys.push('injected_file_content_bytes', 'injected_file_path_bytes', 'injected_files');
  return keys;
}

/** GET /limits: views/limits.py; 2.36 drops the network proxies, 2.39 maxImageMeta, 2.57 the personality limits */
function absoluteLimits(version: string) {
  const at = (v: string) => n(version) >= n(v);
  const keys = ['maxServerMeta', 'maxTotalKeypairs', 'maxTotalInstances', 'maxTotalCores', 'maxTotalRAMSize', 'maxServerGroups', 'maxServerGroupMembers',
    'totalCoresUsed', 'totalInstancesUsed', 'totalRAMUsed', 'totalServerGroupsUsed'];
  if (!at('2.36')) keys.push('maxSecurityGroups', 'maxSecurityGroupRules', 'maxTotalFloatingIps', 'totalFloatingIpsUsed', 'totalSecurityGroupsUsed');
  if (!at('2.39')) keys.push('maxImageMeta');
  if (!at('2.57')) keys.push('maxPersonality', 'maxPersonalitySize');
  return closed(Object.fromEntries(keys.map((k) => [k, Int])));
}

function flavorBasic(version: string) {
  return closed({ id: Str, name: Str, links: Links, ...(n(version) >= n('2.55') ? { description: Nullable(Type.String({ maxLength: 65535 })) } : {}) });
}

function flavorDetail(version: string) {
  const at = (v: string) => n(version) >= n(v);
  return closed({
    id: Str, name: Str, links: Links, ram: Int, vcpus: Int, disk: Int,
    // before 2.75 a flavor without swap says "" (Nova's views/flavors.py)
    swap: at('2.75') ? Int : Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('')]),
    'OS-FLV-EXT-DATA:ephemeral': Int, 'OS-FLV-DISABLED:disabled': Type.Boolean(), 'os-flavor-access:is_public': Type.Boolean(),
    rxtx_factor: Type.Number(),
    ...(at('2.55') ? { description: Nullable(Type.String({ maxLength: 65535 })) } : {}),
    ...(at('2.61') ? { extra_specs: ExtraSpecs } : {}),
  });
}

/** the schema's complaints about `body`, one line each (empty when it conforms) */
export function violations(schema: TSchema, body: unknown): string[] {
  if (Value.Check(schema, body)) return [];
  return [...Value.Errors(schema, body)].slice(0, 10).map((e) => `${e.path || '/'}: ${e.message} (${JSON.stringify(e.value)?.slice(0, 80)})`);
}
