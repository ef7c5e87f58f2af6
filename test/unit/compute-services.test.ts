/** The controller services the compute routes call (FlavorService, ServerMetaService, ServerLookup), without HTTP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../support/harness.js';
import type { RequestContext } from '../../src/controller/context.js';
import { ApiError } from '../../src/controller/errors.js';
import { FlavorService, parseIsPublic } from '../../src/controller/compute/flavors.js';
import { MAX_TAGS, ServerMetaService } from '../../src/controller/compute/server-meta.js';
import { ServerLookup } from '../../src/controller/compute/access.js';

const refused = (code: string, message: RegExp) => (err: unknown) => err instanceof ApiError && err.code === code && message.test(err.message);

test('FlavorService: create with Nova conversions, conflicts by id and name, description, extra specs, delete', async () => {
  const h = await createHarness();
  const flavors = new FlavorService(h.store);
  const f = await flavors.create({ id: 'f1', name: 'tiny', ram: '64', vcpus: 1, disk: 0, swap: '', isPublic: 'no' });
  assert.deepEqual([f.ram, f.swap, f.ephemeral, f.rxtxFactor, f.isPublic], [64, 0, 0, 1, false]);
  assert.deepEqual(await flavors.get('f1'), f);
  await assert.rejects(flavors.create({ id: 'f1', name: 'other', ram: 1, vcpus: 1, disk: 0 }), refused('conflict', /ID f1 already exists/));
  await assert.rejects(flavors.create({ name: 'tiny', ram: 1, vcpus: 1, disk: 0 }), refused('conflict', /name tiny already exists/));
  await assert.rejects(flavors.create({ name: ' lead', ram: 1, vcpus: 1, disk: 0 }), refused('bad_request', /field\/attribute name/));
  await assert.rejects(flavors.create({ name: 'x', ram: 1, vcpus: 1, disk: 0, rxtxFactor: 'abc' }), refused('bad_request', /rxtx_factor/));
  assert.equal((await flavors.updateDescription('f1', 'small')).description, 'small');
  await flavors.setExtraSpecs('f1', { 'hw:cpu_policy': 'dedicated' });
  assert.equal(await flavors.extraSpec('f1', 'hw:cpu_policy'), 'dedicated');
  await flavors.deleteExtraSpec('f1', 'hw:cpu_policy');
  await assert.rejects(flavors.extraSpec('f1', 'hw:cpu_policy'), refused('not_found', /no extra specs with key hw:cpu_policy/));
  await assert.rejects(flavors.checkMarker('nope'), refused('bad_request', /^marker \[nope\] not found$/));
  await flavors.delete('f1');
  await assert.rejects(flavors.delete('f1'), refused('not_found', /Flavor f1 could not be found/));
  await assert.rejects(flavors.setExtraSpecs('f1', {}), refused('not_found', /Flavor f1/));
  assert.equal(parseIsPublic(undefined, true), true);
  assert.equal(parseIsPublic('T', false), true);
  assert.throws(() => parseIsPublic('maybe', true), refused('bad_request', /Invalid is_public filter \[maybe\]/));
  await h.close();
});

test('ServerMetaService: metadata obeys the lock (gate.ts) and the metadata_items quota; tags are capped', async () => {
  const h = await createHarness({ quotaDefaults: { instances: 10, cores: 20, ram: 51200, key_pairs: 100, metadata_items: 2, server_groups: 10, server_group_members: 10 } });
  const meta = new ServerMetaService(h.store, h.app.novalet.compute.quotas);
  const lookup = new ServerLookup(h.store);
  const id = await h.boot(h.tokens.demo);
  const s = (await h.store.getServer(id))!;
  const owner: RequestContext = { requestId: 'req-1', userId: h.ids.demoUser, userName: 'demo', projectId: s.projectId, projectName: 'demo', domainId: 'default', roles: ['member', 'reader'], tokenId: 't' };
  const admin: RequestContext = { ...owner, userId: 'admin', projectId: h.ids.adminProject, roles: ['admin', 'member', 'reader'] };
  const stranger: RequestContext = { ...owner, projectId: h.ids.otherProject };

  assert.deepEqual(await meta.setMetadata(owner, id, { a: '1' }, false), { a: '1' });
  assert.deepEqual(await meta.setMetadata(owner, id, { b: '2' }, false), { a: '1', b: '2' });
  await assert.rejects(meta.setMetadata(owner, id, { c: '3' }, false), refused('over_quota', /metadata_items: Requested 3/));
  assert.deepEqual(await meta.setMetadata(owner, id, { c: '3' }, true), { c: '3' });
  await assert.rejects(meta.setMetadata(stranger, id, { d: '4' }, false), refused('not_found', /could not be found/));
  await h.store.updateServer(id, { locked: true });
  await assert.rejects(meta.setMetadata(owner, id, { d: '4' }, false), refused('locked', /is locked/));
  await assert.rejects(meta.deleteMetadataKey(owner, id, 'c'), refused('locked', /is locked/));
  await meta.deleteMetadataKey(admin, id, 'c');
  await assert.rejects(meta.deleteMetadataKey(admin, id, 'c'), refused('not_found', /Metadata item was not found/));

  assert.deepEqual(await meta.replaceTags(s, ['x', 'y', 'x']), ['x', 'y']);
  const tagged = (await lookup.find(owner, id))!;
  assert.equal(await meta.addTag(tagged, 'x'), false);
  assert.equal(await meta.addTag(tagged, 'z'), true);
  await meta.deleteTag(tagged, 'z');
  await assert.rejects(meta.deleteTag(tagged, 'z'), refused('not_found', /Tag z could not be found/));
  const full = { ...tagged, tags: Array.from({ length: MAX_TAGS }, (_, i) => `t${i}`) };
  await assert.rejects(meta.addTag(full, 'one-more'), refused('bad_request', /per-server limit 50/));
  await meta.clearTags(s);
  assert.deepEqual((await lookup.find(owner, id))!.tags, []);
  assert.equal(await lookup.find(stranger, id), null);
  await lookup.checkMarker(id);
  await h.close();
});
