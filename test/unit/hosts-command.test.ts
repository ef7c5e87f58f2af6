/**
 * `novalet hosts` against a real listening controller (fake hosts): the table with state, servers and the
 * evacuation progress of a dead host, and `hosts evacuate HOST` (nova host-evacuate's loop) moving every server;
 * the stock `nova host-evacuate` (os-hypervisors with_servers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { execa } from 'execa';
import { hostsCommand, progressBar, render, type HostRow } from '../../src/cli/hosts-command.js';
import { createHarness, IMAGE_ID } from '../support/harness.js';
import { addHostB } from '../support/two-hosts.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => { lines.push(a.map(String).join(' ')); };
  try { return { code: await fn(), out: lines.join('\n') }; } finally { console.log = orig; }
}

test('progress bar and table', () => {
  assert.equal(progressBar(1, 4, 8), '[##------] 1/4');
  assert.equal(progressBar(0, 0), '');
  const row: HostRow = { host: 'h0', state: 'down', status: 'enabled', lastHeartbeat: null, servers: 0, evacuations: { running: 1, done: 1, completed: 2, failed: 0 } };
  const [head, line] = render([row]);
  assert.match(head!, /^HOST\s+STATE\s+STATUS\s+LAST HEARTBEAT\s+SERVERS\s+EVACUATIONS$/);
  assert.match(line!, /h0\s+down\s+enabled\s+never\s+0\s+\[#+-+\] 3\/4 1 running 1 awaiting fencing/);
});

test('novalet hosts: list and evacuate HOST through the API', async () => {
  const port = await freePort();
  const h = await createHarness({ allowResizeToSameHost: false, publicUrl: `http://127.0.0.1:${port}` });
  await addHostB(h);
  await h.app.listen({ port, host: '127.0.0.1' });
  const env = { OS_AUTH_URL: `http://127.0.0.1:${port}/identity/v3`, OS_USERNAME: 'admin', OS_PASSWORD: 'adminpw', OS_PROJECT_NAME: 'admin' };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  delete process.env['OS_CLIENT_CONFIG_FILE'];
  try {
    const ids: string[] = [];
    for (const name of ['a', 'b']) {
      const r = await h.req(h.tokens.admin, 'POST', '/compute/v2.1/servers', { server: { name, imageRef: IMAGE_ID, flavorRef: '1', host: 'fake-host', networks: 'auto' } }, '2.74');
      assert.equal(r.statusCode, 202, r.body);
      ids.push(r.json().server.id);
    }
    await h.idle();
    let r = await capture(() => hostsCommand(['list', '--json']));
    assert.equal(r.code, 0);
    let list = JSON.parse(r.out) as HostRow[];
    assert.deepEqual(list.map((x) => [x.host, x.state, x.servers]), [['fake-host', 'up', 2], ['host-b', 'up', 0]]);

    // evacuating a host that is up: each server refused with Nova's message, exit 1
    r = await capture(() => hostsCommand(['evacuate', 'fake-host']));
    assert.equal(r.code, 1);
    assert.match(r.out, /refused: Compute service of fake-host is still in use\. \(HTTP 400\)/);

    await h.store.updateHost('fake-host', { lastSeenAt: new Date(Date.now() - 120_000).toISOString() });
    r = await capture(() => hostsCommand(['evacuate', 'fake-host']));
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.split('\n').filter((l) => l.endsWith('evacuation accepted')).length, 2);
    await h.idle();
    r = await capture(() => hostsCommand(['list']));
    assert.match(r.out, /fake-host\s+down\s+enabled\s+\S+\s+0\s+\[#{20}\] 2\/2 2 awaiting fencing/);
    assert.match(r.out, /host-b\s+up\s+enabled\s+\S+\s+2\s+-/);
    list = JSON.parse((await capture(() => hostsCommand(['--json']))).out) as HostRow[];
    assert.equal(list.find((x) => x.host === 'host-b')!.servers, 2);
  } finally {
    process.env = saved;
    await h.close();
  }
});

test('stock nova host-evacuate: os-hypervisors with_servers lists the host\'s servers, each evacuated', async () => {
  const port = await freePort();
  const h = await createHarness({ allowResizeToSameHost: false, publicUrl: `http://127.0.0.1:${port}` });
  await addHostB(h);
  await h.app.listen({ port, host: '127.0.0.1' });
  try {
    const ids: string[] = [];
    for (const name of ['a', 'b']) {
      const r = await h.req(h.tokens.admin, 'POST', '/compute/v2.1/servers', { server: { name, imageRef: IMAGE_ID, flavorRef: '1', host: 'fake-host', networks: 'auto' } }, '2.74');
      ids.push(r.json().server.id);
    }
    await h.idle();
    let hv = (await h.req(h.tokens.admin, 'GET', '/compute/v2.1/os-hypervisors?hypervisor_hostname_pattern=fake-host&with_servers=True', undefined, '2.53')).json().hypervisors;
    assert.deepEqual(hv[0].servers.map((s: { uuid: string }) => s.uuid).sort(), [...ids].sort());
    assert.equal(hv[0].servers[0].name, `novalet-${hv[0].servers[0].uuid}`);
    hv = (await h.req(h.tokens.admin, 'GET', '/compute/v2.1/os-hypervisors?with_servers=true', undefined, '2.53')).json().hypervisors;
    assert.equal(hv.find((x: { hypervisor_hostname: string }) => x.hypervisor_hostname === 'host-b').servers, undefined, 'left out when empty before 2.75');
    hv = (await h.req(h.tokens.admin, 'GET', '/compute/v2.1/os-hypervisors?with_servers=true', undefined, '2.75')).json().hypervisors;
    assert.deepEqual(hv.find((x: { hypervisor_hostname: string }) => x.hypervisor_hostname === 'host-b').servers, []);

    await h.store.updateHost('fake-host', { lastSeenAt: new Date(Date.now() - 120_000).toISOString() });
    const r = await execa('/usr/bin/nova', ['host-evacuate', '--strict', 'fake-host'], {
      reject: false, timeout: 120_000,
      env: { OS_AUTH_URL: `http://127.0.0.1:${port}/identity/v3`, OS_USERNAME: 'admin', OS_PASSWORD: 'adminpw', OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3', PYTHONWARNINGS: 'ignore' },
      extendEnv: false,
    });
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    for (const id of ids) assert.match(r.stdout, new RegExp(`${id}\\s*\\|\\s*True`));
    await h.idle();
    for (const id of ids) {
      const s = (await h.req(h.tokens.admin, 'GET', `/compute/v2.1/servers/${id}`, undefined, '2.47')).json().server;
      assert.equal(s.status, 'ACTIVE');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'host-b');
    }
  } finally {
    await h.close();
  }
});
