/**
 * The controller driving agents over the real RPC: simulated hosts (real Agent + RPC server on the fake
 * hypervisor) behind a real controller process (SQLite file, HTTP). Placement, fixed IPs, actions, power sync
 * from heartbeats, scheduling failures, and a controller restart that finds the agent's operation by request id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { startSimHosts, type SimHosts } from '../../src/sim/index.js';
import { startControllerProcess, type ControllerProcess } from '../../src/cli/controller-process.js';
import { login } from '../support/harness.js';
import { agentRequestId } from '../../src/controller/hosts/transport.js';
import { freePort } from '../support/ports.js';

const SECRET = 'controller-agents-test-secret-0123456789';
const log = pino({ level: 'silent' });

describe('controller + agents over RPC (simulated hosts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-ca-'));
  let sim: SimHosts;
  let c: ControllerProcess;
  let port = 0;
  let demo = '';
  let admin = '';
  let imageId = '';

  const start = async () => {
    c = await startControllerProcess({
      dataDir: join(dir, 'controller'), listenHost: '127.0.0.1', listenPort: port, secret: SECRET, log,
      agents: sim.hosts.map((h) => ({ url: h.url })), passwords: { admin: 'adminpw', demo: 'demopw' },
      heartbeatIntervalMs: 60_000,
    });
    demo = await login(c.app, 'demo', 'demopw', 'demo');
    admin = await login(c.app, 'admin', 'adminpw', 'admin');
  };
  const api = async (token: string, method: string, path: string, body?: unknown, version = '2.74') => {
    const r = await fetch(`${c.url}/compute/v2.1${path}`, {
      method, headers: { 'x-auth-token': token, 'openstack-api-version': `compute ${version}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const waitServer = async (id: string, ok: (s: any) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = (await api(admin, 'GET', `/servers/${id}`)).body.server;
      if (ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`server ${id}: ${JSON.stringify(s)}`);
      await sleep(50);
    }
  };
  const create = async (name: string, extra: Record<string, unknown> = {}, token = demo) => {
    const r = await api(token, 'POST', '/servers', { server: { name, imageRef: imageId, flavorRef: '1', networks: 'auto', ...extra } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.server.id as string;
  };
  const settled = (s: any) => s['OS-EXT-STS:task_state'] === null && s.status !== 'BUILD';

  before(async () => {
    sim = await startSimHosts({ count: 3, basePort: 0, secret: SECRET, log, hostInfo: { cpus: 4, memoryMiB: 4096, freeMemoryMiB: 4000 } });
    port = await freePort();
    await start();
    const img = await c.app.novalet.images.create(null, { name: 'img', visibility: 'public', diskFormat: 'qcow2', containerFormat: 'bare' });
    const { Readable } = await import('node:stream');
    imageId = (await c.app.novalet.images.upload(null, img.id, Readable.from([Buffer.from('qcow2 bytes')]))).id;
  });

  after(async () => {
    await c.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hosts register from heartbeats and appear in os-hypervisors / os-services', async () => {
    const hv = (await api(admin, 'GET', '/os-hypervisors/detail')).body.hypervisors;
    assert.deepEqual(hv.map((h: any) => h.hypervisor_hostname).sort(), sim.hosts.map((h) => h.name).sort());
    assert.ok(hv.every((h: any) => h.state === 'up'));
  });

  it('creates spread across hosts (most free RAM first); each NIC gets its own fixed IP and MAC; the agent runs it', async () => {
    const ids = [await create('a', { user_data: Buffer.from('#!/bin/sh\necho hi\n').toString('base64') }), await create('b'), await create('c')];
    const servers = await Promise.all(ids.map((id) => waitServer(id, settled)));
    assert.ok(servers.every((s) => s.status === 'ACTIVE'), JSON.stringify(servers.map((s) => [s.status, s.fault])));
    assert.equal(new Set(servers.map((s) => s['OS-EXT-SRV-ATTR:host'])).size, 3, 'one per host');
    const addrs = servers.map((s) => s.addresses.private[0]);
    assert.equal(new Set(addrs.map((a: any) => a.addr)).size, 3);
    assert.equal(new Set(addrs.map((a: any) => a['OS-EXT-IPS-MAC:mac_addr'])).size, 3);
    for (const s of servers) {
      const host = sim.hosts.find((h) => h.name === s['OS-EXT-SRV-ATTR:host'])!;
      const onAgent = host.agent.getServer(s.id);
      assert.equal(onAgent.server.power, 'running');
      assert.equal(onAgent.server.spec.nics?.[0]?.ip, s.addresses.private[0].addr, 'the agent got the fixed IP for its DHCP entry');
      // user data reaches the guest only on a config drive (no metadata service): built for 'a', not for the others
      assert.equal(onAgent.server.spec.configDrive, s.name === 'a', s.name);
      if (s.name === 'a') assert.equal(Buffer.from(onAgent.server.spec.userData!, 'base64').toString(), '#!/bin/sh\necho hi\n');
    }
  });

  it('an admin can place a server on a host (2.74 host); an unknown host fails the build with a fault', async () => {
    const target = sim.hosts[1]!.name;
    const id = await create('placed', { host: target }, admin);
    assert.equal((await waitServer(id, settled))['OS-EXT-SRV-ATTR:host'], target);
    const bad = await create('nowhere', { host: 'no-such-host' }, admin);
    const s = await waitServer(bad, settled);
    assert.equal(s.status, 'ERROR');
    assert.match(s.fault.message, /no-such-host could not be found/);
  });

  it('a flavor no host can hold ends in ERROR with "No valid host"', async () => {
    const f = await api(admin, 'POST', '/flavors', { flavor: { name: 'huge', ram: 8192, vcpus: 1, disk: 1 } });
    assert.equal(f.status, 200, JSON.stringify(f.body));
    const id = await create('huge', { flavorRef: f.body.flavor.id });
    const s = await waitServer(id, settled);
    assert.equal(s.status, 'ERROR');
    assert.match(s.fault.message, /No valid host was found/);
  });

  it('actions go to the agent of the server\'s host; the guest powering itself off is synced to SHUTOFF', async () => {
    const id = await create('act');
    const s = await waitServer(id, settled);
    const host = sim.hosts.find((h) => h.name === s['OS-EXT-SRV-ATTR:host'])!;
    assert.equal((await api(demo, 'POST', `/servers/${id}/action`, { pause: null })).status, 202);
    await waitServer(id, (x) => x.status === 'PAUSED' && settled(x));
    assert.equal(host.agent.getServer(id).server.power, 'paused');
    assert.equal((await api(demo, 'POST', `/servers/${id}/action`, { unpause: null })).status, 202);
    await waitServer(id, (x) => x.status === 'ACTIVE' && settled(x));
    host.hv.guestPowerOff(id);
    await sleep(100);
    await c.cluster.heartbeats!.poll();
    const after = await waitServer(id, settled);
    assert.equal(after.status, 'SHUTOFF');
    assert.equal(after['OS-EXT-STS:power_state'], 4);
  });

  /** the host loses the guest (domain gone, journal kept): SHUTOFF with power 0 after the next heartbeat; then os-start */
  async function loseGuestThenStart(host: (typeof sim.hosts)[number], id: string): Promise<void> {
    await host.hv.destroy(id);
    await host.hv.undefine(id);
    for (let i = 0; i < 100 && host.agent.getServer(id).server.power !== 'nostate'; i++) await sleep(10);
    await c.cluster.heartbeats!.poll();
    const off = await waitServer(id, (x) => x.status === 'SHUTOFF' && settled(x));
    assert.equal(off['OS-EXT-STS:power_state'], 0);
    assert.equal((await api(demo, 'POST', `/servers/${id}/action`, { 'os-start': null })).status, 202);
  }

  it('a host that lost a guest (domain gone, journal kept): SHUTOFF after the next heartbeat, and start brings it back', async () => {
    const id = await create('lost');
    const s = await waitServer(id, settled);
    const host = sim.hosts.find((h) => h.name === s['OS-EXT-SRV-ATTR:host'])!;
    await loseGuestThenStart(host, id);
    const back = await waitServer(id, (x) => x.status === 'ACTIVE' && settled(x));
    assert.equal(back['OS-EXT-STS:power_state'], 1);
    assert.equal(host.hv.inspect(id)?.power, 'running');
    assert.equal((await api(demo, 'DELETE', `/servers/${id}`)).status, 204);
  });

  it('a paused server whose host lost its guest: SHUTOFF after the next heartbeat (not PAUSED with nothing running), start brings it back', async () => {
    const id = await create('lost-paused');
    const s = await waitServer(id, settled);
    const host = sim.hosts.find((h) => h.name === s['OS-EXT-SRV-ATTR:host'])!;
    assert.equal((await api(demo, 'POST', `/servers/${id}/action`, { pause: null })).status, 202);
    await waitServer(id, (x) => x.status === 'PAUSED' && settled(x));
    await loseGuestThenStart(host, id);
    await waitServer(id, (x) => x.status === 'ACTIVE' && settled(x));
    assert.equal(host.hv.inspect(id)?.power, 'running');
    assert.equal((await api(demo, 'DELETE', `/servers/${id}`)).status, 204);
  });

  it('a guest of a server deleted behind the host\'s back is found by the heartbeat and destroyed after the grace period', async () => {
    const id = await create('orphan');
    const s = await waitServer(id, settled);
    const host = sim.hosts.find((h) => h.name === s['OS-EXT-SRV-ATTR:host'])!;
    // deleted in the database two minutes ago, the host never told (a delete that lost its race, a restored backup)
    await c.store.markServerDeleted(id, new Date(Date.now() - 120_000).toISOString());
    assert.equal(host.hv.has(id), true);
    for (let i = 0; i < 7 && host.hv.has(id); i++) await c.cluster.heartbeats!.poll();
    assert.equal(host.hv.has(id), false, 'the orphaned guest was destroyed');
    assert.equal(host.agent.getServer(id).server.status, 'deleted');
  });

  it('a drained host gets no new servers; undrained, it is schedulable again', async () => {
    const drained = sim.hosts[0]!;
    drained.agent.runner.drained = true;
    const made: Array<[string, string]> = [];
    try {
      await c.cluster.heartbeats!.poll();
      for (let i = 0; i < 3; i++) {
        const s = await waitServer(await create(`drain-${i}`), settled);
        made.push([demo, s.id]);
        assert.equal(s.status, 'ACTIVE');
        assert.notEqual(s['OS-EXT-SRV-ATTR:host'], drained.name);
      }
    } finally {
      drained.agent.runner.drained = false;
      await c.cluster.heartbeats!.poll();
    }
    const forced = await waitServer(await create('undrained', { host: drained.name }, admin), settled);
    made.push([admin, forced.id]);
    assert.equal(forced['OS-EXT-SRV-ATTR:host'], drained.name);
    for (const [token, id] of made) assert.equal((await api(token, 'DELETE', `/servers/${id}`)).status, 204);
  });

  it('createImage of a server on another machine: the agent uploads the snapshot over a signed URL; the image is active with its bytes', async () => {
    const id = await create('snap');
    const s = await waitServer(id, settled);
    const host = sim.hosts.find((h) => h.name === s['OS-EXT-SRV-ATTR:host'])!;
    const r = await api(demo, 'POST', `/servers/${id}/action`, { createImage: { name: 'snap-img' } }, '2.45');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const imageId = r.body.image_id as string;
    await waitServer(id, settled);
    let img: any;
    for (let i = 0; i < 100; i++) {
      img = await (await fetch(`${c.url}/image/v2/images/${imageId}`, { headers: { 'x-auth-token': demo } })).json();
      if (img.status === 'active') break;
      await sleep(50);
    }
    assert.equal(img.status, 'active');
    const cached = readFileSync(host.agent.deps.images.pathFor(imageId));
    assert.equal(img.size, cached.length);
    const dl = Buffer.from(await (await fetch(`${c.url}/image/v2/images/${imageId}/file`, { headers: { 'x-auth-token': demo } })).arrayBuffer());
    assert.ok(dl.equals(cached), 'the image store holds what the agent snapshotted');
    // the upload URL only works with its own signature, and never with a download one
    const forged = await fetch(`${c.url}/internal/images/${imageId}/file?expires=9999999999&sig=00`, { method: 'PUT', body: 'x', headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(forged.status, 403);
  });

  it('delete destroys on the agent and frees the port and its fixed IP', async () => {
    const id = await create('gone');
    const s = await waitServer(id, settled);
    const host = sim.hosts.find((h) => h.name === s['OS-EXT-SRV-ATTR:host'])!;
    assert.equal((await api(demo, 'DELETE', `/servers/${id}`)).status, 204);
    for (let i = 0; i < 100 && (await api(demo, 'GET', `/servers/${id}`)).status !== 404; i++) await sleep(50);
    assert.equal((await api(demo, 'GET', `/servers/${id}`)).status, 404);
    assert.equal(host.hv.has(id), false);
    assert.deepEqual(await c.store.listPorts({ deviceId: id }), [], 'its port and address are given back');
  });

  it('controller restart mid-build: the agent already ran the spawn; recovery finds it by request id instead of spawning twice', async () => {
    const host = sim.hosts[2]!;
    // a build whose controller died after the agent accepted it: server row + open action, spawn on the agent
    const id = await create('restart', { host: host.name }, admin);
    const done = await waitServer(id, settled);
    assert.equal(done.status, 'ACTIVE');
    const action = (await c.store.listInstanceActions(id))[0]!;
    await c.store.updateServer(id, { vmState: 'building', taskState: 'scheduling', powerState: 0 });
    await c.store.failOpenActions(id, new Date().toISOString(), 'x');
    await c.store.createInstanceAction({ serverId: id, action: 'create', requestId: action.requestId, userId: action.userId, projectId: action.projectId, startTime: new Date().toISOString(), message: null });
    const opsBefore = host.agent.getServer(id).operations.length;
    await c.close();
    await start();
    assert.deepEqual(c.recovered.redriven, [id]);
    const s = await waitServer(id, settled);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], host.name);
    assert.equal(host.agent.getServer(id).operations.length, opsBefore, 'no second spawn on the agent');
    assert.ok(host.agent.getServer(id).operations.some((o) => o.requestId === agentRequestId(action.requestId, id)));
  });
});
