/**
 * `novalet hosts` against a real listening controller (fake hosts): the table with state, servers and the
 * evacuation progress of a dead host, and `hosts evacuate HOST` (nova host-evacuate's loop) moving every server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
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
