/**
 * os-server-groups through the API on fake hosts behind the real scheduler: the views by microversion, quotas and
 * project scoping, and placement by policy — anti-affinity puts members apart (and refuses one that fits nowhere
 * with "No valid host was found."), affinity together, max_server_per_host (2.64), soft anti-affinity spreads,
 * same_host / different_host. Racing anti-affinity members on two controllers sharing a database never share a host.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness, IMAGE_ID, type Harness } from '../support/harness.js';

const SG = '/compute/v2.1/os-server-groups';
const S = '/compute/v2.1/servers';
const QUOTA = { instances: 1000, cores: 10_000, ram: 10_000_000, key_pairs: 100, metadata_items: 128, server_groups: 10, server_group_members: 10 };

async function hosts(h: Harness, names: string[], vcpus = 8): Promise<void> {
  await h.app.novalet.compute.hosts.update('fake-host', { disabled: true });
  for (const name of names) await h.app.novalet.compute.hosts.heartbeat(name, { vcpus, memoryMb: 16384, diskGb: 100, hostIp: '127.0.0.1' });
  await h.app.novalet.compute.placement.refresh();
}

async function group(h: Harness, body: Record<string, unknown>, version = '2.64'): Promise<string> {
  const r = await h.req(h.tokens.demo, 'POST', SG, { server_group: body }, version);
  assert.equal(r.statusCode, 200, r.body);
  return r.json().server_group.id as string;
}

async function member(h: Harness, name: string, hints: Record<string, unknown>): Promise<Record<string, any>> {
  const r = await h.req(h.tokens.demo, 'POST', S, { server: { name, imageRef: IMAGE_ID, flavorRef: '1', networks: 'none' }, 'os:scheduler_hints': hints }, '2.74');
  assert.equal(r.statusCode, 202, r.body);
  await h.idle();
  return (await h.req(h.tokens.admin, 'GET', `${S}/${r.json().server.id}`, undefined, '2.74')).json().server;
}

test('server group API: views by microversion, soft policies from 2.15, rules only for anti-affinity, scoping, quota', async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'POST', SG, { server_group: { name: 'old', policies: ['anti-affinity'] } });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(Object.keys(r.json().server_group).sort(), ['id', 'members', 'metadata', 'name', 'policies']);
  assert.deepEqual(r.json().server_group.policies, ['anti-affinity']);
  assert.equal((await h.req(h.tokens.demo, 'POST', SG, { server_group: { name: 's', policies: ['soft-affinity'] } }, '2.14')).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'POST', SG, { server_group: { name: 's', policies: ['soft-affinity'] } }, '2.15')).statusCode, 200);
  r = await h.req(h.tokens.demo, 'POST', SG, { server_group: { name: 'new', policy: 'anti-affinity', rules: { max_server_per_host: 2 } } }, '2.64');
  assert.equal(r.statusCode, 200, r.body);
  const g = r.json().server_group;
  assert.deepEqual({ policy: g.policy, rules: g.rules, members: g.members, project: g.project_id === h.ids.demoProject }, { policy: 'anti-affinity', rules: { max_server_per_host: 2 }, members: [], project: true });
  assert.equal(g.policies, undefined);
  assert.equal((await h.req(h.tokens.demo, 'POST', SG, { server_group: { name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } } }, '2.64')).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'POST', SG, { server_group: { name: 'x', policies: ['anti-affinity'] } }, '2.64')).statusCode, 400);
  // another project's group is not found; admins list every project's with all_projects
  assert.equal((await h.req(h.tokens.other, 'GET', `${SG}/${g.id}`)).statusCode, 404);
  assert.equal((await h.req(h.tokens.other, 'GET', SG)).json().server_groups.length, 0);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${SG}?all_projects=True`)).json().server_groups.length, 3);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${SG}?limit=1&offset=1`)).json().server_groups.length, 1);
  // a create with another project's group is refused
  const og = (await h.req(h.tokens.other, 'POST', SG, { server_group: { name: 'o', policies: ['affinity'] } })).json().server_group.id;
  assert.equal((await h.req(h.tokens.demo, 'POST', S, { server: { name: 'x', imageRef: IMAGE_ID, flavorRef: '1' }, 'os:scheduler_hints': { group: og } })).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${SG}/${g.id}`)).statusCode, 204);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${SG}/${g.id}`)).statusCode, 404);
  for (let i = 0; i < 8; i++) assert.equal((await h.req(h.tokens.demo, 'POST', SG, { server_group: { name: `q${i}`, policies: ['affinity'] } })).statusCode, 200);
  assert.equal((await h.req(h.tokens.demo, 'POST', SG, { server_group: { name: 'over', policies: ['affinity'] } })).statusCode, 403);
  await h.close();
});

test('placement by group policy: anti-affinity apart (then No valid host), affinity together, max_server_per_host, soft anti-affinity, same/different host', async () => {
  const h = await createHarness({ quotaDefaults: QUOTA });
  await hosts(h, ['h1', 'h2', 'h3']);
  const anti = await group(h, { name: 'anti', policy: 'anti-affinity' });
  const placed = [];
  for (let i = 0; i < 3; i++) placed.push((await member(h, `anti-${i}`, { group: anti }))['OS-EXT-SRV-ATTR:host']);
  assert.equal(new Set(placed).size, 3, `members apart: ${placed}`);
  const fourth = await member(h, 'anti-3', { group: anti });
  assert.equal(fourth.status, 'ERROR');
  assert.match(fourth.fault.message, /^No valid host was found\./);
  const shown = (await h.req(h.tokens.demo, 'GET', `${SG}/${anti}`, undefined, '2.64')).json().server_group;
  assert.equal(shown.members.length, 4, 'a member from its create on');
  const s0 = (await h.req(h.tokens.demo, 'GET', `${S}/${fourth.id}`, undefined, '2.71')).json().server;
  assert.deepEqual(s0.server_groups, [anti]);

  const aff = await group(h, { name: 'aff', policy: 'affinity' });
  const together = [];
  for (let i = 0; i < 3; i++) together.push((await member(h, `aff-${i}`, { group: aff }))['OS-EXT-SRV-ATTR:host']);
  assert.equal(new Set(together).size, 1, `members together: ${together}`);

  const two = await group(h, { name: 'two', policy: 'anti-affinity', rules: { max_server_per_host: 2 } });
  const pairs = [];
  for (let i = 0; i < 6; i++) pairs.push((await member(h, `two-${i}`, { group: two }))['OS-EXT-SRV-ATTR:host']);
  for (const host of ['h1', 'h2', 'h3']) assert.equal(pairs.filter((x) => x === host).length, 2, `two per host: ${pairs}`);

  const soft = await group(h, { name: 'soft', policy: 'soft-anti-affinity' });
  const spread = [];
  for (let i = 0; i < 4; i++) spread.push((await member(h, `soft-${i}`, { group: soft }))['OS-EXT-SRV-ATTR:host']);
  assert.equal(new Set(spread.slice(0, 3)).size, 3, `soft members spread first: ${spread}`);
  assert.equal((await member(h, 'soft-extra', { group: soft })).status, 'ACTIVE', 'a soft policy never refuses');

  const ref = await member(h, 'ref', {});
  assert.equal((await member(h, 'same', { same_host: ref.id }))['OS-EXT-SRV-ATTR:host'], ref['OS-EXT-SRV-ATTR:host']);
  assert.notEqual((await member(h, 'diff', { different_host: [ref.id] }))['OS-EXT-SRV-ATTR:host'], ref['OS-EXT-SRV-ATTR:host']);
  assert.equal((await h.req(h.tokens.demo, 'POST', S, { server: { name: 'bad', imageRef: IMAGE_ID, flavorRef: '1', networks: 'none' }, 'os:scheduler_hints': { group: 'nope' } }, '2.74')).statusCode, 400);
  await h.close();
});

test('anti-affinity members racing on two controllers sharing a database never share a host', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-sg-'));
  const dbPath = join(dir, 'shared.db');
  const a = await createHarness({ quotaDefaults: { ...QUOTA, server_group_members: 100 } }, 1, { dbPath });
  const b = await createHarness({ quotaDefaults: { ...QUOTA, server_group_members: 100 } }, 1, { dbPath });
  try {
    await hosts(a, ['r1', 'r2', 'r3', 'r4', 'r5']);
    await b.app.novalet.compute.placement.refresh();
    const g = await group(a, { name: 'race', policy: 'anti-affinity' });
    const posts = await Promise.all(Array.from({ length: 20 }, (_, i) => {
      const h = i % 2 ? a : b;
      return h.req(h.tokens.demo, 'POST', S, { server: { name: `r${i}`, imageRef: IMAGE_ID, flavorRef: '1', networks: 'none' }, 'os:scheduler_hints': { group: g } }, '2.74');
    }));
    assert.ok(posts.every((r) => r.statusCode === 202));
    await Promise.all([a.idle(), b.idle()]);
    const servers = (await a.req(a.tokens.admin, 'GET', `${S}/detail?all_tenants=1`, undefined, '2.74')).json().servers as Array<Record<string, any>>;
    const active = servers.filter((s) => s.name.startsWith('r') && s.status === 'ACTIVE').map((s) => s['OS-EXT-SRV-ATTR:host']);
    assert.equal(active.length, 5, 'one member on each of the five hosts');
    assert.equal(new Set(active).size, 5, `no host holds two members: ${active}`);
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a claim re-checks its group rule in its transaction (a view that missed a racing member cannot break the policy)', async () => {
  const h = await createHarness({ quotaDefaults: QUOTA });
  await hosts(h, ['c1', 'c2']);
  const anti = await group(h, { name: 'anti', policy: 'anti-affinity' });
  const aff = await group(h, { name: 'aff', policy: 'affinity' });
  const first = await member(h, 'first', { group: anti });
  const firstAff = await member(h, 'first-aff', { group: aff });
  const res = { vcpus: 1, memoryMb: 512, diskGb: 1 };
  const store = h.store;
  await store.addServerGroupMember(anti, 'late-anti');
  await store.addServerGroupMember(aff, 'late-aff');
  const other = (x: string) => (x === 'c1' ? 'c2' : 'c1');
  // as if the scheduler's view proposed the first member's host for an anti-affinity member, and another for affinity
  assert.equal(await store.claimHost('late-anti', first['OS-EXT-SRV-ATTR:host'], res, null, { groupId: anti, policy: 'anti-affinity', maxPerHost: 1 }), false);
  assert.equal(await store.claimHost('late-anti', other(first['OS-EXT-SRV-ATTR:host']), res, null, { groupId: anti, policy: 'anti-affinity', maxPerHost: 1 }), true);
  assert.equal(await store.claimHost('late-aff', other(firstAff['OS-EXT-SRV-ATTR:host']), res, null, { groupId: aff, policy: 'affinity', maxPerHost: Infinity }), false);
  assert.equal(await store.claimHost('late-aff', firstAff['OS-EXT-SRV-ATTR:host'], res, null, { groupId: aff, policy: 'affinity', maxPerHost: Infinity }), true);
  await h.close();
});
