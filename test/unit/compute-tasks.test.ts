/**
 * The task engine as users see it through the API: a delete right after a create never leaves a guest behind
 * (the delete cancels the build and waits for it), and a failed task's fault keeps the host's error code, with
 * the code and message (never a stack) in the instance action's event.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHarness, IMAGE_ID } from '../support/harness.js';

const S = '/compute/v2.1/servers';

test('delete at any moment of a build: no guest outlives its server', async () => {
  const h = await createHarness({ quotaDefaults: { instances: 1000, cores: 10_000, ram: 10_000_000, key_pairs: 100, metadata_items: 128, server_groups: 10, server_group_members: 10 } }, 3);
  // a slow host: the spawn takes a while, so deletes land before, during and after it
  h.driver.on('spawn', async (c) => { await sleep(15); h.driver.guests.set(c.serverId, { host: c.host, power: 'running' }); return { power: 'running' }; });
  const ids: string[] = [];
  await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const r = await h.req(h.tokens.demo, 'POST', S, { server: { name: `d${i}`, imageRef: IMAGE_ID, flavorRef: '1', networks: 'none' } }, '2.37');
    assert.equal(r.statusCode, 202, r.body);
    const id = r.json().server.id as string;
    ids.push(id);
    await sleep(i % 25);
    assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
  }));
  await h.idle();
  for (const id of ids) assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).statusCode, 404);
  assert.deepEqual([...h.driver.guests.keys()].filter((g) => ids.includes(g)), [], 'guests left running on the host');
  for (const id of ids) assert.equal(await h.store.getAllocation(id), null);
  await h.close();
});

test('a failed task keeps the host\'s error code in the fault; the event has code and message, no stack', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  h.driver.failNext('pause', 'Requested operation is not valid: domain is not running', 'invalid_state');
  assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { pause: null })).statusCode, 202);
  await h.idle();
  const s = (await h.req(h.tokens.admin, 'GET', `${S}/${id}`)).json().server;
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-STS:task_state'], null);
  // Nova records the fault on the server and shows it in the view only in ERROR: look at the record
  const fault = (await h.store.getServer(id))!.fault!;
  assert.equal(fault.code, 409);
  assert.equal(fault.message, 'Requested operation is not valid: domain is not running');
  const actions = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions as Array<{ action: string; request_id: string }>;
  const pause = actions.find((a) => a.action === 'pause')!;
  const ev = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions/${pause.request_id}`, undefined, '2.51')).json().instanceAction.events[0];
  assert.equal(ev.result, 'Error');
  assert.equal(ev.traceback, 'invalid_state: Requested operation is not valid: domain is not running');
  await h.close();
});
