/**
 * The stock clients against resize and cold migration across hosts: `openstack server migrate --wait`,
 * `openstack server migration list`, `openstack server resize confirm|revert`, `nova migration-list`, unmodified,
 * `openstack aggregate create --zone|add host|set --property`, `availability zone list`, `server create
 * --availability-zone`, against the controller (real HTTP, the real engine, scheduler and claims) in front of two fake hosts. The real
 * hosts' side is test/integration/agent-migrate-hosts.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness, IMAGE_ID, type Harness } from '../support/harness.js';
import { freePort } from '../support/ports.js';
import { Clients, NOVA, OPENSTACK } from '../support/stock-clients.js';
import { cloudsYaml } from '../../src/cli/up/clouds-yaml.js';

const haveClients = existsSync(OPENSTACK) && existsSync(NOVA);

describe('stock clients: cold migration and resize across two hosts', { skip: !haveClients && 'needs the Debian openstack and nova clients' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-migcli-'));
  let h: Harness;
  let admin: Clients;
  let demo: Clients;

  before(async () => {
    const port = await freePort();
    h = await createHarness({ publicUrl: `http://127.0.0.1:${port}`, allowResizeToSameHost: false });
    await h.app.novalet.compute.hosts.heartbeat('host-b', { vcpus: 8, memoryMb: 16384, diskGb: 100, hostIp: '127.0.0.2' });
    await h.app.novalet.compute.placement.refresh();
    await h.app.listen({ host: '127.0.0.1', port });
    const file = join(dir, 'clouds.yaml');
    writeFileSync(file, cloudsYaml(`http://127.0.0.1:${port}/identity/v3`, h.cfg.region, [
      { cloud: 'novalet', username: 'demo', password: 'demopw', project: 'demo' },
      { cloud: 'novalet-admin', username: 'admin', password: 'adminpw', project: 'admin' },
    ]));
    demo = new Clients({ cloudsYaml: file });
    admin = demo.as('novalet-admin');
  });

  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('openstack server migrate --wait, migration list, resize confirm; nova migration-list', async () => {
    const id = await h.boot(h.tokens.demo, 'mig1');
    const source = (await admin.os('server', 'show', id))['OS-EXT-SRV-ATTR:host'];
    await admin.osRaw('server', 'migrate', '--wait', id);
    let s = await admin.os('server', 'show', id);
    assert.equal(s.status, 'VERIFY_RESIZE');
    assert.notEqual(s['OS-EXT-SRV-ATTR:host'], source);
    const list = await admin.os('server', 'migration', 'list', '--server', id);
    assert.equal(list.length, 1);
    assert.equal(list[0]['Status'], 'finished');
    assert.equal(list[0]['Source Compute'], source);
    const latest = await admin.os('--os-compute-api-version', '2.80', 'server', 'migration', 'list', '--type', 'cold-migration');
    assert.equal(latest.length, 1, JSON.stringify(latest));
    assert.equal(latest[0]['Type'], 'migration', JSON.stringify(latest[0]));
    assert.equal(latest[0]['Server UUID'], id, JSON.stringify(latest[0]));
    await demo.osRaw('server', 'resize', 'confirm', id);
    await h.idle();
    s = await admin.os('server', 'show', id);
    assert.equal(s.status, 'ACTIVE');
    const table = await admin.nova('migration-list');
    assert.match(table, /confirmed/);
    assert.match(table, new RegExp(id));
  });

  it('openstack server resize --flavor --wait to the other host, then resize revert: back on the source', async () => {
    const id = await h.boot(h.tokens.demo, 'mig2');
    const source = (await admin.os('server', 'show', id))['OS-EXT-SRV-ATTR:host'];
    await demo.osRaw('server', 'resize', '--flavor', 'm1.small', '--wait', id);
    let s = await admin.os('server', 'show', id);
    assert.equal(s.status, 'VERIFY_RESIZE');
    assert.notEqual(s['OS-EXT-SRV-ATTR:host'], source);
    await demo.osRaw('server', 'resize', 'revert', id);
    await h.idle();
    s = await admin.os('server', 'show', id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], source);
    assert.match(JSON.stringify(s.flavor), /m1\.tiny/);
  });

  it('openstack aggregate create --zone, add host, set --property; availability zone list; server create --availability-zone', async () => {
    const agg = await admin.os('aggregate', 'create', '--zone', 'az1', 'a1');
    assert.equal(agg.availability_zone, 'az1');
    await admin.osRaw('aggregate', 'add', 'host', 'a1', 'host-b');
    await admin.osRaw('aggregate', 'set', '--property', 'ssd=true', 'a1');
    const shown = await admin.os('aggregate', 'show', 'a1');
    assert.deepEqual(shown.hosts, ['host-b']);
    assert.match(JSON.stringify(shown.properties), /ssd/);
    const zones = (await demo.os('availability', 'zone', 'list', '--compute')).map((z: Record<string, string>) => z['Zone Name']);
    assert.deepEqual([...zones].sort(), ['az1', 'nova']);
    const s = await demo.os('server', 'create', '--image', IMAGE_ID, '--flavor', 'm1.tiny', '--availability-zone', 'az1', '--wait', 'in-az1');
    assert.equal(s['OS-EXT-AZ:availability_zone'], 'az1');
    assert.equal((await admin.os('server', 'show', s.id))['OS-EXT-SRV-ATTR:host'], 'host-b');
  });
});
