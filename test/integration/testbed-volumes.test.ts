/**
 * Volumes on `novalet testbed up --hosts 2` (real libvirtds in their namespaces, real QEMU, the stock clients), once
 * per storage: `file` (volumes in DIR/shared/volumes, the storage every host sees) and `ceph` (`--storage ceph`: a
 * single-node Ceph of the testbed's own, volumes of the default type are rbd images that QEMU opens as network
 * disks; skipped without Ceph's packages, except in CI: test/support/ceph.ts). One testbed per storage runs:
 * - a server booted from a volume made from the guest image (bv) and a plain server on the other host (w), both with
 *   user data that watches their disks: the guest writes a marker 900 MiB into vda (past the image) when there is
 *   none, and one into the first sector of a new vdb when it has none, and prints what it read and wrote on its
 *   console (the tiny guest has no command channel);
 * - (a) a 1 GiB volume attached to the running w: its guest sees vdb and writes; detached (the guest loses it); then
 *   attached to bv on the other host, whose guest reads the first one's marker;
 * - (file only, it costs a Ceph run nothing new) bv is cold-migrated (its guest boots on the other host with vda and
 *   vdb, the attachments name the new host), then live-migrated back (the same boot continues; no disk bytes copied);
 * - (b) bv deleted (delete_on_termination false): both volumes available, still in the storage; the root volume
 *   boots a new server whose guest finds the marker the first one wrote on its vda;
 * - createImage of that server (`openstack server image create`: volume snapshots and a 0-byte image mapping them),
 *   and `server create --image` of that image: a new root volume from the snapshot, whose guest finds the marker;
 * - (ceph only) evacuation's fence: the rbd backend blocklists host h0 by its address (IP:0/0, what the cephx user
 *   of `profile rbd` may add): QEMU's rbd driver on h0 can no longer write a volume; unfenced, it can again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa, execaSync } from 'execa';
import { Clients } from '../support/stock-clients.js';
import { ensureGuestBuilt, isRoot } from '../support/virsh.js';
import { NovaletTestbed } from '../support/novalet-testbed.js';
import { assertCeph, cephSkip } from '../support/ceph.js';
import { RbdBackend } from '../../src/controller/volumes/backends/rbd.js';

const V = ['--os-compute-api-version', '2.80'];

/** the guest side of the test (config drive user data, runs once per boot in the background) */
const USER_DATA = `#!/bin/sh
rd() { dd if=/dev/$1 bs=1M skip=$2 count=1 2>/dev/null | head -c 64 | tr -cd 'a-z0-9-'; }
wr() { printf '%s' "$3" | dd of=/dev/$1 bs=1M seek=$2 conv=fsync 2>/dev/null; }
r=$(rd vda 900); echo "NOVALET-VOL dev=vda had=\${r:-none}"
[ -n "$r" ] || { wr vda 900 novalet-root-marker; echo "NOVALET-VOL dev=vda wrote=$(rd vda 900)"; }
seen=""
while :; do
  if [ -b /dev/vdb ] && [ -z "$seen" ]; then
    sleep 1; d=$(rd vdb 0); echo "NOVALET-VOL dev=vdb had=\${d:-none}"
    [ -n "$d" ] || { wr vdb 0 novalet-data-marker; echo "NOVALET-VOL dev=vdb wrote=$(rd vdb 0)"; }
    seen=1
  fi
  [ -b /dev/vdb ] || seen=""
  sleep 1
done
`;

interface Volume { id: string; status: string; attachments: Array<{ server_id: string; device: string; host_name: string }> }

for (const storage of ['file', 'ceph'] as const) {
  const skip = !isRoot() ? 'needs root (namespaces, libvirtd, QEMU)' : storage === 'ceph' ? cephSkip() : false;
  const tb = new NovaletTestbed(`tbvol${storage}`);
  const { parent, dir } = tb;
  const novalet = tb.run;
  const logs = () => tb.logs(2500);
  const consoleOn = tb.consoleOn;
  const cephDir = join(dir, 'ceph');
  /** the volume's bytes are where its backend keeps them (a file every host sees / an rbd image in the pool) */
  const stored = async (id: string): Promise<boolean> => {
    if (storage === 'file') return existsSync(join(dir, 'shared', 'volumes', `volume-${id}`));
    const r = await execa('rbd', ['--conf', join(cephDir, 'ceph.conf'), '--id', 'novalet', '--keyring', join(cephDir, 'ceph.client.novalet.keyring'), 'ls', '--format', 'json', 'volumes']);
    return (JSON.parse(r.stdout) as string[]).includes(`volume-${id}`);
  };

  describe(`volumes on ${storage} storage follow their server across hosts (testbed, stock clients)`, { skip, timeout: 900_000 }, () => {
    let admin: Clients;
    let demo: Clients;
    let vm = '';
    let host = '';
    let root = '';
    let data = '';
    let other = { id: '', host: '' };
    const userData = join(parent, 'user-data.sh');

    before(async () => {
      if (storage === 'ceph') assertCeph();
      await ensureGuestBuilt();
      writeFileSync(userData, USER_DATA);
      const t0 = Date.now();
      ({ demo, admin } = await tb.up('--hosts', '2', '--storage', storage));
      console.log(`testbed up --storage ${storage}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    });

    after(async () => {
      if (process.env.KEEP_TESTBED_LOGS) execaSync('cp', ['-r', join(dir, 'logs'), process.env.KEEP_TESTBED_LOGS], { reject: false });
      await novalet('down');
      rmSync(parent, { recursive: true, force: true });
    });

    const hostOf = async (id = vm) => (await admin.os<Record<string, string>>('server', 'show', id))['OS-EXT-SRV-ATTR:host']!;
    /** the guest printed `NOVALET-VOL dev=<dev> <what>` (USER_DATA) */
    const guestSays = (h: string, id: string, line: string) => consoleOn(h, id).waitFor(new RegExp(`NOVALET-VOL ${line}`), 120_000)
      .catch((e: unknown) => assert.fail(`${String(e)}\n${logs()}`));
    const boot = (...args: string[]) => demo.os<{ id: string; status: string }>('server', 'create', '--flavor', 'm1.tiny', '--network', 'private',
      '--config-drive', 'true', '--user-data', userData, '--wait', ...args);
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

    it('a server booted from a volume from the guest image, a plain one on the other host, a 1 GiB volume', async () => {
      const d = await demo.os<Volume>('volume', 'create', '--size', '1', 'data');
      data = d.id;
      await waitVolume(data, 'available');
      assert.ok(await stored(data), `volume-${data} in the ${storage} storage`);
      const s = await boot('--image', 'novalet-guest', '--boot-from-volume', '1', 'bv');
      assert.equal(s.status, 'ACTIVE');
      vm = s.id;
      host = await hostOf();
      root = (await demo.os<Array<{ ID: string }>>('volume', 'list')).map((x) => x.ID).find((id) => id !== data)!;
      assert.ok(await stored(root), `the root volume in the ${storage} storage`);
      const w = await boot('--image', 'novalet-guest', '--hint', `different_host=${vm}`, 'w');
      other = { id: w.id, host: await hostOf(w.id) };
      assert.notEqual(other.host, host);
      await guestSays(host, vm, 'dev=vda wrote=novalet-root-marker');
    });

    it('(a) attached to a running server the guest writes on vdb; detached; attached to a server on the other host, its guest reads it', async () => {
      await demo.osRaw('server', 'add', 'volume', 'w', 'data');
      assert.deepEqual((await waitVolume(data, 'in-use')).attachments.map((a) => [a.server_id, a.device, a.host_name]), [[other.id, '/dev/vdb', other.host]]);
      await guestSays(other.host, other.id, 'dev=vdb wrote=novalet-data-marker');
      await demo.osRaw('server', 'remove', 'volume', 'w', 'data');
      await waitVolume(data, 'available');
      await consoleOn(other.host, other.id).waitForHeartbeat((h) => !h.disks.includes('vdb'), { timeoutMs: 60_000 });
      await demo.osRaw('server', 'add', 'volume', 'bv', 'data');
      await waitVolume(data, 'in-use');
      await guestSays(host, vm, 'dev=vdb had=novalet-data-marker');
      await consoleOn(host, vm).waitForHeartbeat((h) => h.disks.includes('vda') && h.disks.includes('vdb'), { timeoutMs: 120_000 });
      await attachedOn(host);
    });

    it('cold migration: the guest boots on the other host with both volumes; the attachments name that host', { skip: storage !== 'file' && 'migrations of rbd disks: not repeated on Ceph (CI time)' }, async () => {
      await admin.osRaw('server', 'migrate', '--wait', vm);
      await admin.waitStatus(vm, 'VERIFY_RESIZE', { timeoutMs: 180_000, context: logs });
      const target = await hostOf();
      assert.notEqual(target, host);
      await demo.osRaw('server', 'resize', 'confirm', 'bv');
      await admin.waitStatus(vm, 'ACTIVE', { timeoutMs: 120_000, context: logs });
      await consoleOn(target, vm).waitForHeartbeat((h) => h.disks.includes('vda') && h.disks.includes('vdb'), { timeoutMs: 120_000 });
      await attachedOn(target);
      // the volumes were not copied into the instance dir
      assert.deepEqual(readdirSync(join(dir, target, 'agent', 'instances', vm)).filter((f) => f.startsWith('disk') && f !== 'disk.config'), []);
      host = target;
    });

    it('live migration back: the same boot continues, no disk bytes copied, the attachments follow', { skip: storage !== 'file' && 'migrations of rbd disks: not repeated on Ceph (CI time)' }, async () => {
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

    it('(b) delete (delete_on_termination false): both volumes available, still stored; the root volume boots a new server with the same content', async () => {
      await demo.osRaw('server', 'delete', '--wait', 'bv');
      for (const id of [root, data]) {
        await waitVolume(id, 'available');
        assert.ok(await stored(id), `volume-${id} in the ${storage} storage`);
      }
      const s = await boot('--volume', root, 'bv2');
      assert.equal(s.status, 'ACTIVE');
      assert.deepEqual((await waitVolume(root, 'in-use')).attachments.map((a) => [a.server_id, a.device]), [[s.id, '/dev/vda']]);
      await guestSays(await hostOf(s.id), s.id, 'dev=vda had=novalet-root-marker');
    });

    it('createImage of the volume-booted server, then a server from that image: a new root volume from its snapshot, with its content', async () => {
      await demo.osRaw('server', 'image', 'create', '--name', 'bv-snap', '--wait', 'bv2');
      const s = await boot('--image', 'bv-snap', 'bv3');
      assert.equal(s.status, 'ACTIVE');
      const vols = await demo.os<Array<{ ID: string }>>('volume', 'list');
      const roots = (await Promise.all(vols.map((v) => volume(v.ID)))).filter((v) => v.attachments.some((a) => a.server_id === s.id && a.device === '/dev/vda'));
      assert.equal(roots.length, 1, 'one root volume');
      assert.ok(![root, data].includes(roots[0]!.id), 'a new volume, not the snapshot\'s source');
      assert.ok(await stored(roots[0]!.id), `its root volume in the ${storage} storage`);
      await guestSays(await hostOf(s.id), s.id, 'dev=vda had=novalet-root-marker');
      await demo.osRaw('server', 'delete', '--wait', 'bv3');
    });

    it('fence (evacuation): the rbd backend blocklists a host by its address; QEMU there can no longer write; unfence lets it again', { skip: storage !== 'ceph' && 'rbd only' }, async () => {
      const rbd = new RbdBackend({ pool: 'volumes', user: 'novalet', conf: join(cephDir, 'ceph.conf'), keyring: join(cephDir, 'ceph.client.novalet.keyring') });
      const h0 = (await admin.os<Record<string, string>>('hypervisor', 'show', 'h0'))['host_ip']!;
      const netns = (JSON.parse((await novalet('status', '--json')).stdout) as { hosts: Array<{ name: string; netns: string }> }).hosts.find((x) => x.name === 'h0')!.netns;
      // a write through QEMU's rbd driver from h0 (the guests' client, as the host's QEMU opens a volume)
      const writeFromH0 = () => execa('ip', ['netns', 'exec', netns, 'timeout', '20', 'qemu-io', '-f', 'raw',
        `rbd:volumes/volume-${data}:id=novalet:conf=${join(cephDir, 'ceph.conf')}:keyring=${join(cephDir, 'ceph.client.novalet.keyring')}`,
        '-c', 'write -P 0x42 4096 4096', '-c', 'flush'], { reject: false, all: true });
      const ok = await writeFromH0();
      assert.equal(ok.exitCode, 0, ok.all);
      assert.doesNotMatch(ok.all ?? '', /error|failed/i, ok.all);
      assert.equal(await rbd.fence(h0), true);
      assert.ok((await rbd.blocklisted()).includes(`${h0}:0/0`), 'the whole host: IP:0/0');
      await rbd.fence(h0); // idempotent (a re-driven step)
      const cut = await writeFromH0();
      assert.ok(cut.exitCode !== 0 || /error|failed|blocklist/i.test(cut.all ?? ''), `QEMU on the fenced host still wrote: ${cut.all}`);
      await rbd.unfence(h0);
      await rbd.unfence(h0); // idempotent
      assert.ok(!(await rbd.blocklisted()).includes(`${h0}:0/0`));
      const again = await writeFromH0();
      assert.equal(again.exitCode, 0, again.all);
      assert.doesNotMatch(again.all ?? '', /error|failed/i, again.all);
    });
  });
}
