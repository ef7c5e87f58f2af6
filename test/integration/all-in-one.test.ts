/**
 * End to end on real QEMU: `novalet up` (controller + agent + NAT network) driven with Debian's openstack, nova and
 * openstacksdk clients through the clouds.yaml it writes. Every single-host server operation is checked twice:
 * the status the API reports, and what the guest and libvirt show (console heartbeats, boot ids, DHCP address,
 * domain state, managed save; the console log also through `openstack console log show`); shelve and unshelve. Also: kill -9 of the
 * whole all-in-one mid-operation, and a restart never touching a running guest.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { AllInOne, domstate } from '../support/all-in-one.js';
import type { ServerShown } from '../support/stock-clients.js';
import { ConsoleLog } from '../support/guest.js';
import { ensureGuestBuilt, ensureRootLibvirtd } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';

const aio = new AllInOne();

interface ServerView extends ServerShown { addresses: Record<string, string[]> | string; flavor: string }

const waitStatus = (name: string, want: string, timeoutMs = 120_000): Promise<ServerView> =>
  aio.clients().waitStatus<ServerView>(name, want, { timeoutMs, context: () => aio.log.slice(-2000) });

const hasManagedSave = async (uuid: string) => /Managed save:\s+yes/.test((await execa('virsh', ['dominfo', domainNameFor(uuid)])).stdout);

describe('all-in-one with the stock clients on real QEMU', { timeout: 900_000 }, () => {
  let vm1 = '';
  let con: ConsoleLog;
  let boot = '';

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    await aio.start();
  });

  after(async () => { await aio.cleanup(); });

  it('server create --wait --user-data: ACTIVE with an address on the network; the guest got exactly that address and read its user data', async () => {
    const userData = join(aio.dataDir, 'user-data.txt');
    writeFileSync(userData, '#hello-from-user-data\necho second line\n');
    const s = await aio.openstack<ServerView>(['server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny', '--network', 'private',
      '--user-data', userData, '--wait', 'vm1']);
    vm1 = s.id;
    assert.equal(s.status, 'ACTIVE');
    const ip = (typeof s.addresses === 'string' ? s.addresses : JSON.stringify(s.addresses)).match(/10\.0\.9\.\d+/)?.[0];
    assert.ok(ip, `address in ${JSON.stringify(s.addresses)}`);
    con = new ConsoleLog(aio.consoleLogPath(vm1));
    boot = (await con.waitForReady({ timeoutMs: 90_000 })).boot;
    const hb = await con.waitForHeartbeat((h) => (h.ips['eth0'] ?? []).includes(ip), { timeoutMs: 60_000 });
    assert.equal(hb.boot, boot);
    assert.equal(await domstate(vm1), 'running');
    // no metadata service: user data reaches the guest on a config drive, read by the guest itself
    const cd = (await con.waitFor(/NOVALET-CONFIGDRIVE dev=\S+ label=config-2 dirs=\S* uuid=(\S*) userdata=(.*)$/, 60_000)).match;
    assert.equal(cd[1], vm1);
    assert.equal(cd[2], '#hello-from-user-data');
    const list = await aio.openstack<Array<{ Name: string; Status: string; Networks: unknown }>>(['server', 'list']);
    assert.ok(list.some((x) => x.Name === 'vm1' && x.Status === 'ACTIVE' && JSON.stringify(x.Networks).includes(ip)));
  });

  it('console log show (os-getConsoleOutput): the guest\'s serial console through the API, --lines tails it', async () => {
    const text = await aio.clients().osRaw('console', 'log', 'show', 'vm1');
    assert.match(text, new RegExp(`NOVALET-READY boot=${boot}`), text.slice(-2000));
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f]/, 'control characters stripped (\\t and \\n kept)');
    const tail = await aio.clients().osRaw('console', 'log', 'show', '--lines', '3', 'vm1');
    assert.ok(tail.trimEnd().split('\n').length <= 3, tail);
    const missing = await aio.clients().osFails('console', 'log', 'show', 'no-such-server');
    assert.notEqual(missing.code, 0);
  });

  it('pause / unpause: the guest freezes (no heartbeat) and continues in the same boot', async () => {
    // listed twice unchanged first, so that the controller keeps vm1's list render: the list must still show the pause
    const listedStatus = async () => (await aio.openstack<Array<{ Name: string; Status: string }>>(['server', 'list'])).find((x) => x.Name === 'vm1')?.Status;
    assert.deepEqual([await listedStatus(), await listedStatus()], ['ACTIVE', 'ACTIVE']);
    await aio.openstack(['server', 'pause', 'vm1']);
    await waitStatus('vm1', 'PAUSED');
    assert.equal(await listedStatus(), 'PAUSED');
    assert.equal(await domstate(vm1), 'paused');
    const mark = await con.mark();
    await sleep(3000);
    await con.poll();
    assert.equal(con.heartbeats(mark).length, 0, 'no heartbeat while paused');
    await aio.openstack(['server', 'unpause', 'vm1']);
    await waitStatus('vm1', 'ACTIVE');
    const hb = await con.waitForHeartbeat(() => true, { since: mark });
    assert.equal(hb.boot, boot, 'same boot after unpause');
  });

  it('suspend / resume: memory saved to disk (managed save, domain off), resumed in the same boot', async () => {
    await aio.openstack(['server', 'suspend', 'vm1']);
    await waitStatus('vm1', 'SUSPENDED');
    assert.equal(await domstate(vm1), 'shut off');
    assert.ok(await hasManagedSave(vm1), 'managed save image exists');
    const mark = await con.mark();
    await aio.openstack(['server', 'resume', 'vm1']);
    await waitStatus('vm1', 'ACTIVE');
    const hb = await con.waitForHeartbeat(() => true, { since: mark, timeoutMs: 60_000 });
    assert.equal(hb.boot, boot, 'resumed, not rebooted');
  });

  it('stop / start: ACPI power-off seen by the guest, domain off; start boots it again', async () => {
    const mark = await con.mark();
    await aio.openstack(['server', 'stop', 'vm1']);
    await waitStatus('vm1', 'SHUTOFF');
    assert.equal(await domstate(vm1), 'shut off');
    await con.waitFor(/NOVALET-ACPI-POWEROFF/, 10_000, mark);
    await aio.openstack(['server', 'start', 'vm1']);
    await waitStatus('vm1', 'ACTIVE');
    const r = await con.waitForReady({ since: mark, timeoutMs: 90_000 });
    assert.notEqual(r.boot, boot);
    boot = r.boot;
  });

  it('reboot (soft and --hard): a new boot each time, seen on the console', async () => {
    for (const hard of [false, true]) {
      const mark = await con.mark();
      await aio.openstack(['server', 'reboot', ...(hard ? ['--hard'] : []), 'vm1']);
      const r = await con.waitForReady({ since: mark, timeoutMs: 120_000 });
      assert.notEqual(r.boot, boot, `${hard ? 'hard' : 'soft'} reboot gives a new boot`);
      boot = r.boot;
      await waitStatus('vm1', 'ACTIVE');
    }
  });

  it('nova: list, lock (actions refused with 409 for the owner), unlock, show', async () => {
    const list = await aio.nova(['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /vm1\s*\|\s*ACTIVE/);
    assert.equal((await aio.nova(['lock', 'vm1'])).code, 0);
    const refused = await aio.clients().osFails('server', 'stop', 'vm1');
    assert.match(refused.stderr, /locked/i);
    assert.equal(await domstate(vm1), 'running', 'a refused action changes nothing');
    assert.equal((await aio.nova(['unlock', 'vm1'])).code, 0);
    const show = await aio.nova(['show', 'vm1']);
    assert.match(show.stdout, /locked\s*\|\s*False/);
  });

  it('resize + confirm: VERIFY_RESIZE then ACTIVE on the new flavor; the guest boots with the new size', async () => {
    const mark = await con.mark();
    await aio.openstack(['server', 'resize', '--flavor', 'm1.small', 'vm1']);
    const s = await waitStatus('vm1', 'VERIFY_RESIZE');
    assert.match(s.flavor, /m1\.small/);
    const xml = (await execa('virsh', ['dumpxml', domainNameFor(vm1)])).stdout;
    assert.match(xml, /<memory unit='KiB'>262144<\/memory>/, 'domain has 256 MiB');
    await aio.openstack(['server', 'resize', 'confirm', 'vm1']);
    await waitStatus('vm1', 'ACTIVE');
    boot = (await con.waitForReady({ since: mark, timeoutMs: 90_000 })).boot;
  });

  it('resize + revert: back on the old flavor and the old domain definition; rename with server set --name', async () => {
    const mark = await con.mark();
    await aio.openstack(['server', 'resize', '--flavor', 'm1.medium', 'vm1']);
    const resized = await waitStatus('vm1', 'VERIFY_RESIZE');
    assert.match(resized.flavor, /m1\.medium/);
    await aio.openstack(['server', 'resize', 'revert', 'vm1']);
    const s = await waitStatus('vm1', 'ACTIVE');
    assert.match(s.flavor, /m1\.small/);
    const xml = (await execa('virsh', ['dumpxml', domainNameFor(vm1)])).stdout;
    assert.match(xml, /<memory unit='KiB'>262144<\/memory>/, 'back to 256 MiB');
    boot = (await con.waitForReady({ since: mark, timeoutMs: 90_000 })).boot;
    await aio.openstack(['server', 'set', '--name', 'vm1-renamed', 'vm1']);
    assert.equal((await aio.openstack<ServerView>(['server', 'show', vm1])).name, 'vm1-renamed');
    await aio.openstack(['server', 'set', '--name', 'vm1', vm1]);
  });

  it('nova reset-state (admin): an ERROR server is set back to ACTIVE without touching the guest', async () => {
    // an admin names another project's server by id (a name lookup only searches the admin's own project)
    const reset = await aio.nova(['reset-state', vm1], 'admin');
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal((await aio.openstack<ServerView>(['server', 'show', 'vm1'])).status, 'ERROR');
    assert.equal(await domstate(vm1), 'running', 'reset-state changes the record, not the guest');
    assert.equal((await aio.nova(['reset-state', '--active', vm1], 'admin')).code, 0);
    assert.equal((await aio.openstack<ServerView>(['server', 'show', 'vm1'])).status, 'ACTIVE');
    const denied = await aio.nova(['reset-state', '--active', 'vm1']);
    assert.notEqual(denied.code, 0, 'reset-state is admin-only');
  });

  it('server image create (createImage): an active image with the disk bytes', async () => {
    const img = await aio.openstack<{ id: string; status: string; size: number }>(['server', 'image', 'create', '--name', 'vm1-snap', '--wait', 'vm1']);
    const shown = await aio.openstack<{ status: string; size: number; properties: unknown }>(['image', 'show', img.id]);
    assert.equal(shown.status, 'active');
    assert.ok(shown.size > 0);
    assert.equal(await domstate(vm1), 'running', 'snapshot of a running server leaves it running');
  });

  it('rebuild: a new root disk from the image, a new boot, same address', async () => {
    const before = await aio.openstack<ServerView>(['server', 'show', 'vm1']);
    const mark = await con.mark();
    await aio.openstack(['server', 'rebuild', '--image', 'novalet-guest', 'vm1']);
    await waitStatus('vm1', 'ACTIVE');
    const r = await con.waitForReady({ since: mark, timeoutMs: 90_000 });
    assert.notEqual(r.boot, boot);
    boot = r.boot;
    assert.deepEqual((await aio.openstack<ServerView>(['server', 'show', 'vm1'])).addresses, before.addresses);
  });

  it('shelve / unshelve: offloaded (domain gone, snapshot image active), then booted from the snapshot with the same address', async () => {
    const before = await aio.openstack<ServerView>(['server', 'show', 'vm1']);
    const ip = JSON.stringify(before.addresses).match(/10\.0\.9\.\d+/)?.[0];
    assert.ok(ip, JSON.stringify(before.addresses));
    await aio.openstack(['server', 'shelve', 'vm1']);
    await waitStatus('vm1', 'SHELVED_OFFLOADED', 180_000);
    assert.ok(!(await execa('virsh', ['list', '--all', '--name'])).stdout.includes(domainNameFor(vm1)), 'the domain is gone from the host');
    const img = await aio.openstack<{ status: string; size: number }>(['image', 'show', 'vm1-shelved']);
    assert.equal(img.status, 'active');
    assert.ok(img.size > 0);
    // the guest's console from here on (the log may be a new file after the offload)
    con = new ConsoleLog(aio.consoleLogPath(vm1), { fromEnd: true });
    await aio.openstack(['server', 'unshelve', 'vm1']);
    const after = await waitStatus('vm1', 'ACTIVE', 180_000);
    assert.deepEqual(after.addresses, before.addresses);
    const r = await con.waitForReady({ timeoutMs: 90_000 });
    assert.notEqual(r.boot, boot, 'a new boot, from the shelved snapshot');
    boot = r.boot;
    await con.waitForHeartbeat((h) => (h.ips['eth0'] ?? []).includes(ip), { timeoutMs: 60_000 });
    assert.equal(await domstate(vm1), 'running');
    const images = await aio.openstack<Array<{ Name: string }>>(['image', 'list']);
    assert.ok(!images.some((i) => i.Name === 'vm1-shelved'), 'the shelved image is deleted after the unshelve');
  });

  it('openstacksdk: create_server(wait=True) and list; a restart (kill -9) mid-stop finishes the stop; a running guest is untouched', async () => {
    const [out] = await aio.clients().sdk(`
s = conn.create_server('vm2', image='novalet-guest', flavor='m1.tiny', network='private', wait=True, timeout=180)
emit({'id': s.id, 'status': s.status, 'names': sorted(x.name for x in conn.compute.servers())})
`) as [{ id: string; status: string; names: string[] }];
    assert.equal(out.status, 'ACTIVE');
    assert.deepEqual(out.names, ['vm1', 'vm2']);
    const con2 = new ConsoleLog(aio.consoleLogPath(out.id));
    const boot2 = (await con2.waitForReady({ timeoutMs: 90_000 })).boot;

    // kill -9 the whole all-in-one right after the stop of vm1 was accepted
    await aio.openstack(['server', 'stop', 'vm1']);
    await aio.kill();
    await aio.start();
    await waitStatus('vm1', 'SHUTOFF');
    assert.equal(await domstate(vm1), 'shut off');
    // vm2 kept running through the restart, in the same boot
    const mark2 = await con2.mark();
    const hb = await con2.waitForHeartbeat(() => true, { since: mark2 });
    assert.equal(hb.boot, boot2);
    assert.equal((await aio.openstack<ServerView>(['server', 'show', 'vm2'])).status, 'ACTIVE');
    const events = await aio.openstack<Array<{ Action: string }>>(['server', 'event', 'list', 'vm1']);
    assert.ok(events.some((e) => e.Action === 'stop'));
  });

  it('delete: servers gone from the API, their domains and DHCP entries gone from libvirt', async () => {
    await aio.openstack(['server', 'delete', '--wait', 'vm1', 'vm2']);
    assert.deepEqual(await aio.openstack(['server', 'list']), []);
    const doms = (await execa('virsh', ['list', '--all', '--name'])).stdout;
    assert.ok(!doms.includes(domainNameFor(vm1)));
    const net = (await execa('virsh', ['net-dumpxml', aio.network.name])).stdout;
    assert.ok(!/<host /.test(net), `no DHCP host entries left:\n${net}`);
  });
});
