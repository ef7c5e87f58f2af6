/** os-simple-tenant-usage: hours in the window times the flavor, policy, 2.40 paging (novaclient pages to the end). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../support/harness.js';

const U = '/compute/v2.1/os-simple-tenant-usage';
const H = 3_600_000;
const iso = (t: number) => new Date(t).toISOString().replace('Z', '');

test('usage: hours within the window times vCPUs/RAM/disk; terminated servers count until they ended', async () => {
  const h = await createHarness();
  const end = Date.now() - H;
  const start = end - 24 * H;
  const a = await h.boot(h.tokens.demo, 'a'); // m1.tiny: 1 vCPU, 128 MB, 1 GB
  const b = await h.boot(h.tokens.demo, 'b', { flavorRef: '2' }); // m1.small: 1 vCPU, 256 MB, 2 GB
  const old = await h.boot(h.tokens.demo, 'old');
  await h.store.updateServer(a, { launchedAt: new Date(end - 10 * H).toISOString() });
  await h.store.updateServer(b, { launchedAt: new Date(start - 5 * H).toISOString(), terminatedAt: new Date(start + 3 * H).toISOString() });
  await h.store.updateServer(old, { launchedAt: new Date(start - 9 * H).toISOString(), terminatedAt: new Date(start - H).toISOString() });
  const other = await h.boot(h.tokens.other, 'x');
  await h.store.updateServer(other, { launchedAt: new Date(end - 2 * H).toISOString() });

  const r = await h.req(h.tokens.demo, 'GET', `${U}/${h.ids.demoProject}?start=${iso(start)}&end=${iso(end)}`);
  assert.equal(r.statusCode, 200, r.body);
  const u = r.json().tenant_usage;
  assert.equal(u.tenant_id, h.ids.demoProject);
  const byName = Object.fromEntries(u.server_usages.map((s: { name: string }) => [s.name, s]));
  assert.deepEqual(Object.keys(byName).sort(), ['a', 'b'], 'terminated before the window: not counted');
  assert.ok(Math.abs(byName.a.hours - 10) < 1e-6);
  assert.ok(Math.abs(byName.b.hours - 3) < 1e-6);
  assert.equal(byName.b.state, 'terminated');
  assert.equal(byName.a.state, 'active');
  assert.equal(byName.a.flavor, 'm1.tiny');
  assert.ok(Math.abs(u.total_hours - 13) < 1e-6);
  assert.ok(Math.abs(u.total_vcpus_usage - 13) < 1e-6);
  assert.ok(Math.abs(u.total_memory_mb_usage - (128 * 10 + 256 * 3)) < 1e-6);
  assert.ok(Math.abs(u.total_local_gb_usage - (1 * 10 + 2 * 3)) < 1e-6);
  assert.equal(u.start, `${iso(start)}000`);

  // list: admin only, every project
  assert.equal((await h.req(h.tokens.demo, 'GET', `${U}?start=${iso(start)}&end=${iso(end)}`)).statusCode, 403);
  const all = (await h.req(h.tokens.admin, 'GET', `${U}?start=${iso(start)}&end=${iso(end)}&detailed=1`)).json().tenant_usages;
  assert.deepEqual(all.map((x: { tenant_id: string }) => x.tenant_id).sort(), [h.ids.demoProject, h.ids.otherProject].sort());
  const brief = (await h.req(h.tokens.admin, 'GET', `${U}?start=${iso(start)}&end=${iso(end)}`)).json().tenant_usages;
  assert.equal(brief[0].server_usages, undefined, 'server_usages only with detailed=1');
  // another project's usage: 403 for members, fine for admins
  assert.equal((await h.req(h.tokens.demo, 'GET', `${U}/${h.ids.otherProject}?start=${iso(start)}&end=${iso(end)}`)).statusCode, 403);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${U}/${h.ids.otherProject}?start=${iso(start)}&end=${iso(end)}`)).json().tenant_usage.server_usages.length, 1);
  // a window with nothing in it: {}
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${U}/${h.ids.demoProject}?start=2001-01-01T00:00:00&end=2001-01-02T00:00:00`)).json(), { tenant_usage: {} });
  // bad windows
  // no window given: [now, now], valid and worth nothing (Nova reads the clock twice)
  const none = await h.req(h.tokens.demo, 'GET', `${U}/${h.ids.demoProject}`);
  assert.equal(none.statusCode, 200);
  assert.equal(none.json().tenant_usage.total_hours, 0);
  for (const q of [`start=${iso(end)}&end=${iso(start)}`, `start=${iso(end)}&end=${iso(end)}`, 'start=yesterday&end=2030-01-01T00:00:00']) {
    const e = await h.req(h.tokens.demo, 'GET', `${U}/${h.ids.demoProject}?${q}`);
    assert.equal(e.statusCode, 400, q);
    assert.equal(e.json().badRequest.code, 400);
  }
  await h.close();
});

test('usage from 2.40: limit/marker pages with next links until an empty page (what nova usage loops on)', async () => {
  const h = await createHarness();
  // launched a minute ago: a server launched in the very millisecond of the request is outside the window (Nova's
  // launched_at < end, end clamped to now), which made this test miss one now and then
  for (const n of ['p1', 'p2', 'p3']) await h.store.updateServer(await h.boot(h.tokens.demo, n), { launchedAt: new Date(Date.now() - 60_000).toISOString() });
  const end = iso(Date.now() + H);
  const seen: string[] = [];
  let url = `${U}/${h.ids.demoProject}?start=2001-01-01T00:00:00&end=${end}&limit=2`;
  for (let page = 0; page < 5; page++) {
    const r = await h.req(h.tokens.demo, 'GET', url.replace(/^https?:\/\/[^/]+/, ''), undefined, '2.40');
    assert.equal(r.statusCode, 200, r.body);
    const servers = (r.json().tenant_usage.server_usages ?? []) as Array<{ instance_id: string }>;
    seen.push(...servers.map((s) => s.instance_id));
    const next = r.json().tenant_usage_links?.[0]?.href as string | undefined;
    if (servers.length === 0) break;
    // novaclient's loop: marker = the last instance of the page
    url = next ?? `${U}/${h.ids.demoProject}?start=2001-01-01T00:00:00&end=${end}&limit=2&marker=${servers[servers.length - 1]!.instance_id}`;
  }
  assert.equal(seen.length, 3);
  assert.equal(new Set(seen).size, 3, 'no server twice');
  const bad = await h.req(h.tokens.demo, 'GET', `${U}/${h.ids.demoProject}?start=2001-01-01T00:00:00&end=${end}&marker=nope`, undefined, '2.40');
  assert.equal(bad.statusCode, 400);
  // before 2.40 there is no paging: everything at once, no links
  const all = (await h.req(h.tokens.demo, 'GET', `${U}/${h.ids.demoProject}?start=2001-01-01T00:00:00&end=${end}&limit=1`)).json();
  assert.equal(all.tenant_usage.server_usages.length, 3);
  assert.equal(all.tenant_usage_links, undefined);
  await h.close();
});
