/** Compute API exactness (issue 18, "Defects"): response shapes and input rules as Nova has them. */
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { createHarness, IMAGE_ID } from '../support/harness.js';
import { canonicalIPv6 } from '../../src/common/ipv6.js';

const S = '/compute/v2.1/servers';

/** the keys Nova's update (and rebuild) response leaves out below 2.75 (views/servers.py show() flags) */
const EXTENDED = [
  'OS-EXT-AZ:availability_zone', 'config_drive', 'key_name', 'OS-SRV-USG:launched_at', 'OS-SRV-USG:terminated_at',
  'OS-EXT-STS:task_state', 'OS-EXT-STS:vm_state', 'OS-EXT-STS:power_state', 'os-extended-volumes:volumes_attached',
  'security_groups',
];
const ADMIN_EXTENDED = ['OS-EXT-SRV-ATTR:host', 'OS-EXT-SRV-ATTR:instance_name', 'OS-EXT-SRV-ATTR:hypervisor_hostname', 'host_status'];
const minor = (v: string): number => Number(v.split('.')[1]);
const addressKeys = (s: Record<string, any>) => [...new Set(Object.values(s.addresses as Record<string, Array<Record<string, unknown>>>).flat().flatMap((a) => Object.keys(a)))].sort();

test('PUT /servers/{id} below 2.75 answers the restricted view, from 2.75 the full one', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  for (const v of ['2.1', '2.9', '2.19', '2.26', '2.47', '2.71', '2.73', '2.74']) {
    const r = await h.req(h.tokens.admin, 'PUT', `${S}/${id}`, { server: { name: `n${v}` } }, v);
    assert.equal(r.statusCode, 200, r.body);
    const s = r.json().server;
    for (const k of [...EXTENDED, ...ADMIN_EXTENDED, 'OS-EXT-SRV-ATTR:user_data', 'user_data']) assert.ok(!(k in s), `${v}: ${k} must not be in the update response`);
    assert.deepEqual(addressKeys(s), ['addr', 'version'], `${v}: addresses without OS-EXT-IPS`);
    assert.equal('locked' in s, v !== '2.1', `${v}: locked from 2.9`);
    assert.equal('description' in s, ['2.19', '2.26', '2.47', '2.71', '2.73', '2.74'].includes(v), `${v}: description from 2.19`);
    assert.equal('tags' in s, ['2.26', '2.47', '2.71', '2.73', '2.74'].includes(v), `${v}: tags from 2.26`);
    assert.equal('original_name' in s.flavor, ['2.47', '2.71', '2.73', '2.74'].includes(v), `${v}: embedded flavor from 2.47`);
    assert.equal('server_groups' in s, ['2.71', '2.73', '2.74'].includes(v), `${v}: server_groups from 2.71`);
    assert.equal('locked_reason' in s, ['2.73', '2.74'].includes(v), `${v}: locked_reason from 2.73`);
  }
  const full = (await h.req(h.tokens.admin, 'PUT', `${S}/${id}`, { server: { name: 'n275' } }, '2.75')).json().server;
  for (const k of [...EXTENDED, ...ADMIN_EXTENDED, 'OS-EXT-SRV-ATTR:user_data']) assert.ok(k in full, `2.75: ${k} in the update response`);
  assert.deepEqual(addressKeys(full), ['OS-EXT-IPS-MAC:mac_addr', 'OS-EXT-IPS:type', 'addr', 'version']);
  const member = (await h.req(h.tokens.demo, 'PUT', `${S}/${id}`, { server: { name: 'm275' } }, '2.75')).json().server;
  for (const k of EXTENDED) assert.ok(k in member, `2.75 member: ${k}`);
  for (const k of ADMIN_EXTENDED) assert.ok(!(k in member), `2.75 member: no ${k}`);
  await h.close();
});

test('rebuild below 2.75 answers the restricted view (key_name from 2.54, user_data from 2.57), from 2.75 the full one', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const rebuild = async (v: string, token = h.tokens.admin) => {
    const r = await h.req(token, 'POST', `${S}/${id}/action`, { rebuild: { imageRef: IMAGE_ID, ...(minor(v) >= 57 ? { user_data: 'aGVsbG8=' } : {}) } }, v);
    assert.equal(r.statusCode, 202, `${v}: ${r.body}`);
    await h.idle();
    return r.json().server as Record<string, any>;
  };
  for (const v of ['2.1', '2.19', '2.26', '2.47', '2.54', '2.57', '2.71', '2.73', '2.74']) {
    const s = await rebuild(v);
    assert.ok(s.adminPass, `${v}: adminPass`);
    for (const k of [...EXTENDED.filter((k) => k !== 'key_name'), ...ADMIN_EXTENDED, 'OS-EXT-SRV-ATTR:user_data']) assert.ok(!(k in s), `${v}: ${k} must not be in the rebuild response`);
    assert.deepEqual(addressKeys(s), ['addr', 'version'], `${v}: addresses without OS-EXT-IPS`);
    assert.equal('key_name' in s, ['2.54', '2.57', '2.71', '2.73', '2.74'].includes(v), `${v}: key_name from 2.54`);
    assert.equal('user_data' in s, ['2.57', '2.71', '2.73', '2.74'].includes(v), `${v}: user_data from 2.57`);
    assert.equal('server_groups' in s, ['2.71', '2.73', '2.74'].includes(v), `${v}: server_groups from 2.71`);
  }
  const full = await rebuild('2.75');
  for (const k of [...EXTENDED, ...ADMIN_EXTENDED, 'user_data']) assert.ok(k in full, `2.75: ${k} in the rebuild response`);
  assert.equal(full.user_data, 'aGVsbG8=');
  assert.ok(!('OS-EXT-SRV-ATTR:user_data' in full), 'user_data is shown once, as user_data');
  assert.deepEqual(addressKeys(full), ['OS-EXT-IPS-MAC:mac_addr', 'OS-EXT-IPS:type', 'addr', 'version']);
  const member = await rebuild('2.93', h.tokens.demo);
  assert.equal(member.user_data, 'aGVsbG8=', 'user_data kept when the rebuild does not name it');
  for (const k of ADMIN_EXTENDED) assert.ok(!(k in member), `member: no ${k}`);
  await h.close();
});

test('POST /flavors accepts a number as id and stores its string form', async () => {
  const h = await createHarness();
  const body = (id: unknown) => ({ flavor: { name: `f-${String(id)}`, ram: 512, vcpus: 1, disk: 1, id } });
  let r = await h.req(h.tokens.admin, 'POST', '/compute/v2.1/flavors', body(4242));
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().flavor.id, '4242');
  assert.equal((await h.req(h.tokens.admin, 'GET', '/compute/v2.1/flavors/4242')).statusCode, 200);
  r = await h.req(h.tokens.admin, 'POST', '/compute/v2.1/flavors', body(null));
  assert.equal(r.statusCode, 200, r.body);
  assert.match(r.json().flavor.id, /^[0-9a-f-]{36}$/);
  for (const bad of [true, '', ' x', {}, []]) {
    assert.equal((await h.req(h.tokens.admin, 'POST', '/compute/v2.1/flavors', body(bad))).statusCode, 400, JSON.stringify(bad));
  }
  await h.close();
});

test('metadata keys: empty or outside Nova\'s pattern are 400 in every metadata-like body', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  for (const md of [{ '': '' }, { 'a/b': 'x' }, { ['k'.repeat(256)]: 'x' }]) {
    const what = JSON.stringify(md).slice(0, 30);
    assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { createImage: { name: 'x', metadata: md } })).statusCode, 400, `createImage ${what}`);
    assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { rebuild: { imageRef: IMAGE_ID, metadata: md } })).statusCode, 400, `rebuild ${what}`);
    assert.equal((await h.req(h.tokens.demo, 'POST', S, { server: { name: 'x', imageRef: IMAGE_ID, flavorRef: '1', metadata: md } })).statusCode, 400, `create ${what}`);
    assert.equal((await h.req(h.tokens.demo, 'PUT', `${S}/${id}/metadata`, { metadata: md })).statusCode, 400, `metadata ${what}`);
    assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${id}/metadata`, { metadata: md })).statusCode, 400, `metadata ${what}`);
  }
  for (const specs of [{ '': 'x' }, { 'bad key!': 'x' }, { 'a/b': 'x' }, { a: true }]) {
    const r = await h.req(h.tokens.admin, 'POST', '/compute/v2.1/flavors/1/os-extra_specs', { extra_specs: specs });
    assert.equal(r.statusCode, 400, `extra_specs ${JSON.stringify(specs)}`);
  }
  assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${id}/metadata`, { metadata: { 'a-b_c:d. e': 'ok' } })).statusCode, 200);
  assert.equal((await h.req(h.tokens.admin, 'POST', '/compute/v2.1/flavors/1/os-extra_specs', { extra_specs: { 'hw:cpu_policy': 'dedicated' } })).statusCode, 200);
  await h.close();
});

test('accessIPv6 is stored and returned in its canonical form', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo, 's1', { accessIPv6: '2001:0DB8:0000:0000:0000:0000:0000:0001' });
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).json().server.accessIPv6, '2001:db8::1');
  const u = await h.req(h.tokens.demo, 'PUT', `${S}/${id}`, { server: { accessIPv6: '0000:0000:0000:0000:0000:babe:220.12.22.2' } });
  assert.equal(u.json().server.accessIPv6, '::babe:dc0c:1602');
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).json().server.accessIPv6, '::babe:dc0c:1602');
  const r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { rebuild: { imageRef: IMAGE_ID, accessIPv6: 'FE80:0:0:0:0:0:0:1' } });
  assert.equal(r.json().server.accessIPv6, 'fe80::1');
  await h.close();
});

test('canonicalIPv6: inet_ntop\'s text (longest zero run, dotted tail only for ::a.b.c.d and ::ffff:a.b.c.d)', () => {
  const cases: Array<[string, string]> = [
    ['::', '::'], ['0:0:0:0:0:0:0:1', '::1'], ['1:0:0:0:0:0:0:0', '1::'], ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'], ['::FFFF:1.2.3.4', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::1.2.3.4'], ['::babe:1.2.3.4', '::babe:102:304'], ['not an address', 'not an address'],
  ];
  for (const [a, want] of cases) assert.equal(canonicalIPv6(a), want, a);
});

test('changes-since and changes-before accept ISO 8601 only', async () => {
  const h = await createHarness();
  await h.boot(h.tokens.demo);
  for (const bad of ['2011/01/01', 'Jan 1 2011', '2011-01-01T00:00:00 GMT', '2011-13-01', '2011-02-30', '1293840000', '2011-01-01T25:00:00Z']) {
    const q = encodeURIComponent(bad);
    assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?changes-since=${q}`)).statusCode, 400, `changes-since=${bad}`);
    assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/detail?changes-before=${q}`, undefined, '2.66')).statusCode, 400, `changes-before=${bad}`);
  }
  for (const good of ['2011-01-01', '2011-01-01T00:00:00Z', '2011-01-01T00:00:00', '2011-01-01 00:00:00', '2011-01-01T00:00:00.123456+02:00', '20110101T000000Z', '2011']) {
    const q = encodeURIComponent(good);
    const r = await h.req(h.tokens.demo, 'GET', `${S}?changes-since=${q}`);
    assert.equal(r.statusCode, 200, `changes-since=${good}: ${r.body}`);
    assert.equal(r.json().servers.length, 1, good);
    assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?changes-before=${q}`, undefined, '2.66')).json().servers.length, 0, `changes-before=${good}`);
  }
  await h.close();
});

test('reservation ids are Nova\'s: r- and 8 of [0-9a-z]', async () => {
  const h = await createHarness();
  for (let i = 0; i < 5; i++) {
    const r = await h.req(h.tokens.demo, 'POST', S, { server: { name: `r${i}`, imageRef: IMAGE_ID, flavorRef: '1', return_reservation_id: true } });
    assert.match(r.json().reservation_id, /^r-[0-9a-z]{8}$/);
  }
  await h.idle();
  await h.close();
});

test('instance actions: changes-since (2.58) and changes-before (2.66) are ISO 8601 filters on updated_at', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const A = `${S}/${id}/os-instance-actions`;
  const count = async (q: string, v = '2.66') => {
    const r = await h.req(h.tokens.demo, 'GET', `${A}?${q}`, undefined, v);
    assert.equal(r.statusCode, 200, `${q}: ${r.body}`);
    return r.json().instanceActions.length as number;
  };
  assert.equal(await count('changes-since=2011-01-01T00:00:00Z'), 1);
  assert.equal(await count('changes-since=2999-01-01'), 0);
  assert.equal(await count('changes-before=2011-01-01'), 0);
  assert.equal(await count('changes-before=2999-01-01T00:00:00Z'), 1);
  assert.equal(await count('changes-since=2999-01-01', '2.57'), 1, 'no filters before 2.58');
  for (const [q, v] of [['changes-since=2011/01/01', '2.58'], ['changes-before=yesterday', '2.66']]) {
    assert.equal((await h.req(h.tokens.demo, 'GET', `${A}?${q}`, undefined, v)).statusCode, 400, q);
  }
  assert.equal((await h.req(h.tokens.demo, 'GET', `${A}?changes-since=2020-01-02&changes-before=2020-01-01`, undefined, '2.66')).statusCode, 400);
  await h.close();
});

test('instance action events: not shown to members below 2.51; hostId is the hashed host from 2.62', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const A = `${S}/${id}/os-instance-actions`;
  const rid = (await h.req(h.tokens.demo, 'GET', A)).json().instanceActions[0].request_id;
  const show = async (token: string, v: string) => (await h.req(token, 'GET', `${A}/${rid}`, undefined, v)).json().instanceAction;
  assert.ok(!('events' in await show(h.tokens.demo, '2.50')), 'member below 2.51: no events');
  assert.ok('events' in await show(h.tokens.admin, '2.1'), 'admin: events at every version');
  // an event that ran on a host (Nova's generate_hostid: sha224 of project and host; '' without a host)
  const action = (await h.store.getInstanceActionByRequest(id, rid))!;
  await h.store.startActionEvent(action.id, 'compute_on_host', new Date().toISOString(), 'fake-host');
  const events = (await show(h.tokens.demo, '2.62')).events as Array<Record<string, unknown>>;
  for (const e of events) assert.ok(!('traceback' in e) && !('host' in e), 'member: no traceback, no host');
  assert.deepEqual(events.map((e) => e.hostId).sort(), ['', createHash('sha224').update(h.ids.demoProject + 'fake-host').digest('hex')].sort());
  await h.close();
});

test('os-extra_specs create and update echo the body as sent; numbers are stored as strings', async () => {
  const h = await createHarness();
  const E = '/compute/v2.1/flavors/1/os-extra_specs';
  const c = await h.req(h.tokens.admin, 'POST', E, { extra_specs: { 'hw:numa_nodes': 1, 'hw:cpu_policy': 'dedicated' } });
  assert.equal(c.statusCode, 200, c.body);
  assert.deepEqual(c.json(), { extra_specs: { 'hw:numa_nodes': 1, 'hw:cpu_policy': 'dedicated' } });
  const u = await h.req(h.tokens.admin, 'PUT', `${E}/hw:numa_nodes`, { 'hw:numa_nodes': 2 });
  assert.deepEqual(u.json(), { 'hw:numa_nodes': 2 });
  assert.deepEqual((await h.req(h.tokens.admin, 'GET', E)).json(), { extra_specs: { 'hw:numa_nodes': '2', 'hw:cpu_policy': 'dedicated' } });
  await h.close();
});

test('os-migrations: changes-since (2.59) and changes-before (2.66) are ISO 8601 only', async () => {
  const h = await createHarness();
  const M = '/compute/v2.1/os-migrations';
  assert.equal((await h.req(h.tokens.admin, 'GET', `${M}?changes-since=2011-01-01T00:00:00Z`, undefined, '2.59')).statusCode, 200);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${M}?changes-since=2011/01/01`, undefined, '2.59')).statusCode, 400);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${M}?changes-before=yesterday`, undefined, '2.66')).statusCode, 400);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${M}?changes-since=2020-01-02&changes-before=2020-01-01`, undefined, '2.66')).statusCode, 400);
  await h.close();
});
