/**
 * Boot from volume on real QEMU with the stock client (`novalet up`, file backend under its data dir):
 * `server create --boot-from-volume 1` makes a 1 GiB volume from the image, the guest boots with vda being that
 * volume (its heartbeat lists vda; libvirt's vda is the volume's file; no root overlay in the instance dir), the
 * volume is in-use on /dev/vda and cannot be detached; deleting the server (delete_on_termination false by default)
 * leaves the volume available with its bytes, and `server create --volume` boots a second server from it. The tiny
 * guest runs from its initrd and has no command channel: the "same content" is a marker written into the volume
 * between the two servers and read back after the second one is gone. `nova boot --block-device ...shutdown=remove`
 * makes a volume that goes with its server. A volume in use is refused at create (400, nothing built).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { AllInOne } from '../support/all-in-one.js';
import { ConsoleLog } from '../support/guest.js';
import { ensureGuestBuilt, ensureRootLibvirtd } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';

const aio = new AllInOne({ name: 'novalet-bfv', cidr: '10.0.38.0/24' });
const domXml = async (uuid: string) => (await execa('virsh', ['dumpxml', domainNameFor(uuid)])).stdout;

interface Volume { id: string; status: string; size: number; bootable: string; attachments: Array<{ server_id: string; device: string }> }
interface Shown { id: string; status: string; image: unknown; volumes_attached: Array<{ id: string }> }

describe('boot from volume on real QEMU with the stock client', { timeout: 900_000 }, () => {
  let volId = '';
  let firstId = '';
  const volFile = () => join(aio.dataDir, 'volumes', `volume-${volId}`);

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    await aio.start();
  });

  after(async () => {
    if (process.env.NOVALET_BFV_LOG) (await import('node:fs')).writeFileSync(process.env.NOVALET_BFV_LOG, aio.log);
    await aio.cleanup();
  });

  const waitVolume = async (id: string, want: string, timeoutMs = 60_000): Promise<Volume> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await aio.openstack<Volume>(['volume', 'show', id]);
      if (v.status === want) return v;
      if (Date.now() > end) throw new Error(`volume status ${v.status}, wanted ${want}\n${aio.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const bootsFrom = async (serverId: string, volume = volId) => {
    const con = new ConsoleLog(aio.consoleLogPath(serverId));
    await con.waitForReady({ timeoutMs: 120_000 });
    const hb = await con.waitForHeartbeat((h) => h.disks.includes('vda'), { timeoutMs: 60_000 });
    assert.ok(hb.disks.includes('vda'));
    // libvirt's vda is the volume's file; the instance dir has no root overlay
    const xml = await domXml(serverId);
    const vda = /<disk[^>]*>(?:(?!<\/disk>)[\s\S])*?<target dev='vda'[\s\S]*?<\/disk>/.exec(xml)?.[0] ?? '';
    assert.match(vda, new RegExp(`volume-${volume}`), xml);
    assert.ok(!existsSync(join(aio.dataDir, 'agent', 'instances', serverId, 'disk')));
  };

  it('server create --boot-from-volume 1: a 1 GiB volume from the image is the guest\'s vda, in-use on /dev/vda', async () => {
    const s = await aio.openstack<Shown>(['server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny', '--boot-from-volume', '1', '--network', 'private', '--wait', 'bfv1']);
    assert.equal(s.status, 'ACTIVE');
    firstId = s.id;
    const vols = await aio.openstack<Array<{ ID: string; Status: string; Size: number }>>(['volume', 'list']);
    assert.equal(vols.length, 1, JSON.stringify(vols));
    volId = vols[0]!.ID;
    const v = await waitVolume(volId, 'in-use');
    assert.equal(v.size, 1);
    assert.equal(String(v.bootable), 'true');
    assert.deepEqual(v.attachments.map((a) => [a.server_id, a.device]), [[firstId, '/dev/vda']]);
    const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', '-U', volFile()])).stdout) as { 'virtual-size': number; 'backing-filename'?: string };
    assert.equal(info['virtual-size'], 1024 ** 3);
    assert.equal(info['backing-filename'], undefined);
    await bootsFrom(firstId);
    const shown = await aio.openstack<Shown>(['server', 'show', 'bfv1']);
    assert.match(String(shown.image), /booted from volume|^$/i);
    assert.deepEqual(shown.volumes_attached.map((x) => x.id), [volId]);
  });

  it('the root volume cannot be detached, nor attached to another server, nor deleted; a blank volume does not boot', async () => {
    assert.match((await aio.clients().osFails('server', 'remove', 'volume', 'bfv1', volId)).stderr, /root device|400/i);
    assert.notEqual((await aio.clients().osFails('volume', 'delete', volId)).code, 0);
    // at create: a volume in use is a 400 and nothing is built
    const r = await aio.clients().osFails('server', 'create', '--flavor', 'm1.tiny', '--volume', volId, '--network', 'private', 'bfv-refused');
    assert.match(r.stderr, /400|in-use|status/i);
    const list = await aio.openstack<Array<{ Name: string }>>(['server', 'list']);
    assert.ok(!list.some((x) => x.Name === 'bfv-refused'), JSON.stringify(list));
    assert.equal((await waitVolume(volId, 'in-use')).attachments.length, 1);
    // a blank volume is not bootable: 400 as Nova
    const blank = await aio.openstack<{ id: string }>(['volume', 'create', '--size', '1', 'blank']);
    await waitVolume(blank.id, 'available');
    assert.match((await aio.clients().osFails('server', 'create', '--flavor', 'm1.tiny', '--volume', blank.id, '--network', 'private', 'bfv-blank')).stderr, /not bootable/);
    assert.deepEqual((await waitVolume(blank.id, 'available')).attachments, []);
    await aio.clients().osRaw('volume', 'delete', blank.id);
    const end = Date.now() + 30_000;
    while (existsSync(join(aio.dataDir, 'volumes', `volume-${blank.id}`))) {
      assert.ok(Date.now() < end, 'the blank volume is still there');
      await new Promise((r) => setTimeout(r, 300));
    }
  });

  it('delete with delete_on_termination false: the volume stays, available, with its bytes', async () => {
    await aio.clients().osRaw('server', 'delete', '--wait', 'bfv1');
    const v = await waitVolume(volId, 'available');
    assert.deepEqual(v.attachments, []);
    assert.ok(existsSync(volFile()));
    // a marker in the volume, to find again after the next server
    await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 512M 64k', volFile()]);
  });

  it('server create --volume: a new server boots from the same volume; its delete leaves the volume and the marker', async () => {
    const s = await aio.openstack<Shown>(['server', 'create', '--flavor', 'm1.tiny', '--volume', volId, '--network', 'private', '--wait', 'bfv2']);
    assert.equal(s.status, 'ACTIVE');
    assert.deepEqual((await waitVolume(volId, 'in-use')).attachments.map((a) => [a.server_id, a.device]), [[s.id, '/dev/vda']]);
    await bootsFrom(s.id);
    await aio.clients().osRaw('server', 'delete', '--wait', 'bfv2');
    await waitVolume(volId, 'available');
    const read = await execa('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0x5a 512M 64k', volFile()], { reject: false });
    assert.doesNotMatch(read.stdout + read.stderr, /Pattern verification failed/);
    assert.match(read.stdout, /read 65536\/65536 bytes/);
  });

  it('nova boot --block-device ...shutdown=remove: the volume made for the server goes with it', async () => {
    const img = await aio.openstack<{ id: string }>(['image', 'show', 'novalet-guest']);
    const r = await aio.nova(['boot', '--flavor', 'm1.tiny', '--nic', 'none', '--poll',
      '--block-device', `source=image,id=${img.id},dest=volume,size=1,shutdown=remove,bootindex=0`, 'bfv3']);
    assert.equal(r.code, 0, r.stderr);
    const s = await aio.clients().waitStatus('bfv3', 'ACTIVE', { timeoutMs: 120_000, context: () => aio.log.slice(-2000) });
    const mine = (await aio.openstack<Array<{ ID: string }>>(['volume', 'list'])).map((x) => x.ID).filter((id) => id !== volId);
    assert.equal(mine.length, 1);
    await bootsFrom(s.id, mine[0]);
    await aio.clients().osRaw('server', 'delete', '--wait', 'bfv3');
    const end = Date.now() + 60_000;
    while ((await aio.openstack<Array<{ ID: string }>>(['volume', 'list'])).some((x) => x.ID === mine[0])) {
      assert.ok(Date.now() < end, 'the delete_on_termination volume is still there');
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(readdirSync(join(aio.dataDir, 'volumes')), [`volume-${volId}`]);
  });
});
