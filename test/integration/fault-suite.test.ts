/**
 * Fault suite on simulated hosts (issue 17; the invariants are in test/support/fault-runner.ts): 200 mixed
 * operations against `novalet controller` in front of `novalet sim-hosts` (real agents on the fake hypervisor),
 * while the controller is killed with SIGKILL at random points and restarted, and the hosts' process too (a power
 * loss: their journals stay, their guests are gone; power sync must show those servers SHUTOFF and a start must
 * bring them back).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NovaletProcess } from '../support/novalet-process.js';
import { freePort, freePorts } from '../support/ports.js';
import { runFaultSuite } from '../support/fault-runner.js';
import { AgentClient } from '../../src/rpc/client.js';

const SECRET = 'fault-suite-secret-0123456789abcdef';
const HOSTS = 3;
const ADMIN_PW = 'admin-pw-0123456789';

describe('fault suite: kill -9 of the controller and of the hosts during 200 mixed operations (simulated hosts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-fault-'));
  const secretFile = join(dir, 'secret');
  const dataDir = join(dir, 'controller');
  let sim: NovaletProcess;
  let ctl: NovaletProcess;
  let url = '';
  const agents: Array<{ url: string; name: string }> = [];
  let imageId = '';

  before(async () => {
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const base = await freePorts(HOSTS);
    sim = new NovaletProcess(['sim-hosts', '--count', String(HOSTS), '--base-port', String(base), '--secret-file', secretFile, '--data-dir', join(dir, 'sim')], `sim-000${HOSTS}`);
    await sim.start();
    for (const line of sim.log.split('\n')) {
      try { const h = JSON.parse(line) as { name?: string; url?: string }; if (h.name && h.url) agents.push({ name: h.name, url: h.url }); } catch { /* a log line */ }
    }
    assert.equal(agents.length, HOSTS, sim.log);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'admin-password'), `${ADMIN_PW}\n`);
    writeFileSync(join(dataDir, 'demo-password'), 'demo-pw-0123456789\n');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const cfg = join(dataDir, 'controller.json');
    writeFileSync(cfg, JSON.stringify({
      dataDir, listen: `127.0.0.1:${port}`, secretFile, agents: agents.map((a) => ({ url: a.url })),
      heartbeatIntervalSeconds: 1, taskLeaseSeconds: 2, runningDeletedTimeoutSeconds: 2, logLevel: 'info',
    }));
    ctl = new NovaletProcess(['controller', '--config', cfg], 'controller ready');
    await ctl.start();
    const tr = await fetch(`${url}/identity/v3/auth/tokens`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PW } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } }),
    });
    const h = { 'x-auth-token': tr.headers.get('x-subject-token')!, 'content-type': 'application/json' };
    const img = await (await fetch(`${url}/image/v2/images`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'g', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' }) })).json() as { id: string };
    const up = await fetch(`${url}/image/v2/images/${img.id}/file`, { method: 'PUT', headers: { ...h, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(4096, 1) });
    assert.equal(up.status, 204);
    imageId = img.id;
  });

  after(async () => {
    await ctl?.stop();
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no server lost, no guest without a server, none twice, no stuck task, truthful state, a fault on every error', async () => {
    const r = await runFaultSuite({
      url: () => url, adminPassword: ADMIN_PW, dbPath: join(dataDir, 'controller.db'), imageRef: imageId,
      flavors: ['1', '2'], resizeFlavors: ['1', '2', '3'],
      kills: [
        { name: 'controller', weight: 3, run: async (pause) => { await ctl.kill(); await sleep(pause); await ctl.start(); } },
        { name: 'hosts (guests lost)', weight: 1, run: async (pause) => { await sim.kill(); await sleep(pause); await sim.start(); } },
      ],
      runningGuests: async () => {
        const running = new Map<string, string[]>();
        for (const a of agents) {
          const l = await new AgentClient({ url: a.url, secret: SECRET }).listServers();
          const on = [...l.servers.filter((v) => v.power === 'running' || v.power === 'paused').map((v) => v.uuid),
            ...l.unknownDomains.filter((u) => u.power === 'running' || u.power === 'paused').map((u) => u.uuid)];
          for (const uuid of on) running.set(uuid, [...(running.get(uuid) ?? []), a.name]);
        }
        return running;
      },
    }, { ops: 200, workers: 4, killCount: 8 });
    assert.ok((r.kills['controller'] ?? 0) + (r.kills['hosts (guests lost)'] ?? 0) === 8);
  });
});
