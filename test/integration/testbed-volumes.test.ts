/**
 * Volumes follow their server across hosts on `novalet testbed up --hosts 2` (real libvirtds in their namespaces,
 * real QEMU; file volumes in DIR/shared/volumes, the storage every host sees), with the stock clients: a server
 * booted from a volume, with a second (data) volume attached, is cold-migrated (its guest boots on the other host
 * with vda and vdb, the attachments name the new host), then live-migrated back (the same boot continues; no disk
 * bytes are copied: the volumes stay where they are), and deleted: both volumes are available again with their files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execaSync } from 'execa';
import { Clients } from '../support/stock-clients.js';
import { ensureGuestBuilt, isRoot } from '../support/virsh.js';
import { NovaletTestbed } from '../support/novalet-testbed.js';

const skip = !isRoot() ? 'needs root (namespaces, libvirtd, QEMU)' : false;
const tb = new NovaletTestbed('tbvol');
const { parent, dir } = tb;
const V = ['--os-compute-api-version', '2.80'];

const novalet = tb.run;

const logs = () => tb.logs(2500);

const consoleOn = tb.consoleOn;

interface Volume { id: string; status: string; attachments: Array<{ server_id: string; device: string; host_name: string }> }

describe('volumes follow their server across hosts (testbed, stock clients)', { skip, timeout: 900_000 }, () => {
  let admin: Clients;
  let demo: Clients;
  let vm = '';
  let host = '';
  let root = '';
  let data = '';

  before(async () => {
    await ensureGuestBuilt();
    ({ demo, admin } = await tb.up('--hosts', '2'));
  });

  after(async () => {
    if (process.env.KEEP_TESTBED_LOGS) execaSync('cp', ['-r', join(dir, 'logs'), process.env.KEEP_TESTBED_LOGS], { reject: false });
    await novalet('down');
    rmSync(parent, { recursive: true, force: true });
  });

  const hostOf = async () => (await admin.os<Record<string, string>>('server', 'show', vm))['OS-EXT-SRV-ATTR:host']!;
  const volume = (id: string) => demo.os<Volume>('volume', 'show', id);
  const waitVolume = async (id: string, want: string): Promise<Volume> => {
    const end = Date.now() + 60_000;
    for (;;) {
      const v = await volume(id);
      if (v.status === want) return v;
      assert.ok(Date.now() < end, `volume ${id} is ${v.status}, wanted ${want}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const attachedOn = async (h: string) => {
    for (const id of [root, data]) assert.deepEqual((await volume(id)).attachments.map((a) => [a.server_id, a.host_name]), [[vm, h]]);
  };

  it('a server booted from a volume, with a data volume attached: the guest sees vda and vdb', async () => {
    const d = await demo.os<Volume>('volume', 'create', '--size', '1', 'data');
    data = d.id;
    await waitVolume(data, 'available');
    assert.ok(existsSync(join(dir, 'shared', 'volumes', `volume-${data}`)));
    const s = await demo.os<{ id: string; status: string }>('server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny', '--boot-from-volume', '1', '--network', 'private', '--wait', 'bv');
    assert.equal(s.status, 'ACTIVE');
    vm = s.id;
    host = await hostOf();
    root = (await demo.os<Array<{ ID: string }>>('volume', 'list')).map((x) => x.ID).find((id) => id !== data)!;
    await demo.osRaw('server', 'add', 'volume', 'bv', 'data');
    await waitVolume(data, 'in-use');
    await consoleOn(host, vm).waitForHeartbeat((h) => h.disks.includes('vda') && h.disks.includes('vdb'), { timeoutMs: 120_000 });
    await attachedOn(host);
  });

  it('cold migration: the guest boots on the other host with both volumes; the attachments name that host', async () => {
    await admin.osRaw('server', 'migrate', '--wait', vm);
    await admin.waitStatus(vm, 'VERIFY_RESIZE', { timeoutMs: 180_000, context: logs });
    const target = await hostOf();
    assert.notEqual(target, host);
    await demo.osRaw('server', 'resize', 'confirm', 'bv');
    await admin.waitStatus(vm, 'ACTIVE', { timeoutMs: 120_000, context: logs });
    await consoleOn(target, vm).waitForHeartbeat((h) => h.disks.includes('vda') && h.disks.includes('vdb'), { timeoutMs: 120_000 });
    await attachedOn(target);
    // the volumes were not copied into the instance dir
    assert.deepEqual(readdirSync(join(dir, target, 'agent', 'instances', vm)).filter((f) => f.startsWith('disk')), []);
    host = target;
  });

  it('live migration back: the same boot continues, no disk bytes copied, the attachments follow', async () => {
    const con = consoleOn(host, vm);
    const before = await con.waitForHeartbeat(() => true, { timeoutMs: 30_000 });
    await admin.osRaw(...V, 'server', 'migrate', '--live-migration', '--wait', vm);
    const target = await hostOf();
    assert.notEqual(target, host, logs());
    const hb = await consoleOn(target, vm).waitForHeartbeat((h) => h.seq > before.seq, { timeoutMs: 60_000 });
    assert.equal(hb.boot, before.boot, 'no reboot');
    assert.ok(hb.disks.includes('vda') && hb.disks.includes('vdb'));
    const [m] = await admin.os<Array<Record<string, unknown>>>(...V, 'server', 'migration', 'list', '--server', vm, '--status', 'completed', '--type', 'live-migration');
    assert.ok(m, 'a completed live migration');
    // the monitor's last reading (kept on the record; Nova shows it only while the migration runs): no disk copied
    const db = new Database(join(dir, 'controller', 'controller.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT memory_total, disk_total FROM migrations WHERE server_id = ? AND migration_type = ? ORDER BY id DESC LIMIT 1').get(vm, 'live-migration') as { memory_total: number | null; disk_total: number | null };
      assert.ok((row.memory_total ?? 0) > 0, `the record has the monitor's reading: ${JSON.stringify(row)}`);
      assert.equal(row.disk_total ?? 0, 0);
    } finally {
      db.close();
    }
    await attachedOn(target);
  });

  it('delete: both volumes available again, their files in the shared directory', async () => {
    await demo.osRaw('server', 'delete', '--wait', 'bv');
    for (const id of [root, data]) {
      await waitVolume(id, 'available');
      assert.ok(existsSync(join(dir, 'shared', 'volumes', `volume-${id}`)));
    }
  });
});
