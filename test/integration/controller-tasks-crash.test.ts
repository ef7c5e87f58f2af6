/**
 * Persisted tasks survive the controller: real `novalet controller` processes killed with SIGKILL at every step
 * of a create (right before and right after each of schedule, networks, spawn, held there by a failpoint), in
 * front of simulated hosts (`novalet sim-hosts`: real agents on the fake hypervisor). After the restart the task
 * finishes exactly once: one spawn on the agent, one claim, one address, the action closed, no task row left.
 * Then two controllers on one database: a task owned by a live controller is never taken by the other; when
 * its owner is killed, the other takes it over after the lease and finishes it, again exactly once. All of it on
 * a shared SQLite file and on PostgreSQL (where it runs: test/support/postgres.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { NovaletProcess } from '../support/novalet-process.js';
import { freePort, freePorts } from '../support/ports.js';
import { AgentClient } from '../../src/rpc/client.js';
import { freshPostgresDatabase, postgresBase } from '../support/postgres.js';

const SECRET = 'tasks-crash-test-secret-0123456789';
const LEASE_S = 2;

const pgBase = postgresBase();
for (const backend of ['sqlite', 'postgres'] as const) describe(`controller killed mid-task (persisted tasks, leases): ${backend}`, { skip: backend === 'postgres' && 'skip' in pgBase ? pgBase.skip : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-tasks-'));
  const secretFile = join(dir, 'secret');
  /** the shared store: a SQLite file, or a fresh PostgreSQL database made in before() */
  let dbPath = join(dir, 'shared.db');
  let dropPg: (() => Promise<void>) | undefined;
  let sim: NovaletProcess;
  const agents: Array<{ url: string; name: string }> = [];
  let imageId = '';

  const controller = (name: string, port: number) => {
    const dataDir = join(dir, name);
    mkdirSync(dataDir, { recursive: true });
    // the same passwords everywhere: every controller's bootstrap resets them to its files
    writeFileSync(join(dataDir, 'admin-password'), 'admin-pw-0123456789\n');
    writeFileSync(join(dataDir, 'demo-password'), 'demo-pw-0123456789\n');
    const cfg = join(dataDir, 'controller.json');
    writeFileSync(cfg, JSON.stringify({
      dataDir, listen: `127.0.0.1:${port}`, secretFile, agents: agents.map((a) => ({ url: a.url })), database: dbPath,
      heartbeatIntervalSeconds: 3600, taskLeaseSeconds: LEASE_S, logLevel: 'info',
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
  const api = async (url: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}/compute/v2.1${path}`, {
      method, headers: { 'x-auth-token': await token(url), 'openstack-api-version': 'compute 2.74', ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  /** the first row of `sql` (one `?`: the server id), read straight from the database the controllers share */
  const row = async (sql: string, id: string): Promise<Record<string, unknown> | undefined> => {
    if (backend === 'sqlite') {
      const d = new Database(dbPath, { readonly: true, fileMustExist: true });
      try { return d.prepare(sql).get(id) as Record<string, unknown> | undefined; } finally { d.close(); }
    }
    const c = new pg.Client({ connectionString: dbPath });
    await c.connect();
    try { return (await c.query(sql.replace('?', '$1'), [id])).rows[0] as Record<string, unknown> | undefined; } finally { await c.end(); }
  };
  const facts = async (id: string) => {
    const one = async (sql: string) => Number((await row(sql, id))!.n);
    return {
      tasks: await one('SELECT COUNT(*) AS n FROM tasks WHERE server_id = ?'),
      allocations: await one('SELECT COUNT(*) AS n FROM allocations WHERE server_id = ?'),
      ips: await one('SELECT COUNT(*) AS n FROM port_ips i JOIN ports p ON p.id = i.port_id WHERE p.device_id = ?'),
      openActions: await one('SELECT COUNT(*) AS n FROM instance_actions WHERE server_id = ? AND finish_time IS NULL'),
      owner: ((await row('SELECT owner FROM tasks WHERE server_id = ?', id))?.owner as string | undefined) ?? null,
    };
  };
  const spawnsOnAgents = async (id: string) => {
    let n = 0;
    for (const a of agents) {
      const c = new AgentClient({ url: a.url, secret: SECRET });
      const r = await c.getServer(id).catch(() => null);
      n += r?.operations.filter((o) => o.kind === 'spawn').length ?? 0;
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
  const create = async (url: string, name: string) => {
    const r = await api(url, 'POST', '/servers', { server: { name, imageRef: imageId, flavorRef: '1', networks: 'auto' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.server.id as string;
  };
  const active = (url: string, id: string) => waitFor(`${id} ACTIVE`, async () => {
    const s = (await api(url, 'GET', `/servers/${id}`)).body.server;
    assert.notEqual(s.status, 'ERROR', JSON.stringify(s.fault));
    return s.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null ? s : undefined;
  });

  before(async () => {
    if (backend === 'postgres') {
      const d = await freshPostgresDatabase((pgBase as { url: string }).url);
      dbPath = d.url; dropPg = d.drop;
    }
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const base = await freePorts(2);
    sim = new NovaletProcess(['sim-hosts', '--count', '2', '--base-port', String(base), '--secret-file', secretFile, '--data-dir', join(dir, 'sim')], 'sim-0002');
    await sim.start();
    for (const line of sim.log.split('\n')) {
      try { const h = JSON.parse(line) as { name?: string; url?: string }; if (h.name && h.url) agents.push({ name: h.name, url: h.url }); } catch { /* a log line */ }
    }
    assert.equal(agents.length, 2, sim.log);
    // an image, through a first controller start
    const c = controller('a', await freePort());
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
    await dropPg?.();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const step of ['schedule', 'networks', 'spawn']) {
    for (const when of ['before', 'after'] as const) {
      it(`kill -9 ${when} the create's ${step} step: after the restart it finishes exactly once`, async () => {
        const c = controller('a', await freePort());
        c.proc.env = { NOVALET_FAILPOINTS: `create.${step}:${when}` };
        await c.proc.start();
        const id = await create(c.url, `crash-${step}-${when}`);
        await waitFor('the failpoint', () => c.proc.log.includes(`"failpoint":"create.${step}:${when}"`) && c.proc.log.includes(id));
        await c.proc.kill();
        assert.equal((await facts(id)).tasks, 1, 'the task row outlives the process');
        c.proc.env = {};
        await c.proc.start();
        const s = await active(c.url, id);
        assert.ok(s.addresses.private?.length === 1, JSON.stringify(s.addresses));
        assert.equal(await spawnsOnAgents(id), 1, 'one spawn on the hosts');
        assert.deepEqual({ ...(await facts(id)), owner: null }, { tasks: 0, allocations: 1, ips: 1, openActions: 0, owner: null });
        const actions = (await api(c.url, 'GET', `/servers/${id}/os-instance-actions`)).body.instanceActions;
        assert.equal(actions.length, 1);
        assert.equal(actions[0].message, null);
        await c.proc.stop();
      });
    }
  }

  it('two controllers on one database: a live owner keeps its task; a dead one loses it after the lease', async () => {
    const a = controller('a', await freePort());
    const b = controller('b', await freePort());
    a.proc.env = { NOVALET_FAILPOINTS: 'create.spawn:before' };
    await a.proc.start();
    await b.proc.start();
    const id = await create(a.url, 'two-controllers');
    await waitFor('the failpoint', () => a.proc.log.includes('"failpoint":"create.spawn:before"') && a.proc.log.includes(id));
    const ownerA = (await facts(id)).owner;
    assert.ok(ownerA);
    // three leases: A renews its lease all along, so B never takes the task
    await sleep(3 * LEASE_S * 1000);
    assert.equal((await facts(id)).owner, ownerA);
    assert.equal((await api(b.url, 'GET', `/servers/${id}`)).body.server.status, 'BUILD');
    assert.ok(!b.proc.log.includes('task taken over'), 'B took a live controller\'s task');
    const killedAt = Date.now();
    await a.proc.kill();
    await active(b.url, id);
    const tookMs = Date.now() - killedAt;
    assert.ok(b.proc.log.includes('task taken over'));
    // renewed every third of the lease: at the kill at least two thirds of it were left
    assert.ok(tookMs >= (LEASE_S * 1000 * 2) / 3 - 100, `taken over after ${tookMs} ms, before the lease ran out`);
    assert.equal(await spawnsOnAgents(id), 1);
    assert.deepEqual({ ...(await facts(id)), owner: null }, { tasks: 0, allocations: 1, ips: 1, openActions: 0, owner: null });
    await b.proc.stop();
  });
});
