/**
 * Evacuation cuts the dead host off the storage of the server's volumes before the target opens them
 * (tasks/defs/evacuate.ts `fence_storage`, volumes/fencing.ts), with a fake fencing backend standing in for rbd
 * (the real one: test/integration/testbed-volumes.test.ts): the dead host's address is fenced before the target's
 * spawn, once, recorded as the instance action's event; a server with only file volumes fences nothing; the host
 * is let back on (unfence) when it returns and its stale guest is destroyed, not before, and a failed unfence keeps
 * the host to fence (the record stays `done`) until it succeeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Harness } from '../support/harness.js';
import { attachNewVolume, evacuateToOther, hostOf, twoHosts, otherHost } from '../support/two-hosts.js';
import type { AttachSource, CreatedVolume, VolumeBackend } from '../../src/controller/volumes/backends/backend.js';
import { FENCE_EVENT } from '../../src/controller/tasks/defs/evacuate.js';

const S = '/compute/v2.1/servers';
const other = otherHost;

/** a network backend that only remembers: what it fenced and let back on, in order with the hosts' calls */
class FencingBackend implements VolumeBackend {
  readonly name = 'rbd';
  readonly log: string[] = [];
  failUnfence = false;
  constructor(private readonly h: () => Harness) {}
  async create(id: string): Promise<CreatedVolume> { return { location: `volumes/volume-${id}`, format: 'raw' }; }
  async extend(): Promise<void> {}
  async remove(): Promise<void> {}
  locationOf(id: string): string { return `volumes/volume-${id}`; }
  async snapshot(_l: string, _f: string, id: string): Promise<{ location: string }> { return { location: `volumes/snapshot-${id}` }; }
  async removeSnapshot(): Promise<void> {}
  attachSource(location: string): AttachSource {
    return { path: location, format: 'raw', sourceType: 'network', rbd: { hosts: [{ name: '127.0.0.9', port: 3300 }], user: 'novalet', key: 'AQ==', secretUuid: '00000000-0000-4000-8000-000000000000' } };
  }
  async list(): Promise<string[]> { return []; }
  async fence(address: string): Promise<boolean> { this.log.push(`fence ${address} after ${this.calls()}`); return true; }
  async unfence(address: string): Promise<void> {
    if (this.failUnfence) throw new Error('ceph: timed out');
    this.log.push(`unfence ${address} after ${this.calls()}`);
  }
  /** the hosts' calls so far (op@host) */
  private calls(): string { return this.h().driver.calls.map((c) => `${c.op}@${c.host}`).join(','); }
}

async function powerLoss(h: Harness, host: string): Promise<void> {
  await h.store.updateHost(host, { lastSeenAt: new Date(Date.now() - 120_000).toISOString() });
  await h.app.novalet.compute.hosts.list();
}

/** a server on one host with a volume of type `type` attached (the type made by the admin with that backend) */
async function serverWithVolume(h: Harness, backend: string): Promise<{ id: string; source: string }> {
  const r = await h.app.inject({ method: 'POST', url: `/volume/v3/${h.ids.adminProject}/types`, headers: { 'x-auth-token': h.tokens.admin },
    payload: { volume_type: { name: backend, extra_specs: { volume_backend_name: backend } } } });
  assert.equal(r.statusCode, 200, r.body);
  const id = await h.boot(h.tokens.demo);
  await attachNewVolume(h, id, backend);
  return { id, source: await hostOf(h, id) };
}

/** two fake hosts with file volumes and the fencing rbd double as the rbd backend */
async function withFencing(fn: (h: Harness, rbd: FencingBackend) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-evac-fence-'));
  let h: Harness | undefined;
  const rbd = new FencingBackend(() => h!);
  h = await twoHosts({ volumes: { dir } });
  try {
    h.app.novalet.compute.volumes.setBackend('rbd', rbd);
    await fn(h, rbd);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function evacuate(h: Harness, id: string, source: string): Promise<string> {
  await powerLoss(h, source);
  await evacuateToOther(h, id, source);
  const actions = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions`, undefined, '2.53')).json().instanceActions as Array<{ action: string; request_id: string }>;
  const ev = actions.find((a) => a.action === 'evacuate')!;
  const shown = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions/${ev.request_id}`, undefined, '2.53')).json().instanceAction;
  return (shown.events as Array<{ event: string; host?: string; result: string }>).map((e) => `${e.event}:${e.result}`).join(' ');
}

test('evacuate fences the dead host on the rbd storage before the target opens the volume; unfenced once its stale guest is gone', async () => {
  await withFencing(async (h, rbd) => {
    const { id, source } = await serverWithVolume(h, 'rbd');
    const address = (await h.store.getHost(source))!.hostIp;
    const target = other(source);
    const events = await evacuate(h, id, source);
    assert.match(events, new RegExp(`${FENCE_EVENT}:Success`), events);
    assert.equal(rbd.log.length, 1, rbd.log.join('\n'));
    assert.match(rbd.log[0]!, new RegExp(`^fence ${address} after `));
    assert.doesNotMatch(rbd.log[0]!, new RegExp(`spawn@${target}`), 'fenced before the target spawned');
    assert.ok(h.driver.calls.some((c) => c.op === 'spawn' && c.host === target && c.serverId === id));
    assert.equal((await h.store.listMigrations({ serverId: id }))[0]!.status, 'done');

    // the host returns: the unfence waits for the stale guest's destroy, and fails first: the record stays to fence
    rbd.failUnfence = true;
    assert.equal(await h.app.novalet.compute.fencer.fence(source), false, 'not fenced while the storage refuses');
    assert.equal((await h.store.listMigrations({ serverId: id }))[0]!.status, 'done');
    rbd.failUnfence = false;
    assert.equal(await h.app.novalet.compute.fencer.fence(source), true);
    assert.equal((await h.store.listMigrations({ serverId: id }))[0]!.status, 'completed');
    const unfence = rbd.log.filter((l) => l.startsWith('unfence'));
    assert.equal(unfence.length, 1, rbd.log.join('\n'));
    assert.match(unfence[0]!, new RegExp(`^unfence ${address} after .*destroy@${source}`), 'after the stale guest was destroyed');
    // nothing left to fence: no more unfence
    assert.equal(await h.app.novalet.compute.fencer.fence(source), true);
    assert.equal(rbd.log.filter((l) => l.startsWith('unfence')).length, 1);
  });
});

test('a server with only file volumes: the evacuation fences no storage and records no fencing event', async () => {
  await withFencing(async (h, rbd) => {
    const { id, source } = await serverWithVolume(h, 'file');
    const events = await evacuate(h, id, source);
    assert.doesNotMatch(events, new RegExp(FENCE_EVENT), events);
    assert.deepEqual(rbd.log, []);
  });
});
