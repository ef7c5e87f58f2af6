/**
 * Volumes end to end on real QEMU with the stock client: `novalet up` (file backend under its data dir),
 * `openstack volume create` (1 GiB), `server add volume` to a running guest — the guest sees a new disk vdb
 * (its heartbeat lists /sys/block) and libvirt's domain XML has the volume's file — `server remove volume` (the
 * disk leaves the guest and the XML), then `server add volume` to a second server, which sees it. Errors through
 * the client: a volume in use is not attached twice nor deleted. The tiny guest has no command channel, so the
 * guest is not asked to write a file; the bytes written through QEMU are checked on the file instead.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { AllInOne } from '../support/all-in-one.js';
import { ConsoleLog } from '../support/guest.js';
import { ensureGuestBuilt, ensureRootLibvirtd } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';

/** NOVALET_VOLUME_CYCLES (default 25; the figure is 100) */
const CYCLES = Number(process.env.NOVALET_VOLUME_CYCLES ?? 25);

/** plain HTTP as demo (the cycles go faster than one client process per call) */
async function apiAs(url: string, password: string) {
  const auth = { auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { name: 'Default' }, password } } }, scope: { project: { name: 'demo', domain: { name: 'Default' } } } } };
  const r = await fetch(`${url}/identity/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(auth) });
  const token = r.headers.get('x-subject-token')!;
  return (method: string, path: string, body?: unknown) => fetch(`${url}${path}`, {
    method, headers: { 'x-auth-token': token, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

const aio = new AllInOne({ name: 'novalet-vol', cidr: '10.0.37.0/24' });
const domXml = async (uuid: string) => (await execa('virsh', ['dumpxml', domainNameFor(uuid)])).stdout;

interface Volume { id: string; status: string; size: number; attachments: Array<{ server_id: string; device: string }> }

describe('volumes on real QEMU with the stock client', { timeout: 900_000 }, () => {
  const servers: Record<string, { id: string; con: ConsoleLog }> = {};
  let vol: Volume;

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    await aio.start();
    for (const name of ['vm1', 'vm2']) {
      const s = await aio.openstack<{ id: string; status: string }>(['server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny', '--network', 'private', '--wait', name]);
      assert.equal(s.status, 'ACTIVE');
      const con = new ConsoleLog(aio.consoleLogPath(s.id));
      await con.waitForReady({ timeoutMs: 120_000 });
      servers[name] = { id: s.id, con };
    }
  });

  after(async () => {
    if (process.env.NOVALET_VOLUME_LOG) (await import('node:fs')).writeFileSync(process.env.NOVALET_VOLUME_LOG, aio.log);
    await aio.cleanup();
  });

  const waitVolume = async (want: string, timeoutMs = 60_000): Promise<Volume> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await aio.openstack<Volume>(['volume', 'show', 'data']);
      if (v.status === want) return v;
      if (Date.now() > end) throw new Error(`volume status ${v.status}, wanted ${want}\n${aio.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  it('volume create --size 1: available, a 1 GiB file in the data dir, listed', async () => {
    const v = await aio.openstack<Volume>(['volume', 'create', '--size', '1', 'data']);
    assert.equal(v.size, 1);
    vol = await waitVolume('available');
    const file = join(aio.dataDir, 'volumes', `volume-${vol.id}`);
    assert.ok(existsSync(file));
    const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', '-U', file])).stdout) as { 'virtual-size': number };
    assert.equal(info['virtual-size'], 1024 ** 3);
    const list = await aio.openstack<Array<{ ID: string; Status: string }>>(['volume', 'list']);
    assert.ok(list.some((x) => x.ID === vol.id && x.Status === 'available'), JSON.stringify(list));
  });

  it('server add volume: the guest sees vdb, the domain has the file, the volume is in-use', async () => {
    const { id, con } = servers.vm1!;
    await aio.clients().osRaw('server', 'add', 'volume', 'vm1', 'data');
    const v = await waitVolume('in-use');
    assert.equal(v.attachments[0]?.server_id, id);
    assert.equal(v.attachments[0]?.device, '/dev/vdb');
    const hb = await con.waitForHeartbeat((h) => h.disks.includes('vdb'), { timeoutMs: 60_000 });
    assert.ok(hb.disks.includes('vda'));
    assert.match(await domXml(id), new RegExp(`volume-${vol.id}`));
    const shown = await aio.openstack<{ volumes_attached: unknown }>(['server', 'show', 'vm1']);
    assert.match(JSON.stringify(shown.volumes_attached), new RegExp(vol.id));
    // in use: not attached to another server, not deleted
    assert.notEqual((await aio.clients().osFails('server', 'add', 'volume', 'vm2', 'data')).code, 0);
    assert.notEqual((await aio.clients().osFails('volume', 'delete', 'data')).code, 0);
    assert.equal((await waitVolume('in-use')).attachments.length, 1);
  });

  it('server remove volume: the disk leaves the guest and the domain, the volume is available', async () => {
    const { id, con } = servers.vm1!;
    await aio.clients().osRaw('server', 'remove', 'volume', 'vm1', 'data');
    await waitVolume('available');
    await con.waitForHeartbeat((h) => !h.disks.includes('vdb'), { timeoutMs: 60_000 });
    assert.doesNotMatch(await domXml(id), new RegExp(`volume-${vol.id}`));
  });

  it(`${CYCLES} attach/detach cycles through the API leave no disk in the domain, no attachment and no extra file`, async () => {
    const { id, con } = servers.vm2!;
    const api = await apiAs(aio.url, readFileSync(join(aio.dataDir, 'demo-password'), 'utf8').trim());
    const t0 = Date.now();
    for (let i = 0; i < CYCLES; i++) {
      let r = await api('POST', `/compute/v2.1/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: vol.id } });
      assert.equal(r.status, 200, await r.text());
      await waitVolume('in-use');
      r = await api('DELETE', `/compute/v2.1/servers/${id}/os-volume_attachments/${vol.id}`);
      assert.equal(r.status, 202, await r.text());
      await waitVolume('available');
    }
    console.log(`${CYCLES} attach/detach cycles: ${((Date.now() - t0) / CYCLES).toFixed(0)} ms per cycle`);
    assert.doesNotMatch(await domXml(id), new RegExp(`volume-${vol.id}`));
    await con.waitForHeartbeat((h) => !h.disks.includes('vdb'), { timeoutMs: 60_000 });
    const atts = await (await api('GET', `/compute/v2.1/servers/${id}/os-volume_attachments`)).json() as { volumeAttachments: unknown[] };
    assert.deepEqual(atts.volumeAttachments, []);
    assert.deepEqual(readdirSync(join(aio.dataDir, 'volumes')), [`volume-${vol.id}`]);
  });

  // A disk present at the guest's cold boot is not released by the tiny guest on a live detach (the agent times out
  // after 30 s; hot-plugged ones are released at once): here it is detached while the server is stopped again.
  it('a stopped server takes the volume into its definition: after start the guest sees vdb; detached while stopped', async () => {
    const { id, con } = servers.vm1!;
    await aio.clients().osRaw('server', 'stop', 'vm1');
    await aio.clients().waitStatus('vm1', 'SHUTOFF', { timeoutMs: 120_000 });
    await aio.clients().osRaw('server', 'add', 'volume', 'vm1', 'data');
    await waitVolume('in-use');
    assert.match((await execa('virsh', ['dumpxml', '--inactive', domainNameFor(id)])).stdout, new RegExp(`volume-${vol.id}`));
    await aio.clients().osRaw('server', 'start', 'vm1');
    await aio.clients().waitStatus('vm1', 'ACTIVE', { timeoutMs: 120_000 });
    await con.waitForHeartbeat((h) => h.disks.includes('vdb'), { timeoutMs: 120_000 });
    await aio.clients().osRaw('server', 'stop', 'vm1');
    await aio.clients().waitStatus('vm1', 'SHUTOFF', { timeoutMs: 120_000 });
    await aio.clients().osRaw('server', 'remove', 'volume', 'vm1', 'data');
    await waitVolume('available');
    assert.doesNotMatch((await execa('virsh', ['dumpxml', '--inactive', domainNameFor(id)])).stdout, new RegExp(`volume-${vol.id}`));
  });

  it('server add volume to a second server: it sees the disk; then detach and delete leave nothing', async () => {
    const { id, con } = servers.vm2!;
    await aio.clients().osRaw('server', 'add', 'volume', 'vm2', 'data');
    await waitVolume('in-use');
    await con.waitForHeartbeat((h) => h.disks.includes('vdb'), { timeoutMs: 60_000 });
    assert.match(await domXml(id), new RegExp(`volume-${vol.id}`));
    await aio.clients().osRaw('server', 'remove', 'volume', 'vm2', 'data');
    await waitVolume('available');
    await aio.clients().osRaw('volume', 'delete', 'data');
    const file = join(aio.dataDir, 'volumes', `volume-${vol.id}`);
    for (let i = 0; i < 100 && existsSync(file); i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(file), false);
  });
});
