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

test('a build the host failed and rolled back is retried on another host (max_attempts), never on a requested host', async () => {
  const h = await createHarness();
  const hosts = h.app.novalet.compute.hosts;
  for (const name of ['b-1', 'b-2']) await hosts.heartbeat(name, { vcpus: 8, memoryMb: 16384, diskGb: 100, hostIp: '127.0.0.1' });
  await h.app.novalet.compute.placement.refresh();
  // the first host it lands on fails the spawn (and rolls it back); the next one succeeds
  h.driver.failNext('spawn', 'qemu-img: disk full');
  const id = await h.boot(h.tokens.demo, 'retried');
  const s = (await h.req(h.tokens.admin, 'GET', `${S}/${id}`)).json().server;
  assert.equal(s.status, 'ACTIVE');
  const spawns = h.driver.calls.filter((c) => c.op === 'spawn' && c.serverId === id);
  assert.equal(spawns.length, 2);
  assert.notEqual(spawns[0]!.host, spawns[1]!.host, 'retried on another host');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], spawns[1]!.host);
  assert.equal((await h.store.getAllocation(id))?.host, spawns[1]!.host, 'the claim moved with it');
  assert.equal((await h.store.getHostUsage(spawns[0]!.host)).instances, 0);
  // an admin's requested host is not rescheduled; failures on every host end with the last host's error
  h.driver.failNext('spawn', 'no disk on b-1');
  const forced = await h.boot(h.tokens.admin, 'forced', { availability_zone: 'nova:b-1' });
  const f = (await h.req(h.tokens.admin, 'GET', `${S}/${forced}`)).json().server;
  assert.equal(f.status, 'ERROR');
  assert.equal(f.fault.message, 'no disk on b-1');
  assert.equal(h.driver.calls.filter((c) => c.op === 'spawn' && c.serverId === forced).length, 1);
  // an unknown outcome (the host did not roll back) is never retried elsewhere: the guest might run there
  h.driver.failNext('spawn', 'lost the agent', 'internal', false);
  const unknown = await h.boot(h.tokens.demo, 'unknown');
  assert.equal((await h.req(h.tokens.admin, 'GET', `${S}/${unknown}`)).json().server.status, 'ERROR');
  assert.equal(h.driver.calls.filter((c) => c.op === 'spawn' && c.serverId === unknown).length, 1);
  await h.close();
});

test('controller restart: a build that was being deleted (bare task_state from before persisted tasks) is finished as a delete', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo, 'doomed');
  // as a controller from before persisted tasks left it: still building, delete under way, no open action
  await h.store.updateServer(id, { vmState: 'building', taskState: 'deleting' });
  h.driver.calls.length = 0;
  const rep = await h.app.novalet.compute.recover();
  assert.deepEqual(rep.redrivenDeletes, [id]);
  assert.deepEqual(rep.redriven, []);
  await h.idle();
  assert.deepEqual(h.driver.calls.filter((c) => c.serverId === id).map((c) => c.op), ['destroy']);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).statusCode, 404);
  await h.close();
});
