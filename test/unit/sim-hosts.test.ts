import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startSimHosts, type SimHosts } from '../../src/sim/index.js';
import { AgentClient, RpcError } from '../../src/rpc/client.js';
import { ctlRequest } from '../../src/agent/ctl/client.js';

const SECRET = 'sim-test-secret-0123456789';
let sim: SimHosts;

before(async () => {
  sim = await startSimHosts({
    count: 4, basePort: 0, secret: SECRET, log: pino({ level: 'silent' }), warm: false,
    agent: { shutdownTimeoutSec: 2, shutdownRetryIntervalSec: 0.2, pollIntervalMs: 10 },
  });
});
after(async () => { await sim.close(); });

const spec = (uuid: string) => ({
  spec: { uuid, displayName: `srv-${uuid.slice(-4)}`, vcpus: 1, memoryMiB: 128, image: { id: 'img-sim', source: '/nonexistent/sim-image', format: 'qcow2' as const }, rootGiB: 1,
    // a fixed IP on the controller's default network: the host must have that libvirt network (DHCP host entry)
    nics: [{ portId: `port-${uuid.slice(-4)}`, mac: 'fa:16:3e:00:00:01', ip: '10.0.0.5', attachment: { type: 'network' as const, network: 'private' } }] },
});

test('sim hosts: each port is its own host (inventory over the real protocol, concurrently)', async () => {
  assert.equal(sim.hosts.length, 4);
  assert.equal(new Set(sim.hosts.map((h) => h.port)).size, 4);
  const clients = sim.hosts.map((h) => new AgentClient({ url: h.url, secret: SECRET }));
  // many requests in flight at once across hosts: every answer must come from the host the port belongs to
  const invs = await Promise.all(Array.from({ length: 40 }, (_, i) => clients[i % 4]!.inventory().then((inv) => ({ i, inv }))));
  for (const { i, inv } of invs) {
    assert.equal(inv.protocol, 'novalet-agent/1');
    assert.equal(inv.hostname, sim.hosts[i % 4]!.name);
    assert.equal(inv.hostUuid, sim.hosts[i % 4]!.hostUuid);
  }
  assert.deepEqual(sim.hosts.map((h) => h.name), ['sim-0001', 'sim-0002', 'sim-0003', 'sim-0004']);
  assert.ok(invs[0]!.inv.hypervisor.cpus > 0);
});

test('sim hosts: spawn, stop and list through AgentClient land on the right host only', async () => {
  const a = new AgentClient({ url: sim.hosts[1]!.url, secret: SECRET });
  const b = new AgentClient({ url: sim.hosts[2]!.url, secret: SECRET });
  const id = '51a0beef-0000-4000-8000-000000000001';
  const op = await a.run('spawn', id, spec(id), { timeoutMs: 10_000 });
  assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
  assert.equal((await a.getServer(id)).server.power, 'running');
  assert.equal(sim.hosts[1]!.hv.has(id), true);
  assert.equal(sim.hosts[2]!.hv.has(id), false);
  assert.deepEqual((await sim.hosts[1]!.hv.listDhcpHosts('private')).map((h) => h.ip), ['10.0.0.5']);
  assert.equal((await b.listServers()).servers.length, 0);
  await assert.rejects(b.getServer(id), (e: unknown) => e instanceof RpcError && e.code === 'unknown_server' && e.status === 404);
  const stop = await a.run('stop', id, {}, { timeoutMs: 10_000 });
  assert.equal(stop.state, 'succeeded');
  assert.ok((await a.inventory()).servers.some((s) => s.uuid === id && s.power === 'shutdown'));
  // duplicate request id is answered from the journal of the same host
  const again = await a.submit('start', id, {}, 'req-sim-dup');
  const dup = await a.submit('start', id, {}, 'req-sim-dup');
  assert.equal(dup.duplicate, true);
  assert.equal(dup.operation.id, again.operation.id);
});

test('sim hosts: the protocol checks run as on a real agent (secret, protocol header)', async () => {
  const bad = new AgentClient({ url: sim.hosts[0]!.url, secret: 'wrong-secret-but-long-enough' });
  await assert.rejects(bad.inventory(), (e: unknown) => e instanceof RpcError && e.code === 'unauthorized' && e.status === 401);
  const c = new AgentClient({ url: sim.hosts[0]!.url, secret: SECRET });
  const r = await c.raw('GET', '/v1/inventory', undefined, { 'x-novalet-protocol': 'novalet-agent/9', 'x-request-id': 'req-sim-1' });
  assert.equal(r.status, 400);
  assert.equal((r.body as { error: { code: string } }).error.code, 'unsupported_version');
  assert.equal(r.headers['x-request-id'], 'req-sim-1');
});

test('sim hosts: each serves its own novalet ctl socket (status, drain/undrain reach that host only)', async () => {
  const [h1, h2] = [sim.hosts[0]!, sim.hosts[1]!];
  assert.ok(h1.ctlSocket && h2.ctlSocket && h1.ctlSocket !== h2.ctlSocket);
  const st = await ctlRequest(h1.ctlSocket, { cmd: 'status' }) as { hostname?: string; drained?: boolean; protocol: string };
  assert.equal(st.protocol, 'novalet-agent/1');
  await ctlRequest(h2.ctlSocket, { cmd: 'drain' });
  try {
    const inv1 = await new AgentClient({ url: h1.url, secret: SECRET }).inventory();
    const inv2 = await new AgentClient({ url: h2.url, secret: SECRET }).inventory();
    assert.equal(inv1.drained, false);
    assert.equal(inv2.drained, true, 'drain through the socket reached that host');
  } finally {
    await ctlRequest(h2.ctlSocket, { cmd: 'undrain' });
  }
});
