/** GET /servers[/detail]: filters, admin filters, sort, limit/marker with servers_links. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { createHarness, type Harness } from '../support/harness.js';
import { ServerListRenders } from '../../src/api/compute/views/server-list-renders.js';
import { computeUrls } from '../../src/api/compute/urls.js';
import type { ServerQuery } from '../../src/store/index.js';
import { databaseOf } from '../../src/store/sqlite/sqlite-store.js';

const S = '/compute/v2.1/servers';
const names = (r: { json(): any }) => r.json().servers.map((s: { name: string }) => s.name);

async function populate(h: Harness) {
  const ids: Record<string, string> = {};
  for (const n of ['web-1', 'web-2', 'db-1', 'db-2', 'cache']) ids[n] = await h.boot(h.tokens.demo, n);
  ids.other = await h.boot(h.tokens.other, 'web-other');
  await h.req(h.tokens.demo, 'POST', `${S}/${ids['db-1']}/action`, { 'os-stop': null });
  await h.idle();
  return ids;
}

test('filters: name regex, status, image, flavor, ip, changes-since, reservation_id', async () => {
  const h = await createHarness();
  const ids = await populate(h);
  assert.deepEqual(names(await h.req(h.tokens.demo, 'GET', `${S}?name=^web`)).sort(), ['web-1', 'web-2']);
  const shutoff = await h.req(h.tokens.demo, 'GET', `${S}/detail?status=SHUTOFF`);
  assert.equal(shutoff.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(Number(shutoff.headers['content-length']), Buffer.byteLength(shutoff.body));
  assert.deepEqual(names(shutoff), ['db-1']);
  assert.deepEqual(names(await h.req(h.tokens.demo, 'GET', `${S}/detail?status=ACTIVE&name=db`)), ['db-2']);
  assert.equal(names(await h.req(h.tokens.demo, 'GET', `${S}?image=70a599e0-31e7-49b7-b260-868f441e862b`)).length, 5);
  assert.equal(names(await h.req(h.tokens.demo, 'GET', `${S}?flavor=2`)).length, 0);
  const ip = (await h.req(h.tokens.demo, 'GET', `${S}/${ids.cache}`)).json().server.addresses.private[0].addr;
  assert.deepEqual(names(await h.req(h.tokens.demo, 'GET', `${S}?ip=${ip.replace(/\./g, '\\.')}$`)), ['cache']);
  const future = new Date(Date.now() + 60_000).toISOString();
  assert.equal(names(await h.req(h.tokens.demo, 'GET', `${S}?changes-since=${future}`)).length, 0);
  assert.equal(names(await h.req(h.tokens.demo, 'GET', `${S}?changes-since=2000-01-01T00:00:00Z`)).length, 5);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?changes-since=yesterday`)).statusCode, 400);
  const rid = (await h.req(h.tokens.admin, 'GET', `${S}/${ids.cache}`, undefined, '2.3')).json().server['OS-EXT-SRV-ATTR:reservation_id'];
  assert.deepEqual(names(await h.req(h.tokens.demo, 'GET', `${S}?reservation_id=${rid}`)), ['cache']);
  // patterns run in linear time (RE2): nested quantifiers are fine, backreferences are 400
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?name=${encodeURIComponent('(a+)+$')}`)).statusCode, 200);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?name=${encodeURIComponent('(a)\\1')}`)).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?name=${encodeURIComponent('(web|db)-1')}`)).statusCode, 200);
  // status: unknown -> empty before 2.38, 400 from 2.38
  assert.equal(names(await h.req(h.tokens.demo, 'GET', `${S}?status=BOGUS`)).length, 0);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?status=BOGUS`, undefined, '2.38')).statusCode, 400);
  await h.close();
});

test('project isolation and admin filters (all_tenants, host, deleted)', async () => {
  const h = await createHarness();
  await populate(h);
  assert.equal(names(await h.req(h.tokens.demo, 'GET', S)).length, 5);
  assert.deepEqual(names(await h.req(h.tokens.other, 'GET', S)), ['web-other']);
  assert.equal(names(await h.req(h.tokens.admin, 'GET', S)).length, 0, 'admin without all_tenants sees its own project');
  assert.equal(names(await h.req(h.tokens.admin, 'GET', `${S}?all_tenants=1`)).length, 6);
  assert.equal(names(await h.req(h.tokens.admin, 'GET', `${S}?all_tenants`)).length, 6);
  assert.equal(names(await h.req(h.tokens.admin, 'GET', `${S}?all_tenants=1&project_id=${h.ids.otherProject}`)).length, 1);
  assert.equal(names(await h.req(h.tokens.admin, 'GET', `${S}?all_tenants=1&host=fake-host`)).length, 6);
  assert.equal(names(await h.req(h.tokens.admin, 'GET', `${S}?all_tenants=1&host=nope`)).length, 0);
  // host is ignored for non-admins (Nova drops admin-only filters)
  assert.equal(names(await h.req(h.tokens.demo, 'GET', `${S}?host=nope`)).length, 5);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${S}?all_tenants=maybe`)).statusCode, 400);
  await h.close();
});

test('sort_key/sort_dir and limit/marker paging with servers_links', async () => {
  const h = await createHarness();
  await populate(h);
  assert.deepEqual(names(await h.req(h.tokens.demo, 'GET', `${S}?sort_key=display_name&sort_dir=asc`)), ['cache', 'db-1', 'db-2', 'web-1', 'web-2']);
  assert.deepEqual(names(await h.req(h.tokens.demo, 'GET', `${S}?sort_key=display_name&sort_dir=desc`)), ['web-2', 'web-1', 'db-2', 'db-1', 'cache']);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?sort_key=password`)).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?sort_key=display_name&sort_dir=up`)).statusCode, 400);
  // page through by 2
  const seen: string[] = [];
  let url = `${S}/detail?sort_key=display_name&sort_dir=asc&limit=2`;
  for (let i = 0; i < 5; i++) {
    const r = await h.req(h.tokens.demo, 'GET', url);
    assert.equal(r.statusCode, 200);
    seen.push(...names(r));
    const next = r.json().servers_links?.[0]?.href as string | undefined;
    if (!next) break;
    assert.match(next, /^http:\/\/127\.0\.0\.1:8774\/compute\/v2\.1\/servers\/detail\?/);
    assert.match(next, /sort_key=display_name/);
    url = next.replace('http://127.0.0.1:8774', '');
  }
  assert.deepEqual(seen, ['cache', 'db-1', 'db-2', 'web-1', 'web-2']);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?marker=11111111-1111-1111-1111-111111111111`)).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?limit=-1`)).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?limit=abc`)).statusCode, 400);
  await h.close();
});

test('list view shapes: basic {id,name,links}; detail per microversion; flavor embedded from 2.47', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const basic = (await h.req(h.tokens.demo, 'GET', S)).json().servers[0];
  assert.deepEqual(Object.keys(basic).sort(), ['id', 'links', 'name']);
  let d = (await h.req(h.tokens.demo, 'GET', `${S}/detail`)).json().servers[0];
  assert.equal(d.id, id);
  assert.deepEqual(Object.keys(d.flavor).sort(), ['id', 'links']);
  assert.equal(d.locked, undefined);
  d = (await h.req(h.tokens.demo, 'GET', `${S}/detail`, undefined, '2.47')).json().servers[0];
  assert.equal(d.flavor.original_name, 'm1.tiny');
  assert.equal(d.locked, false);
  assert.equal(d.host_status, undefined);
  d = (await h.req(h.tokens.admin, 'GET', `${S}/detail?all_tenants=1`, undefined, '2.16')).json().servers[0];
  assert.equal(d.host_status, 'UP');
  assert.equal(d['OS-EXT-SRV-ATTR:host'], 'fake-host');
  await h.close();
});

test('detailed lists show every change since the last list (renders kept per server revision)', async () => {
  const h = await createHarness();
  const ids = [await h.boot(h.tokens.demo, 'a'), await h.boot(h.tokens.demo, 'b'), await h.boot(h.tokens.demo, 'c')];
  const mv = '2.26';
  // each listed view must equal the server's show, whatever changed since the previous list
  const listMatchesShow = async (what: string) => {
    const listed = (await h.req(h.tokens.admin, 'GET', `${S}/detail?all_tenants=1`, undefined, mv)).json().servers;
    const shown = [];
    for (const s of listed) shown.push((await h.req(h.tokens.admin, 'GET', `${S}/${s.id}`, undefined, mv)).json().server);
    assert.deepEqual(listed, shown, what);
    return listed as Array<Record<string, any>>;
  };
  const byId = (l: Array<Record<string, any>>, id: string) => l.find((s) => s.id === id)!;
  await listMatchesShow('first list');
  await listMatchesShow('second list');
  assert.equal((await h.req(h.tokens.demo, 'PUT', `${S}/${ids[0]}`, { server: { name: 'renamed' } })).statusCode, 200);
  assert.equal(byId(await listMatchesShow('rename'), ids[0]!).name, 'renamed');
  assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${ids[1]}/metadata`, { metadata: { k: 'v' } })).statusCode, 200);
  assert.deepEqual(byId(await listMatchesShow('metadata'), ids[1]!).metadata, { k: 'v' });
  assert.equal((await h.req(h.tokens.demo, 'PUT', `${S}/${ids[1]}/tags/t1`, undefined, '2.26')).statusCode, 201);
  assert.deepEqual(byId(await listMatchesShow('tag'), ids[1]!).tags, ['t1']);
  await h.req(h.tokens.demo, 'POST', `${S}/${ids[2]}/action`, { 'os-stop': null });
  await h.idle();
  assert.equal(byId(await listMatchesShow('stop'), ids[2]!).status, 'SHUTOFF');
  await h.req(h.tokens.demo, 'POST', `${S}/${ids[2]}/action`, { lock: null });
  assert.equal(byId(await listMatchesShow('lock'), ids[2]!).locked, true);
  // a write that bypasses the API (another controller, an operator's SQL) is seen too
  databaseOf(h.store).prepare('UPDATE servers SET access_ipv4 = ? WHERE id = ?').run('192.0.2.9', ids[0]);
  assert.equal(byId(await listMatchesShow('raw write'), ids[0]!).accessIPv4, '192.0.2.9');
  // host_status follows the host, not the server: forcing the host down shows without any server write
  const svc = (await h.req(h.tokens.admin, 'GET', '/compute/v2.1/os-services', undefined, '2.53')).json().services[0];
  assert.equal((await h.req(h.tokens.admin, 'PUT', `/compute/v2.1/os-services/${svc.id}`, { forced_down: true }, '2.53')).statusCode, 200);
  assert.deepEqual((await listMatchesShow('host forced down')).map((s) => s.host_status), ['DOWN', 'DOWN', 'DOWN']);
  await h.req(h.tokens.demo, 'DELETE', `${S}/${ids[1]}`);
  await h.idle();
  assert.deepEqual((await listMatchesShow('delete')).map((s) => s.id).sort(), [ids[0], ids[2]].sort());
  // what an admin was shown is not what a member is shown, nor another microversion
  const member = (await h.req(h.tokens.demo, 'GET', `${S}/detail`, undefined, mv)).json().servers;
  assert.equal(member.length, 2);
  assert.ok(member.every((s: Record<string, unknown>) => !('OS-EXT-SRV-ATTR:host' in s) && !('host_status' in s)));
  const old = (await h.req(h.tokens.demo, 'GET', `${S}/detail`)).json().servers;
  assert.ok(old.every((s: Record<string, unknown>) => !('tags' in s) && !('locked' in s)));
  await h.close();
});

test('renders: kept once a server is listed twice unchanged; bounded by size, least recently listed out first', async () => {
  const h = await createHarness();
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push(await h.boot(h.tokens.demo, `s${i}`));
  const servers = h.app.novalet.compute.servers;
  const req = { ctx: { roles: ['admin'] }, mv: 2001 } as unknown as FastifyRequest;
  const expected = (await h.req(h.tokens.admin, 'GET', `${S}/detail?all_tenants=1`)).json().servers as Array<Record<string, unknown>>;
  const pageOf = (r: ServerListRenders) => async (q: ServerQuery) => (await r.page(req, q, () => 'UP')).views.map((v) => JSON.parse(v) as unknown);

  const roomy = new ServerListRenders(computeUrls(h.cfg), servers);
  const page = pageOf(roomy);
  assert.deepEqual(await page({}), expected);
  assert.equal(roomy.stats().renders, 0, 'listed once: nothing kept');
  assert.deepEqual(await page({}), expected);
  assert.equal(roomy.stats().renders, 6, 'listed twice unchanged: kept');
  await h.req(h.tokens.demo, 'PUT', `${S}/${ids[0]}`, { server: { name: 'renamed' } });
  const afterRename = await page({});
  assert.equal((afterRename.find((v) => (v as { id: string }).id === ids[0]) as { name: string }).name, 'renamed');
  assert.equal(roomy.stats().renders, 5, 'written since: rendered, not kept');
  await page({});
  assert.equal(roomy.stats().renders, 6);

  const one = JSON.stringify(expected[0]).length + 100;
  const tight = new ServerListRenders(computeUrls(h.cfg), servers, one * 2.5);
  const tightPage = pageOf(tight);
  const all = await tightPage({});
  assert.equal(all.length, 6);
  assert.deepEqual(await tightPage({}), all);
  assert.ok(tight.stats().chars <= one * 2.5, 'within the bound');
  assert.ok(tight.stats().renders <= 2);
  assert.deepEqual(await tightPage({ limit: 2 }), all.slice(0, 2));
  await h.close();
});

test('detailed list bodies carry any text: non-ASCII names and metadata values round-trip, content-length exact', async () => {
  const h = await createHarness();
  const names = ['ünïcödé', '服务器-1', 'emoji 🚀 "quoted" \\ back'];
  for (const n of names) await h.boot(h.tokens.demo, n, { metadata: { key: 'значение' } });
  for (let i = 0; i < 3; i++) { // first lists render, later ones reuse the kept renders
    const r = await h.req(h.tokens.demo, 'GET', `${S}/detail`);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body));
    const servers = r.json().servers as Array<{ name: string; metadata: Record<string, string> }>;
    assert.deepEqual(servers.map((s) => s.name).sort(), [...names].sort());
    assert.ok(servers.every((s) => s.metadata.key === 'значение'));
  }
  await h.close();
});
