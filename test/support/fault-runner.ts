/**
 * The fault suite's driver (issue 17), shared by the simulated-hosts run and the real-QEMU run: mixed operations
 * through the compute API by a few concurrent clients while the processes are killed with SIGKILL at random
 * points, then the invariants once everything settled:
 *   - no stuck task: no task row, every server's task_state null, every instance action finished;
 *   - no server lost: every server whose create was accepted and that was not deleted still exists;
 *   - no guest without a server, none running twice: every guest a host runs belongs to a live server placed on
 *     that host;
 *   - truthful state: a server the API calls ACTIVE or PAUSED runs on its host; a server that is off (stopped, or
 *     its guest lost with its host) comes back with a start;
 *   - a fault on every server in ERROR.
 * The seed is printed; NOVALET_FAULT_SEED replays a run.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { prng } from './prng.js';

export interface FaultTarget {
  /** the controller's base URL */
  url: () => string;
  adminPassword: string;
  /** the controller's SQLite file (read-only look at tasks and actions) */
  dbPath: string;
  imageRef: string;
  flavors: string[];
  /** resize targets; empty = no resizes */
  resizeFlavors: string[];
  /** kinds of kill: each a SIGKILL of some processes, then their restart */
  kills: Array<{ name: string; weight: number; run: (pause: number) => Promise<void> }>;
  /** uuid -> host names of every guest running or paused on the hosts (what the hypervisors say) */
  runningGuests: () => Promise<Map<string, string[]>>;
  /** at most this many servers alive at once (real guests cost memory) */
  maxLive?: number;
}

export interface FaultRunOptions { ops: number; workers: number; killCount: number; settleTimeoutMs?: number }

/** `deleteSent`: a DELETE went out, whatever its answer (the controller may have died after it took the delete) */
interface Tracked { id: string; name: string; deleted: boolean; deleteSent?: boolean }

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

export interface FaultRunResult { counts: Record<string, number>; kills: Record<string, number>; servers: number; errors: number; restarted: number; deleted: number }

export async function runFaultSuite(t: FaultTarget, o: FaultRunOptions): Promise<FaultRunResult> {
  const seed = Number(process.env['NOVALET_FAULT_SEED'] ?? Date.now() % 1_000_000);
  console.log(`fault suite seed ${seed} (NOVALET_FAULT_SEED=${seed} replays it)`);
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(rnd() * xs.length)];
  const counts: Record<string, number> = {};
  const count = (k: string) => { counts[k] = (counts[k] ?? 0) + 1; };
  const servers = new Map<string, Tracked>();
  const live = () => [...servers.values()].filter((s) => !s.deleted);
  let token = '';

  const reachable = async () => { try { return (await fetch(`${t.url()}/identity/v3`)).status === 200; } catch { return false; } };
  const login = async (): Promise<void> => {
    await until('a token', async () => {
      try {
        const r = await fetch(`${t.url()}/identity/v3/auth/tokens`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: t.adminPassword } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } }),
        });
        if (r.status !== 201) return false;
        token = r.headers.get('x-subject-token')!;
        return true;
      } catch { return false; }
    }, 120_000);
  };
  /** one API call; null when the controller was unreachable (the request may or may not have been applied) */
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any } | null> => {
    try {
      const r = await fetch(`${t.url()}/compute/v2.1${path}`, {
        method, headers: { 'x-auth-token': token, 'openstack-api-version': 'compute 2.74', ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await r.text();
      count(`${Math.floor(r.status / 100)}xx`);
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    } catch {
      count('unreachable');
      await until('the controller to come back', reachable, 120_000);
      return null;
    }
  };
  const db = <T>(fn: (d: Database.Database) => T): T => {
    const d = new Database(t.dbPath, { readonly: true, fileMustExist: true });
    try { return fn(d); } finally { d.close(); }
  };

  await login();
  const me = await (await fetch(`${t.url()}/identity/v3/auth/tokens`, { headers: { 'x-auth-token': token, 'x-subject-token': token } })).json() as { token: { project: { id: string } } };
  assert.equal((await api('PUT', `/os-quota-sets/${me.token.project.id}`, { quota_set: { instances: -1, cores: -1, ram: -1 } }))?.status, 200);

  const create = async (name: string): Promise<string | null> => {
    if (t.maxLive !== undefined && live().length >= t.maxLive) return null;
    const r = await api('POST', '/servers', { server: { name, imageRef: t.imageRef, flavorRef: pick(t.flavors)!, networks: 'auto' } });
    if (r?.status !== 202) return null;
    const id = r.body.server.id as string;
    servers.set(id, { id, name, deleted: false });
    return id;
  };
  const remove = async (s: Tracked): Promise<void> => {
    s.deleteSent = true;
    const r = await api('DELETE', `/servers/${s.id}`);
    if (r?.status === 204 || r?.status === 404) s.deleted = true;
  };
  const action = async (s: Tracked, body: unknown) => { await api('POST', `/servers/${s.id}/action`, body); };
  const operation = async (i: number): Promise<void> => {
    const r = rnd();
    const s = pick(live());
    if (r < 0.35 || !s) { await create(`f-${i}`); return; }
    if (r < 0.45) { const id = await create(`fd-${i}`); if (id) await remove(servers.get(id)!); return; }
    if (r < 0.55) { await remove(s); return; }
    if (r < 0.65) { await action(s, { 'os-stop': null }); return; }
    if (r < 0.75) { await action(s, { 'os-start': null }); return; }
    if (r < 0.80) { await action(s, { reboot: { type: pick(['SOFT', 'HARD']) } }); return; }
    if (r < 0.85) { await action(s, { pause: null }); return; }
    if (r < 0.88) { await action(s, { unpause: null }); return; }
    if (r < 0.94 && t.resizeFlavors.length) { await action(s, { resize: { flavorRef: pick(t.resizeFlavors)! } }); await sleep(50); await action(s, { confirmResize: null }); return; }
    await action(s, { createImage: { name: `snap-${i}` } });
  };

  // the chaos: kills at random operation indexes, one at a time, while the workers go on
  const killAt = new Map<number, FaultTarget['kills'][number]>();
  const totalWeight = t.kills.reduce((a, k) => a + k.weight, 0);
  while (killAt.size < o.killCount) {
    let w = rnd() * totalWeight;
    const kind = t.kills.find((k) => (w -= k.weight) < 0) ?? t.kills[0]!;
    killAt.set(Math.floor(o.ops * 0.1 + rnd() * o.ops * 0.8), kind);
  }
  const kills: Record<string, number> = {};
  let chaos: Promise<void> = Promise.resolve();
  let next = 0;
  const worker = async () => {
    while (next < o.ops) {
      const i = next++;
      const kill = killAt.get(i);
      if (kill) {
        const pause = 200 + rnd() * 1300;
        chaos = chaos.then(async () => { await kill.run(pause); kills[kill.name] = (kills[kill.name] ?? 0) + 1; await login(); });
      }
      await operation(i);
    }
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
  await chaos;
  await login();
  console.log(`fault suite: ${o.ops} operations, kills ${JSON.stringify(kills)}, answers ${JSON.stringify(counts)}`);

  // servers whose create answered nothing (the controller died under it) may exist: learn them
  const all = (await api('GET', '/servers/detail?all_tenants=1'))!.body.servers as Array<{ id: string; name: string }>;
  for (const s of all) if (!servers.has(s.id)) servers.set(s.id, { id: s.id, name: s.name, deleted: false });

  const settle = o.settleTimeoutMs ?? 120_000;
  await until('every task to finish', async () => db((d) => (d.prepare('SELECT COUNT(*) AS n FROM tasks').get() as { n: number }).n === 0), settle);
  await until('every task_state to clear', async () => {
    const list = (await api('GET', '/servers/detail?all_tenants=1'))?.body.servers as Array<{ 'OS-EXT-STS:task_state': string | null }> | undefined;
    return list?.every((x) => x['OS-EXT-STS:task_state'] === null) ?? false;
  }, settle);
  assert.equal(db((d) => (d.prepare('SELECT COUNT(*) AS n FROM instance_actions WHERE finish_time IS NULL').get() as { n: number }).n), 0, 'every instance action finished');

  type View = { id: string; status: string; host: string | null; fault?: { message: string } };
  const apiView = async (): Promise<View[]> => ((await api('GET', '/servers/detail?all_tenants=1'))!.body.servers as Array<Record<string, any>>)
    .map((x) => ({ id: x.id, status: x.status, host: x['OS-EXT-SRV-ATTR:host'] ?? null, ...(x.fault ? { fault: x.fault } : {}) }));
  // power sync reflects lost guests (heartbeats) and the reaper removes guests of deleted servers: wait for both
  let problems: string[] = [];
  await until('hosts and API to agree', async () => {
    const view = await apiView();
    const byId = new Map(view.map((v) => [v.id, v]));
    const running = await t.runningGuests();
    problems = [];
    for (const [uuid, hosts] of running) {
      const v = byId.get(uuid);
      if (hosts.length > 1) problems.push(`${uuid} runs on ${hosts.join(' and ')}`);
      if (!v) problems.push(`${uuid} runs on ${hosts.join(',')} without a server`);
      else if (v.host !== hosts[0]) problems.push(`${uuid} runs on ${hosts[0]} but its server is on ${v.host}`);
    }
    for (const v of view) {
      if ((v.status === 'ACTIVE' || v.status === 'PAUSED') && !running.has(v.id)) problems.push(`${v.id} is ${v.status} but runs nowhere`);
      if (v.status === 'ERROR' && !v.fault?.message) problems.push(`${v.id} is ERROR without a fault`);
    }
    return problems.length === 0;
  }, settle).catch((err: Error) => { throw new Error(`${err.message}:\n${problems.join('\n')}`); });

  const view = await apiView();
  const present = new Set(view.map((v) => v.id));
  // gone from the API: deleted (the answer to its DELETE may have been lost with a killed controller, but then the
  // row says deleted) or lost (no DELETE was sent, or the row is not deleted)
  const rowDeleted = (id: string) => db((d) => (d.prepare('SELECT deleted FROM servers WHERE id = ?').get(id) as { deleted: number } | undefined)?.deleted === 1);
  const lost = [...servers.values()].filter((s) => !s.deleted && !present.has(s.id) && !(s.deleteSent && rowDeleted(s.id)));
  assert.deepEqual(lost.map((s) => s.name), [], 'servers lost');

  const off = view.filter((v) => v.status === 'SHUTOFF');
  for (const v of off) assert.equal((await api('POST', `/servers/${v.id}/action`, { 'os-start': null }))?.status, 202);
  await until('every started server ACTIVE', async () => {
    const now = await apiView();
    return off.every((x) => now.find((n) => n.id === x.id)?.status === 'ACTIVE');
  }, settle);
  const running = await t.runningGuests();
  for (const x of off) assert.ok(running.has(x.id), `${x.id} started but runs nowhere`);
  const result = { counts, kills, servers: view.length, errors: view.filter((v) => v.status === 'ERROR').length, restarted: off.length, deleted: servers.size - view.length };
  console.log(`fault suite: ${result.servers} servers at the end (${result.errors} ERROR, ${result.restarted} SHUTOFF restarted), ${result.deleted} deleted`);
  return result;
}
