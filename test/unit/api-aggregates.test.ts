/**
 * Host aggregates and availability zones as Nova: os-aggregates (admin) with its errors, os-availability-zone from
 * the aggregates, the zone of services and servers, creates in a zone (the AvailabilityZoneFilter) and moves that
 * stay in the zone a server was created in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostOf, twoHosts } from '../support/two-hosts.js';
import type { Harness } from '../support/harness.js';

const C = '/compute/v2.1';
const A = `${C}/os-aggregates`;

const azOf = async (h: Harness, id: string) => (await h.req(h.tokens.admin, 'GET', `${C}/servers/${id}`)).json().server['OS-EXT-AZ:availability_zone'] as string;

test('os-aggregates: create, show, update, actions and delete with Nova\'s errors; admin only', async () => {
  const h = await twoHosts();
  try {
    assert.equal((await h.req(h.tokens.demo, 'POST', A, { aggregate: { name: 'a1' } })).statusCode, 403);
    assert.equal((await h.req(h.tokens.demo, 'GET', A)).statusCode, 403);
    let r = await h.req(h.tokens.admin, 'POST', A, { aggregate: { name: 'a1', availability_zone: 'az1' } }, '2.41');
    assert.equal(r.statusCode, 200, r.body);
    const a1 = r.json().aggregate;
    assert.deepEqual(Object.keys(a1).sort(), ['availability_zone', 'created_at', 'deleted', 'deleted_at', 'id', 'name', 'updated_at', 'uuid']);
    assert.equal(a1.availability_zone, 'az1');
    assert.match(a1.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal((await h.req(h.tokens.admin, 'POST', A, { aggregate: { name: 'x' } })).json().aggregate.uuid, undefined, 'uuid from 2.41');
    r = await h.req(h.tokens.admin, 'POST', A, { aggregate: { name: 'a1' } });
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().conflictingRequest.message, 'Aggregate a1 already exists.');
    assert.equal((await h.req(h.tokens.admin, 'POST', A, { aggregate: { name: 'bad', availability_zone: 'a:b' } })).statusCode, 400);
    assert.equal((await h.req(h.tokens.admin, 'POST', A, { aggregate: {} })).statusCode, 400);

    r = await h.req(h.tokens.admin, 'POST', `${A}/${a1.id}/action`, { add_host: { host: 'host-b' } });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().aggregate.hosts, ['host-b']);
    assert.deepEqual(r.json().aggregate.metadata, { availability_zone: 'az1' });
    r = await h.req(h.tokens.admin, 'POST', `${A}/${a1.id}/action`, { add_host: { host: 'host-b' } });
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().conflictingRequest.message, `Aggregate ${a1.id} already has host host-b.`);
    r = await h.req(h.tokens.admin, 'POST', `${A}/${a1.id}/action`, { add_host: { host: 'nope' } });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().itemNotFound.message, 'Compute host nope could not be found.');
    assert.equal((await h.req(h.tokens.admin, 'POST', `${A}/999/action`, { add_host: { host: 'host-b' } })).statusCode, 404);

    // a host is in one zone: another zone's aggregate refuses it (409), and a zone given to an aggregate whose
    // hosts are in another zone is refused (400)
    const a2 = (await h.req(h.tokens.admin, 'POST', A, { aggregate: { name: 'a2', availability_zone: 'az2' } })).json().aggregate;
    r = await h.req(h.tokens.admin, 'POST', `${A}/${a2.id}/action`, { add_host: { host: 'host-b' } });
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().conflictingRequest.message, `Cannot add host to aggregate ${a2.id}. Reason: One or more hosts already in availability zone(s) ['az1'].`);
    const plain = (await h.req(h.tokens.admin, 'POST', A, { aggregate: { name: 'plain' } })).json().aggregate;
    assert.equal((await h.req(h.tokens.admin, 'POST', `${A}/${plain.id}/action`, { add_host: { host: 'host-b' } })).statusCode, 200, 'an aggregate without a zone takes it');
    r = await h.req(h.tokens.admin, 'POST', `${A}/${plain.id}/action`, { set_metadata: { metadata: { availability_zone: 'az3', ssd: 'true' } } });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().badRequest.message, `Cannot update metadata of aggregate ${plain.id}. Reason: One or more hosts already in availability zone(s) ['az1'].`);
    r = await h.req(h.tokens.admin, 'PUT', `${A}/${plain.id}`, { aggregate: { availability_zone: 'az3' } });
    assert.equal(r.json().badRequest.message, `Cannot update aggregate ${plain.id}. Reason: One or more hosts already in availability zone(s) ['az1'].`);
    r = await h.req(h.tokens.admin, 'POST', `${A}/${plain.id}/action`, { set_metadata: { metadata: { ssd: 'true', gpu: 'no' } } });
    assert.deepEqual(r.json().aggregate.metadata, { ssd: 'true', gpu: 'no' });
    r = await h.req(h.tokens.admin, 'POST', `${A}/${plain.id}/action`, { set_metadata: { metadata: { gpu: null } } });
    assert.deepEqual(r.json().aggregate.metadata, { ssd: 'true' });

    r = await h.req(h.tokens.admin, 'PUT', `${A}/${plain.id}`, { aggregate: { name: 'a1' } });
    assert.equal(r.statusCode, 409);
    r = await h.req(h.tokens.admin, 'PUT', `${A}/${plain.id}`, { aggregate: { name: 'renamed' } });
    assert.equal(r.json().aggregate.name, 'renamed');
    assert.equal((await h.req(h.tokens.admin, 'PUT', `${A}/${plain.id}`, { aggregate: {} })).statusCode, 400);
    assert.equal((await h.req(h.tokens.admin, 'GET', `${A}/abc`)).statusCode, 400);
    assert.equal((await h.req(h.tokens.admin, 'GET', `${A}/999`)).json().itemNotFound.message, 'Aggregate 999 could not be found.');

    r = await h.req(h.tokens.admin, 'DELETE', `${A}/${plain.id}`);
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().badRequest.message, `Cannot delete aggregate ${plain.id}. Reason: Host aggregate is not empty.`);
    r = await h.req(h.tokens.admin, 'POST', `${A}/${plain.id}/action`, { remove_host: { host: 'fake-host' } });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().itemNotFound.message, `Cannot remove host fake-host in aggregate ${plain.id}`);
    assert.deepEqual((await h.req(h.tokens.admin, 'POST', `${A}/${plain.id}/action`, { remove_host: { host: 'host-b' } })).json().aggregate.hosts, []);
    assert.equal((await h.req(h.tokens.admin, 'DELETE', `${A}/${plain.id}`)).statusCode, 200);
    assert.equal((await h.req(h.tokens.admin, 'GET', `${A}/${plain.id}`)).statusCode, 404);
    const names = (await h.req(h.tokens.admin, 'GET', A)).json().aggregates.map((a: { name: string }) => a.name);
    assert.deepEqual(names, ['a1', 'x', 'a2']);
  } finally { await h.close(); }
});

test('availability zones from aggregates: zone list, detail, services, creates in a zone and moves that stay in it', async () => {
  const h = await twoHosts();
  try {
    const a1 = (await h.req(h.tokens.admin, 'POST', A, { aggregate: { name: 'a1', availability_zone: 'az1' } })).json().aggregate;
    await h.req(h.tokens.admin, 'POST', `${A}/${a1.id}/action`, { add_host: { host: 'host-b' } });

    let r = await h.req(h.tokens.demo, 'GET', `${C}/os-availability-zone`);
    assert.deepEqual(r.json().availabilityZoneInfo, [
      { zoneName: 'nova', zoneState: { available: true }, hosts: null },
      { zoneName: 'az1', zoneState: { available: true }, hosts: null },
    ]);
    r = await h.req(h.tokens.admin, 'GET', `${C}/os-availability-zone/detail`);
    const zones = r.json().availabilityZoneInfo as Array<{ zoneName: string; hosts: Record<string, Record<string, { available: boolean }>> }>;
    assert.deepEqual(zones.map((z) => z.zoneName), ['internal', 'nova', 'az1']);
    assert.deepEqual(Object.keys(Object.values(zones[0]!.hosts)[0]!).sort(), ['nova-conductor', 'nova-scheduler']);
    assert.equal(zones[2]!.hosts['host-b']!['nova-compute']!.available, true);
    assert.deepEqual(Object.keys(zones[1]!.hosts), ['fake-host']);
    r = await h.req(h.tokens.admin, 'GET', `${C}/os-services`);
    assert.deepEqual(Object.fromEntries(r.json().services.map((s: { host: string; zone: string }) => [s.host, s.zone])), { 'fake-host': 'nova', 'host-b': 'az1' });

    // creates: the zone filters (three in az1 all land on its one host), an unknown zone is 400
    const inAz1: string[] = [];
    for (const n of ['z1', 'z2', 'z3']) inAz1.push(await h.boot(h.tokens.demo, n, { availability_zone: 'az1' }));
    for (const id of inAz1) {
      assert.equal(await hostOf(h, id), 'host-b');
      assert.equal(await azOf(h, id), 'az1');
    }
    const inNova = await h.boot(h.tokens.demo, 'n1', { availability_zone: 'nova' });
    assert.equal(await hostOf(h, inNova), 'fake-host');
    r = await h.req(h.tokens.demo, 'POST', `${C}/servers`, { server: { name: 'q', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', availability_zone: 'az9' } });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().badRequest.message, 'The requested availability zone is not available');
    r = await h.req(h.tokens.demo, 'POST', `${C}/servers`, { server: { name: 'q', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', availability_zone: 'az1:fake-host' } });
    assert.equal(r.statusCode, 403, 'a forced host is the admin\'s');
    // the admin's forced host (az:host) is taken whatever its zone; the list filter follows the host's zone
    const forced = await h.boot(h.tokens.admin, 'f1', { availability_zone: 'az1:fake-host' });
    assert.equal(await hostOf(h, forced), 'fake-host');
    assert.equal(await azOf(h, forced), 'nova');
    // 2.74's `host` only requests it (Nova's requested_destination): the zone asked for still filters
    r = await h.req(h.tokens.admin, 'POST', `${C}/servers`, { server: { name: 'r1', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', availability_zone: 'az1', host: 'fake-host', networks: 'auto' } }, '2.74');
    assert.equal(r.statusCode, 202, r.body);
    await h.idle();
    const r1 = (await h.req(h.tokens.admin, 'GET', `${C}/servers/${r.json().server.id}`)).json().server;
    assert.equal(r1.status, 'ERROR');
    assert.match(r1.fault.message, /^No valid host was found\./);
    assert.equal((await h.req(h.tokens.admin, 'DELETE', `${C}/servers/${r1.id}`)).statusCode, 204);
    await h.idle();
    const listed = (await h.req(h.tokens.admin, 'GET', `${C}/servers?all_tenants=1&availability_zone=az1`)).json().servers.map((s: { name: string }) => s.name).sort();
    assert.deepEqual(listed, ['z1', 'z2', 'z3']);

    // moves: a server created in az1 has nowhere else to go in az1; one created without a zone may leave its zone
    r = await h.req(h.tokens.admin, 'POST', `${C}/servers/${inAz1[0]}/action`, { migrate: null });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().badRequest.message, /^No valid host was found/);
    r = await h.req(h.tokens.admin, 'POST', `${C}/servers/${inAz1[1]}/action`, { 'os-migrateLive': { host: 'fake-host', block_migration: 'auto' } }, '2.30');
    assert.equal(r.statusCode, 400, 'a requested (not forced) host outside the zone is filtered out');
    const free = await h.boot(h.tokens.demo, 'free');
    assert.equal(await hostOf(h, free), 'fake-host');
    assert.equal(await azOf(h, free), 'nova');
    r = await h.req(h.tokens.admin, 'POST', `${C}/servers/${free}/action`, { migrate: null });
    assert.equal(r.statusCode, 202, r.body);
    await h.idle();
    assert.equal(await hostOf(h, free), 'host-b');
    assert.equal(await azOf(h, free), 'az1');

    // unshelve (2.77) into a zone: the zone is checked, the server placed in it and pinned to it from then on
    r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${inNova}/action`, { shelve: null });
    assert.equal(r.statusCode, 202, r.body);
    await h.idle();
    r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${inNova}/action`, { unshelve: { availability_zone: 'az9' } }, '2.77');
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().badRequest.message, 'The requested availability zone is not available');
    r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${inNova}/action`, { unshelve: { availability_zone: 'az1' } }, '2.77');
    assert.equal(r.statusCode, 202, r.body);
    await h.idle();
    assert.equal(await hostOf(h, inNova), 'host-b');
    assert.equal(await azOf(h, inNova), 'az1');

    // a zone may not change under servers
    r = await h.req(h.tokens.admin, 'PUT', `${A}/${a1.id}`, { aggregate: { availability_zone: 'az2' } });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().badRequest.message, `Cannot update aggregate ${a1.id}. Reason: One or more hosts contain instances in this zone.`);
  } finally { await h.close(); }
});
