/**
 * The host monitor (host-monitor/monitor.ts) and automatic evacuation (host-monitor/auto-evacuate.ts) over simulated
 * hosts: each up/down change recorded once with its time and reason (the down time is when the heartbeats stopped),
 * forced down, a restarted monitor that does not record again; automatic evacuation off by default, waiting for its
 * delay, the per-host cap and the concurrent-host limit, and refusing when too many hosts are down at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, IMAGE_ID, type Harness } from '../support/harness.js';
import { addHostB, hostOf } from '../support/two-hosts.js';
import { HostMonitor } from '../../src/controller/host-monitor/monitor.js';
import type { ControllerConfig } from '../../src/controller/config.js';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadControllerFile } from '../../src/cli/controller-command.js';
import { loadConfig } from '../../src/agent/config.js';
import { ConfigError } from '../../src/common/config-file.js';

const S = '/compute/v2.1/servers';

async function addHost(h: Harness, name: string, lastSeenMsAgo = 0): Promise<void> {
  await h.app.novalet.compute.hosts.heartbeat(name, { vcpus: 8, memoryMb: 16384, diskGb: 100, hostIp: '127.0.0.9' }, new Date(Date.now() - lastSeenMsAgo));
  await h.app.novalet.compute.placement.refresh();
}

/** the host's heartbeats stopped `msAgo` */
async function silent(h: Harness, host: string, msAgo: number): Promise<void> {
  await h.store.updateHost(host, { lastSeenAt: new Date(Date.now() - msAgo).toISOString() });
  await h.app.novalet.compute.hosts.list();
}

async function bootOn(h: Harness, host: string, name: string): Promise<string> {
  const r = await h.req(h.tokens.admin, 'POST', S, { server: { name, imageRef: IMAGE_ID, flavorRef: '1', host, networks: 'auto' } }, '2.74');
  assert.equal(r.statusCode, 202, r.body);
  await h.idle();
  return r.json().server.id as string;
}

async function threeHosts(over: Partial<ControllerConfig> = {}): Promise<Harness> {
  const h = await createHarness({ allowResizeToSameHost: false, ...over });
  await addHostB(h);
  await addHost(h, 'host-c');
  return h;
}

test('monitor: each transition once, with its time and reason; forced down; a restarted monitor does not repeat', async () => {
  const h = await threeHosts();
  const m = h.app.novalet.compute.hostFailure.monitor;
  let changes = await m.check();
  assert.deepEqual(changes.map((c) => `${c.host}:${c.state}`).sort(), ['fake-host:up', 'host-b:up', 'host-c:up']);
  assert.deepEqual(await m.check(), [], 'no change, nothing recorded');

  await silent(h, 'host-b', 90_000);
  const now = Date.now();
  changes = await m.check(now);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]!.host, 'host-b');
  assert.equal(changes[0]!.state, 'down');
  assert.match(changes[0]!.reason, /^no heartbeat for 9\d s$/);
  // down from when the heartbeats stopped + service_down_time (60 s), i.e. ~30 s ago, not from this round
  assert.ok(Math.abs(Date.parse(changes[0]!.at) - (now - 30_000)) < 2000, changes[0]!.at);
  assert.ok(m.downSince('host-b'));
  const os = (await h.req(h.tokens.admin, 'GET', '/compute/v2.1/os-services?host=host-b', undefined, '2.11')).json().services[0];
  assert.equal(os.state, 'down');
  const hyp = (await h.req(h.tokens.admin, 'GET', '/compute/v2.1/os-hypervisors', undefined, '2.53')).json().hypervisors.find((x: { hypervisor_hostname: string }) => x.hypervisor_hostname === 'host-b');
  assert.equal(hyp.state, 'down');

  await addHost(h, 'host-b');
  changes = await m.check();
  assert.deepEqual(changes.map((c) => `${c.host}:${c.state}:${c.reason}`), ['host-b:up:heartbeat']);
  assert.equal(m.downSince('host-b'), null);

  // forced down (the 2.11 form: PUT /os-services/force-down)
  const r = await h.req(h.tokens.admin, 'PUT', '/compute/v2.1/os-services/force-down', { host: 'host-c', binary: 'nova-compute', forced_down: true }, '2.11');
  assert.equal(r.statusCode, 200, r.body);
  changes = await m.check();
  assert.deepEqual(changes.map((c) => `${c.host}:${c.state}:${c.reason}`), ['host-c:down:forced down']);

  const hist = await h.store.listHostTransitions({ host: 'host-b' });
  assert.deepEqual(hist.map((t) => t.state), ['up', 'down', 'up'], 'newest first');
  assert.equal((await h.store.listHostTransitions()).length, 6);

  // a new monitor (a controller restart) starts from the recorded states
  const again = new HostMonitor(h.store, h.app.novalet.compute.hosts);
  assert.deepEqual(await again.check(), []);
  assert.ok(again.downSince('host-c'));
  await h.close();
});

test('automatic evacuation: off by default', async () => {
  const h = await threeHosts();
  await bootOn(h, 'host-c', 'x');
  await silent(h, 'host-c', 3_600_000);
  await h.app.novalet.compute.hostFailure.round();
  const r = await h.app.novalet.compute.hostFailure.auto.round();
  assert.match(r.held ?? '', /off/);
  assert.equal((await h.store.listMigrations({})).length, 0);
  await h.close();
});

test('automatic evacuation: after the delay, with the per-host cap and the host limit; never while too many hosts are down', async () => {
  const h = await threeHosts({ evacuation: { auto: true, delaySeconds: 30, maxConcurrentHosts: 1, maxServersPerHost: 2, maxDownFraction: 0.5 } });
  const hf = h.app.novalet.compute.hostFailure;
  const ids = [await bootOn(h, 'host-c', 'a'), await bootOn(h, 'host-c', 'b'), await bootOn(h, 'host-c', 'c')];
  const onB = await bootOn(h, 'host-b', 'd');
  await hf.monitor.check();

  // down since ~5 s (last heartbeat 65 s ago): inside the delay
  await silent(h, 'host-c', 65_000);
  await hf.monitor.check();
  let r = await hf.auto.round();
  assert.equal(r.started.length, 0);
  assert.match(r.held ?? '', /host-c down for less than delaySeconds 30/);

  // 30 s later: two of the three (per-host cap), while they run no more
  const later = Date.now() + 30_000;
  r = await hf.auto.round(later);
  assert.equal(r.started.length, 2);
  assert.deepEqual(r.started.map((x) => x.host), ['host-c', 'host-c']);
  r = await hf.auto.round(later);
  assert.equal(r.started.length, 0, 'the cap counts evacuations still running');
  await h.idle();
  r = await hf.auto.round(later);
  assert.equal(r.started.length, 1, 'the third once the first two are done');
  await h.idle();
  for (const id of ids) {
    const s = (await h.req(h.tokens.admin, 'GET', `${S}/${id}`, undefined, '2.47')).json().server;
    assert.equal(s.status, 'ACTIVE');
    assert.notEqual(s['OS-EXT-SRV-ATTR:host'], 'host-c');
  }
  const actions = (await h.req(h.tokens.admin, 'GET', `${S}/${ids[0]}/os-instance-actions`)).json().instanceActions.map((a: { action: string }) => a.action);
  assert.ok(actions.includes('evacuate'));
  assert.equal(await hostOf(h, onB), 'host-b');

  // two of three hosts down at once: nothing, and the reason
  await silent(h, 'host-b', 3_600_000);
  await hf.monitor.check();
  const before = (await h.store.listMigrations({})).length;
  await addHost(h, 'fake-host');
  r = await hf.auto.round(Date.now() + 5_000);
  assert.equal(r.started.length, 0);
  assert.match(r.held ?? '', /2 of 3 hosts are down, more than maxDownFraction 0.5/);
  assert.equal((await h.store.listMigrations({})).length, before);
  await h.close();
});

test('automatic evacuation: at most maxConcurrentHosts hosts at once', async () => {
  const h = await threeHosts({ evacuation: { auto: true, delaySeconds: 0, maxConcurrentHosts: 1, maxServersPerHost: 5, maxDownFraction: 0.9 } });
  await addHost(h, 'host-d');
  const hf = h.app.novalet.compute.hostFailure;
  await bootOn(h, 'host-c', 'a');
  await bootOn(h, 'host-d', 'b');
  // hold the spawns so that evacuations stay running
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  h.driver.on('spawn', async () => { await gate; return { power: 'running' }; });
  await silent(h, 'host-c', 120_000);
  await silent(h, 'host-d', 120_000);
  await hf.monitor.check();
  const r = await hf.auto.round();
  assert.equal(new Set(r.started.map((x) => x.host)).size, 1, 'one host at a time');
  release();
  await h.idle();
  await h.close();
});

test('config: the evacuation key and the agent lease are checked, naming the bad key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-evac-cfg-'));
  const file = (name: string, body: unknown) => { const f = join(dir, name); writeFileSync(f, JSON.stringify(body)); return f; };
  const ok = { evacuation: { auto: true, delaySeconds: 120, maxConcurrentHosts: 2, maxServersPerHost: 5, maxDownFraction: 0.34, monitorIntervalSeconds: 2 }, serviceDownTimeSeconds: 30 };
  assert.deepEqual(loadControllerFile(file('ok.json', ok)), ok);
  const bad = (body: unknown, re: RegExp) => assert.throws(() => loadControllerFile(file('bad.json', body)), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  bad({ evacuation: { auto: 'yes' } }, /\/evacuation\/auto/);
  bad({ evacuation: { maxDownFraction: 1.5 } }, /\/evacuation\/maxDownFraction/);
  bad({ evacuation: { maxConcurrentHosts: 0 } }, /\/evacuation\/maxConcurrentHosts/);
  bad({ evacuation: { delay: 5 } }, /delay/);
  bad({ serviceDownTimeSeconds: 0 }, /\/serviceDownTimeSeconds/);
  assert.equal(loadConfig(file('agent.json', { controllerLeaseSec: 20 })).controllerLeaseSec, 20);
  assert.equal(loadConfig(undefined).controllerLeaseSec, 0, 'off by default');
  assert.throws(() => loadConfig(file('agent-bad.json', { controllerLeaseSec: -1 })), (e: unknown) => e instanceof ConfigError && /controllerLeaseSec/.test(e.message));
  rmSync(dir, { recursive: true, force: true });
});
