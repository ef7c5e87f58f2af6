/**
 * The rbd volume backend against a real single-node Ceph 16 (scripts/ceph.sh, data in a temporary directory, on
 * its own loopback address): blank, from image (qcow2 -> raw import), from volume and from snapshot, extend,
 * snapshots, lock listing, remove; nothing is left in the pool. Then on real QEMU through `novalet up --rbd` and the
 * stock client: an rbd volume (volume type with volume_backend_name=rbd) attached to a running server — the agent
 * defines the cephx key as a libvirt secret through the binding, the domain gets a network disk
 * (protocol rbd, auth by that secret), the guest sees vdb — then detached (the guest loses it) and deleted (the pool
 * is empty). Then the leak check: NOVALET_RBD_CYCLES (default 20 in CI; scripts/nightly.sh runs 100) attach/detach
 * cycles of an rbd volume to a running server through the compute API leave no rbd image the API does not list, no
 * watcher and no lock on the volume, no rbd disk in the domain, no attachment, and one libvirt secret (the
 * cluster user's, shared by every rbd disk of the host). Skipped when Ceph's packages are not installed (they are large: scripts/install.sh installs them only
 * with NOVALET_WITH_CEPH=1), except in CI (test/support/ceph.ts): scripts/test.sh installs them and a missing Ceph fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { RbdBackend } from '../../src/controller/volumes/backends/rbd.js';
import { BackendError } from '../../src/controller/volumes/backends/backend.js';
import { AllInOne } from '../support/all-in-one.js';
import { ConsoleLog } from '../support/guest.js';
import { ensureGuestBuilt, ensureRootLibvirtd } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import { assertCeph, cephSkip } from '../support/ceph.js';

const ADDR = '127.0.0.37';
/** attach/detach cycles of the leak check (each ~1-3 s on real QEMU + Ceph) */
const CYCLES = Number(process.env.NOVALET_RBD_CYCLES ?? 20);

/** plain HTTP as `user` (the cycles go faster than one client process per call) */
async function apiAs(url: string, user: string, password: string) {
  const auth = { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } }, scope: { project: { name: user, domain: { name: 'Default' } } } } };
  const r = await fetch(`${url}/identity/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(auth) });
  const token = r.headers.get('x-subject-token')!;
  const project = ((await r.json()) as { token: { project: { id: string } } }).token.project.id;
  const call = (method: string, path: string, body?: unknown) => fetch(`${url}${path.replace('{project}', project)}`, {
    method, headers: { 'x-auth-token': token, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return call;
}

describe('rbd volume backend on a single-node Ceph', { skip: cephSkip(), timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-ceph-'));
  const cephDir = join(dir, 'ceph');
  let b: RbdBackend;
  let aio: AllInOne | undefined;
  const sizeMiB = async (loc: string) => (JSON.parse((await execa('rbd', ['--conf', join(cephDir, 'ceph.conf'), 'info', '--format', 'json', loc])).stdout) as { size: number }).size / 1024 ** 2;

  before(async () => {
    assertCeph();
    const t0 = Date.now();
    await execa('scripts/ceph.sh', ['start', cephDir, ADDR]);
    console.log(`ceph up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    b = new RbdBackend({ pool: 'volumes', user: 'novalet', conf: join(cephDir, 'ceph.conf'), keyring: join(cephDir, 'ceph.client.novalet.keyring') });
  });

  after(async () => {
    await aio?.cleanup();
    await execa('scripts/ceph.sh', ['stop', cephDir], { reject: false });
    rmSync(dir, { recursive: true, force: true });
  });

  it('create, copy, extend, snapshot, locks, remove: the pool holds exactly what the backend made', async () => {
    const blank = await b.create('a', 1, { kind: 'blank' });
    assert.deepEqual(blank, { location: 'volumes/volume-a', format: 'raw' });
    assert.equal(await sizeMiB(blank.location), 1024);
    await b.extend(blank.location, 'raw', 2);
    assert.equal(await sizeMiB(blank.location), 2048);

    const img = join(dir, 'img.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', img, '64M']);
    await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 1M', img]);
    const fromImage = await b.create('b', 1, { kind: 'image', path: img, format: 'qcow2' });
    assert.equal(await sizeMiB(fromImage.location), 1024);
    const exported = join(dir, 'b.raw');
    await execa('rbd', ['--conf', join(cephDir, 'ceph.conf'), 'export', '--no-progress', fromImage.location, exported]);
    const head = (await execa('sh', ['-c', `head -c 4 ${exported} | od -An -tx1`])).stdout.trim();
    assert.equal(head, '5a 5a 5a 5a', 'the image bytes are in the volume');

    const snap = await b.snapshot(fromImage.location, 'raw', 's1');
    const fromSnap = await b.create('c', 2, { kind: 'snapshot', location: snap.location, format: 'raw' });
    const fromVol = await b.create('d', 1, { kind: 'volume', location: blank.location, format: 'raw' });
    assert.equal(await sizeMiB(fromSnap.location), 2048);
    assert.equal(await sizeMiB(fromVol.location), 2048, 'a copy is never smaller than its source');
    assert.deepEqual((await b.list()).sort(), ['volumes/snapshot-s1', 'volumes/volume-a', 'volumes/volume-b', 'volumes/volume-c', 'volumes/volume-d']);
    assert.deepEqual(await b.locks(blank.location), []);

    // a failing create leaves nothing (an image that does not exist)
    await assert.rejects(b.create('e', 1, { kind: 'volume', location: 'volumes/nope', format: 'raw' }), BackendError);
    assert.ok(!(await b.list()).includes('volumes/volume-e'));
    // how hosts attach it: the monitor of ceph.conf, the user's key, a secret UUID derived from fsid and user
    const src = b.attachSource(blank.location);
    assert.equal(src.sourceType, 'network');
    assert.equal(src.path, 'volumes/volume-a');
    assert.deepEqual(src.rbd?.hosts, [{ name: ADDR, port: 3300 }]);
    assert.equal(src.rbd?.user, 'novalet');
    assert.match(readFileSync(join(cephDir, 'ceph.client.novalet.keyring'), 'utf8'), new RegExp(src.rbd!.key.replace(/[+/]/g, '\\$&')));

    for (const loc of [blank, fromImage, fromSnap, fromVol].map((x) => x.location)) await b.remove(loc);
    await b.removeSnapshot(snap.location);
    await b.remove('volumes/volume-a'); // already gone: still fine
    assert.deepEqual(await b.list(), []);
  });

  it('novalet up --rbd: an rbd volume attached to a running server (network disk, cephx secret), seen by the guest, detached, deleted', async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    aio = new AllInOne({ name: 'novalet-rbd', cidr: '10.0.39.0/24' }, 0,
      ['--rbd', `volumes:novalet:${join(cephDir, 'ceph.conf')}:${join(cephDir, 'ceph.client.novalet.keyring')}`]);
    await aio.start();
    const admin = aio.clients('novalet-admin');
    await admin.osRaw('volume', 'type', 'create', '--public', '--property', 'volume_backend_name=rbd', 'rbd');
    const s = await aio.openstack<{ id: string; status: string }>(['server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny', '--network', 'private', '--wait', 'r1']);
    assert.equal(s.status, 'ACTIVE');
    const con = new ConsoleLog(aio.consoleLogPath(s.id));
    await con.waitForReady({ timeoutMs: 120_000 });
    const t0 = Date.now();
    const v = await aio.openstack<{ id: string }>(['volume', 'create', '--type', 'rbd', '--size', '1', 'rv']);
    const status = async (want: string) => {
      const end = Date.now() + 60_000;
      for (;;) {
        const now = await aio!.openstack<{ status: string }>(['volume', 'show', v.id]);
        if (now.status === want) return;
        assert.ok(Date.now() < end, `volume ${now.status}, wanted ${want}\n${aio!.log.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    await status('available');
    console.log(`rbd volume create: ${Date.now() - t0} ms`);
    assert.deepEqual(await b.list(), [`volumes/volume-${v.id}`]);
    const t1 = Date.now();
    await aio.clients().osRaw('server', 'add', 'volume', 'r1', v.id);
    await status('in-use');
    console.log(`rbd volume attach: ${Date.now() - t1} ms`);
    await con.waitForHeartbeat((h) => h.disks.includes('vdb'), { timeoutMs: 60_000 });
    const xml = (await execa('virsh', ['dumpxml', domainNameFor(s.id)])).stdout;
    assert.match(xml, new RegExp(`<source protocol=['"]rbd['"] name=['"]volumes/volume-${v.id}['"]`));
    const secret = b.attachSource(`volumes/volume-${v.id}`).rbd!.secretUuid;
    assert.match(xml, new RegExp(`<secret type=['"]ceph['"] uuid=['"]${secret}['"]`));
    assert.match((await execa('virsh', ['secret-list'])).stdout, new RegExp(secret));
    // QEMU holds the image open as a client of the cluster
    assert.ok((await execa('rbd', ['--conf', join(cephDir, 'ceph.conf'), 'status', '--format', 'json', `volumes/volume-${v.id}`])).stdout.includes('watcher'));
    await aio.clients().osRaw('server', 'remove', 'volume', 'r1', v.id);
    await status('available');
    await con.waitForHeartbeat((h) => !h.disks.includes('vdb'), { timeoutMs: 60_000 });
    assert.doesNotMatch((await execa('virsh', ['dumpxml', domainNameFor(s.id)])).stdout, /protocol=['"]rbd/);
    await aio.clients().osRaw('volume', 'delete', v.id);
    const end = Date.now() + 60_000;
    while ((await b.list()).length) {
      assert.ok(Date.now() < end, 'the rbd image is still there');
      await new Promise((r) => setTimeout(r, 300));
    }
    await aio.clients().osRaw('server', 'delete', '--wait', 'r1');
    await execa('virsh', ['secret-undefine', secret], { reject: false });
  });

  it(`${CYCLES} attach/detach cycles of an rbd volume leave no image, watcher, lock, secret or disk the API does not list`, async () => {
    assert.ok(aio, 'novalet up --rbd runs (the test before)');
    const conf = ['--conf', join(cephDir, 'ceph.conf')];
    const s = await aio.openstack<{ id: string; status: string }>(['server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny', '--network', 'private', '--wait', 'r2']);
    assert.equal(s.status, 'ACTIVE');
    const con = new ConsoleLog(aio.consoleLogPath(s.id));
    await con.waitForReady({ timeoutMs: 120_000 });
    const v = await aio.openstack<{ id: string }>(['volume', 'create', '--type', 'rbd', '--size', '1', 'cycles']);
    const api = await apiAs(aio.url, 'demo', readFileSync(join(aio.dataDir, 'demo-password'), 'utf8').trim());
    const volPath = async () => {
      const r = await api('GET', `/volume/v3/{project}/volumes/${v.id}`);
      return (await r.json()) as { volume: { status: string } };
    };
    const waitVolume = async (want: string) => {
      const end = Date.now() + 60_000;
      for (;;) {
        const now = (await volPath()).volume.status;
        if (now === want) return;
        assert.ok(Date.now() < end, `volume ${now}, wanted ${want}\n${aio!.log.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitVolume('available');
    const t0 = Date.now();
    for (let i = 0; i < CYCLES; i++) {
      let r = await api('POST', `/compute/v2.1/servers/${s.id}/os-volume_attachments`, { volumeAttachment: { volumeId: v.id } });
      assert.equal(r.status, 200, await r.text());
      await waitVolume('in-use');
      r = await api('DELETE', `/compute/v2.1/servers/${s.id}/os-volume_attachments/${v.id}`);
      assert.equal(r.status, 202, await r.text());
      await waitVolume('available');
    }
    console.log(`${CYCLES} rbd attach/detach cycles: ${((Date.now() - t0) / CYCLES).toFixed(0)} ms per cycle`);
    // the API: no attachment; the pool: exactly the volumes the API lists
    const atts = await (await api('GET', `/compute/v2.1/servers/${s.id}/os-volume_attachments`)).json() as { volumeAttachments: unknown[] };
    assert.deepEqual(atts.volumeAttachments, []);
    const listed = (await (await api('GET', '/volume/v3/{project}/volumes')).json() as { volumes: Array<{ id: string }> }).volumes.map((x) => `volumes/volume-${x.id}`);
    assert.deepEqual((await b.list()).sort(), listed.sort());
    // QEMU closed the image: no watcher, no lock
    const status = JSON.parse((await execa('rbd', [...conf, 'status', '--format', 'json', `volumes/volume-${v.id}`])).stdout) as { watchers: unknown[] };
    assert.deepEqual(status.watchers, []);
    assert.deepEqual(await b.locks(`volumes/volume-${v.id}`), []);
    // the domain has no rbd disk; libvirt keeps one secret, the cluster user's
    assert.doesNotMatch((await execa('virsh', ['dumpxml', domainNameFor(s.id)])).stdout, /protocol=['"]rbd/);
    await con.waitForHeartbeat((h) => !h.disks.includes('vdb'), { timeoutMs: 60_000 });
    const secret = b.attachSource(`volumes/volume-${v.id}`).rbd!.secretUuid;
    const secrets = (await execa('virsh', ['secret-list'])).stdout.split('\n').filter((l) => /ceph/.test(l));
    assert.equal(secrets.length, 1, secrets.join('\n'));
    assert.match(secrets[0]!, new RegExp(secret));
    await aio.clients().osRaw('volume', 'delete', v.id);
    await aio.clients().osRaw('server', 'delete', '--wait', 'r2');
    const end = Date.now() + 60_000;
    while ((await b.list()).length) {
      assert.ok(Date.now() < end, 'the rbd image is still there');
      await new Promise((r) => setTimeout(r, 300));
    }
    await execa('virsh', ['secret-undefine', secret], { reject: false });
  });
});
