/**
 * Shelve and unshelve survive the controller: a real `novalet controller` killed with SIGKILL inside a shelve
 * (after each step, and before the snapshot) and inside an unshelve from SHELVED_OFFLOADED (after each step, and
 * before the spawn), held there by a failpoint, in front of simulated hosts (`novalet sim-hosts`: real agents on
 * the fake hypervisor). After the restart the task finishes exactly once: one stop, one snapshot, one destroy,
 * one spawn for the unshelve, no claim while offloaded, one after, the action closed, no task row left.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { NovaletProcess } from '../support/novalet-process.js';
import { freePort, freePorts } from '../support/ports.js';
import { AgentClient } from '../../src/rpc/client.js';

const SECRET = 'shelve-crash-test-secret-0123456789';

describe('controller killed mid-shelve and mid-unshelve (persisted tasks)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-shelve-'));
  const secretFile = join(dir, 'secret');
  const dbPath = join(dir, 'shared.db');
  let sim: NovaletProcess;
  const agents: Array<{ url: string; name: string }> = [];
  let imageId = '';

  const controller = (port: number) => {
    const dataDir = join(dir, 'c');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'admin-password'), 'admin-pw-0123456789\n');
    writeFileSync(join(dataDir, 'demo-password'), 'demo-pw-0123456789\n');
    const cfg = join(dataDir, 'controller.json');
    writeFileSync(cfg, JSON.stringify({
      dataDir, listen: `127.0.0.1:${port}`, secretFile, agents: agents.map((a) => ({ url: a.url })), database: dbPath,
      heartbeatIntervalSeconds: 3600, taskLeaseSeconds: 2, logLevel: 'info',
    }));
    return { proc: new NovaletProcess(['controller', '--config', cfg], 'controller ready'), url: `http://127.0.0.1:${port}` };
  };
  const token = async (url: string) => {
    const r = await fetch(`${url}/identity/v3/auth/tokens`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'admin-pw-0123456789' } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } }),
    });
    assert.equal(r.status, 201);
    return r.headers.get('x-subject-token')!;
  };
  const api = async (url: string, method: string, path: string, body?: unknown, prefix = '/compute/v2.1') => {
    const r = await fetch(`${url}${prefix}${path}`, {
      method, headers: { 'x-auth-token': await token(url), 'openstack-api-version': 'compute 2.93', ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const facts = (id: string) => {
    const d = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const one = (sql: string) => (d.prepare(sql).get(id) as { n: number }).n;
      return {
        tasks: one('SELECT COUNT(*) AS n FROM tasks WHERE server_id = ?'),
        allocations: one('SELECT COUNT(*) AS n FROM allocations WHERE server_id = ?'),
        openActions: one('SELECT COUNT(*) AS n FROM instance_actions WHERE server_id = ? AND finish_time IS NULL'),
      };
    } finally { d.close(); }
  };
  /** how many operations of each kind the hosts ran for the server */
  const opsOnAgents = async (id: string) => {
    const n: Record<string, number> = {};
    for (const a of agents) {
      const r = await new AgentClient({ url: a.url, secret: SECRET }).getServer(id).catch(() => null);
      for (const o of r?.operations ?? []) n[o.kind] = (n[o.kind] ?? 0) + 1;
    }
    return n;
  };
  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };
  const settled = (url: string, id: string, status: string) => waitFor(`${id} ${status}`, async () => {
    const s = (await api(url, 'GET', `/servers/${id}`)).body.server;
    assert.notEqual(s.status, 'ERROR', JSON.stringify(s.fault));
    return s.status === status && s['OS-EXT-STS:task_state'] === null ? s : undefined;
  });
  const boot = async (url: string, name: string) => {
    const r = await api(url, 'POST', '/servers', { server: { name, imageRef: imageId, flavorRef: '1', networks: 'auto' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id as string;
    await settled(url, id, 'ACTIVE');
    return id;
  };
  /** runs a case against a controller held at `failpoint`, which is killed whatever happens */
  const withController = async (failpoint: string, fn: (c: ReturnType<typeof controller>) => Promise<void>) => {
    const c = controller(await freePort());
    c.proc.env = { NOVALET_FAILPOINTS: failpoint };
    await c.proc.start();
    try { await fn(c); } finally { await c.proc.kill(); }
  };
  const killAt = async (c: ReturnType<typeof controller>, failpoint: string, id: string) => {
    await waitFor(failpoint, () => c.proc.log.includes(`"failpoint":"${failpoint}"`) && c.proc.log.includes(id));
    await c.proc.kill();
    assert.equal(facts(id).tasks, 1, 'the task row outlives the process');
    c.proc.env = {};
    await c.proc.start();
  };

  before(async () => {
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const base = await freePorts(2);
    sim = new NovaletProcess(['sim-hosts', '--count', '2', '--base-port', String(base), '--secret-file', secretFile, '--data-dir', join(dir, 'sim')], 'sim-0002');
    await sim.start();
    for (const line of sim.log.split('\n')) {
      try { const h = JSON.parse(line) as { name?: string; url?: string }; if (h.name && h.url) agents.push({ name: h.name, url: h.url }); } catch { /* a log line */ }
    }
    assert.equal(agents.length, 2, sim.log);
    const c = controller(await freePort());
    await c.proc.start();
    const tok = await token(c.url);
    const img = await (await fetch(`${c.url}/image/v2/images`, { method: 'POST', headers: { 'x-auth-token': tok, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'g', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' }) })).json() as { id: string };
    const up = await fetch(`${c.url}/image/v2/images/${img.id}/file`, { method: 'PUT', headers: { 'x-auth-token': tok, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(4096, 1) });
    assert.equal(up.status, 204);
    imageId = img.id;
    await c.proc.stop();
  });

  after(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const failpoint of ['shelve.power_off:after', 'shelve.snapshot:before', 'shelve.snapshot:after', 'shelve.shelved:after', 'shelve.destroy:after']) {
    it(`kill -9 at ${failpoint}: after the restart the shelve finishes exactly once`, () => withController(failpoint, async (c) => {
      const id = await boot(c.url, `shelve-${failpoint.replace(/[.:]/g, '-')}`);
      assert.equal((await api(c.url, 'POST', `/servers/${id}/action`, { shelve: null })).status, 202);
      await killAt(c, failpoint, id);
      const s = await settled(c.url, id, 'SHELVED_OFFLOADED');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
      assert.deepEqual(facts(id), { tasks: 0, allocations: 0, openActions: 0 });
      const ops = await opsOnAgents(id);
      assert.deepEqual([ops.stop, ops.snapshot, ops.destroy], [1, 1, 1], JSON.stringify(ops));
      const images = (await api(c.url, 'GET', '/v2/images', undefined, '/image')).body.images as Array<{ name: string; status: string }>;
      assert.deepEqual(images.filter((i) => i.name === `${s.name}-shelved`).map((i) => i.status), ['active']);
    }));
  }

  for (const failpoint of ['unshelve.schedule:after', 'unshelve.spawn:before', 'unshelve.spawn:after', 'unshelve.delete_image:after']) {
    it(`kill -9 at ${failpoint}: after the restart the unshelve finishes exactly once`, () => withController(failpoint, async (c) => {
      const id = await boot(c.url, `unshelve-${failpoint.replace(/[.:]/g, '-')}`);
      assert.equal((await api(c.url, 'POST', `/servers/${id}/action`, { shelve: null })).status, 202);
      const shelved = await settled(c.url, id, 'SHELVED_OFFLOADED');
      assert.equal((await api(c.url, 'POST', `/servers/${id}/action`, { unshelve: null })).status, 202);
      await killAt(c, failpoint, id);
      const s = await settled(c.url, id, 'ACTIVE');
      assert.ok(s['OS-EXT-SRV-ATTR:host']);
      assert.deepEqual(s.addresses, shelved.addresses, 'the same addresses');
      assert.deepEqual(facts(id), { tasks: 0, allocations: 1, openActions: 0 });
      assert.equal((await opsOnAgents(id)).spawn, 2, 'one spawn for the create, one for the unshelve');
      const images = (await api(c.url, 'GET', '/v2/images', undefined, '/image')).body.images as Array<{ name: string }>;
      assert.deepEqual(images.filter((i) => i.name === `${s.name}-shelved`), [], 'the shelved image is gone');
      const actions = (await api(c.url, 'GET', `/servers/${id}/os-instance-actions`)).body.instanceActions as Array<{ action: string; message: string | null }>;
      assert.deepEqual(actions.map((a) => [a.action, a.message]), [['unshelve', null], ['shelve', null], ['create', null]]);
    }));
  }
});
