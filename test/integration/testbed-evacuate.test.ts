/**
 * Host failure on the testbed (three hosts, real libvirtds and QEMU in namespaces, the stock clients, automatic
 * evacuation on with a 15 s delay): three servers run on h0, one of them booted from a file volume on the shared
 * storage, whose guest writes a marker on its root disk; `nova evacuate` while h0 is up is refused (400); h0 loses
 * power (kill-host) and goes down; `nova evacuate` of two servers runs into a failpoint (their QEMUs started on the
 * new host, the step not recorded) and the controller is killed (SIGKILL) and started again: each evacuation completes
 * once, with one QEMU, the same addresses; the volume-booted guest finds its marker and takes the admin password
 * given to `nova evacuate --password` from its config drive (in no log); the third server is
 * evacuated by the controller itself after the delay, without any call. h0 comes back (revive-host): the
 * stale copies and their files are destroyed, never started, before the service shows up. Then two of the three
 * hosts lose power at once: automatic evacuation does nothing and the log says why. A sampler reads every QEMU
 * process's command line all along and never sees two for one server. QEMU's image lock refuses a second process on
 * a running disk.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { Clients } from '../support/stock-clients.js';
import { adminPassLine, DISK_MARKER_RE, diskMarkerUserData } from '../support/guest.js';
import { ensureGuestBuilt, isRoot } from '../support/virsh.js';
import { NovaletTestbed } from '../support/novalet-testbed.js';

const AUTO_DELAY_S = 15;
/** the evacuations hang here (the target's QEMU runs, the step is not recorded) until the controller is killed */
const FAILPOINT = 'evacuate.spawn:after';
const skip = isRoot() ? false : 'needs root (namespaces, libvirtd, QEMU)';
const tb = new NovaletTestbed('tbevac');
const { parent, dir } = tb;

const novalet = tb.run;

const logs = () => tb.logs(2000);

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => tb.waitFor(what, fn, timeoutMs, 500);

/** server uuid -> how many QEMU processes on this machine run it (by -uuid on their command line) */
function qemuCounts(): Map<string, number> {
  const n = new Map<string, number>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd: string[];
    try { cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (!cmd[0]?.includes('qemu-system')) continue;
    const i = cmd.indexOf('-uuid');
    const uuid = i >= 0 ? cmd[i + 1]?.toLowerCase() : undefined;
    if (uuid) n.set(uuid, (n.get(uuid) ?? 0) + 1);
  }
  return n;
}

describe('host failure on the testbed: evacuate, fencing on revival, never two copies', { skip, timeout: 600_000 }, () => {
  let admin: Clients;
  /** evac-a and evac-b from the image, evac-v from a volume (its guest keeps `marker` on its root disk) */
  const servers: Array<{ id: string; addresses: string }> = [];
  const marker = `evac-${Date.now().toString(36)}`;
  /** the most QEMU processes seen at once per server, sampled every 200 ms from boot to the end */
  const most = new Map<string, number>();
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();

  const services = async () => Object.fromEntries(
    (await admin.run<Array<{ Host: string; State: string; Status: string }>>('compute', 'service', 'list', '--service', 'nova-compute')).map((s) => [s.Host, s.State]),
  );
  const show = (id: string) => admin.os<any>('server', 'show', id);

  before(async () => {
    await ensureGuestBuilt();
    const r = await novalet('up', '--hosts', '3', '--auto-evacuate-delay', String(AUTO_DELAY_S));
    assert.equal(r.exitCode, 0, `${r.all}\n${logs()}`);
    admin = new Clients({ cloudsYaml: join(dir, 'clouds.yaml') }, 'novalet-admin');
    sampler = (async () => {
      while (sampling) {
        for (const [uuid, count] of qemuCounts()) most.set(uuid, Math.max(most.get(uuid) ?? 0, count));
        await sleep(200);
      }
    })();
  });

  after(async () => {
    sampling = false;
    await sampler;
    await novalet('down');
    rmSync(parent, { recursive: true, force: true });
  });

  it('three servers on h0, one booted from a volume whose guest writes on its root disk; evacuate while h0 is up: 400', async () => {
    const userData = join(parent, 'disk-marker.sh');
    writeFileSync(userData, diskMarkerUserData(marker));
    for (const [name, boot] of [['evac-a', []], ['evac-b', []], ['evac-v', ['--boot-from-volume', '1', '--user-data', userData]]] as const) {
      const s = await admin.os<any>('--os-compute-api-version', '2.74', 'server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny',
        ...boot, '--network', 'private', '--host', 'h0', '--wait', name);
      assert.equal(s.status, 'ACTIVE');
      const shown = await show(s.id);
      assert.equal(shown['OS-EXT-SRV-ATTR:host'], 'h0');
      servers.push({ id: s.id, addresses: JSON.stringify(shown.addresses) });
    }
    const vol = servers[2]!;
    assert.equal((await tb.consoleOn('h0', vol.id).waitFor(DISK_MARKER_RE, 120_000)).match[0], `NOVALET-DISKMARK wrote=${marker}`);
    const r = await admin.novaRun('evacuate', servers[0]!.id);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Compute service of h0 is still in use\. \(HTTP 400\)/);
    assert.equal((await show(servers[0]!.id)).status, 'ACTIVE');
  });

  it('power loss of h0; nova evacuate of two servers, the controller killed mid-way: each completes once with one QEMU, the volume keeps what the guest wrote; automatic evacuation moves the third; same addresses', async () => {
    const restart = await novalet('restart-controller', '--failpoints', FAILPOINT);
    assert.equal(restart.exitCode, 0, `${restart.all}\n${logs()}`);
    const r = await novalet('kill-host', 'h0');
    assert.equal(r.exitCode, 0, r.all);
    const t0 = Date.now();
    await waitFor('h0 down', async () => (await services())['h0'] === 'down', 60_000);
    const down = Date.now();
    console.log(`h0 declared down ${down - t0} ms after the power loss`);
    const [a, auto, vol] = servers as [typeof servers[0], typeof servers[0], typeof servers[0]];
    const manual = [a, vol];
    const log = join(dir, 'logs', 'controller.log');
    // the volume-booted one (its guest has a config drive: user data) with a new admin password
    const password = `Evac-${Date.now().toString(36)}`;
    await admin.nova('evacuate', a.id);
    await admin.nova('evacuate', '--password', password, vol.id);
    // both spawned on their new host, neither step recorded: the controller dies there
    await waitFor('both evacuations at the failpoint', async () => {
      const text = readFileSync(log, 'utf8');
      return manual.every((s) => new RegExp(`"serverId":"${s.id}","failpoint":"${FAILPOINT}"`).test(text));
    }, 120_000);
    const killed = await novalet('restart-controller', '--kill');
    assert.equal(killed.exitCode, 0, `${killed.all}\n${logs()}`);
    assert.match(killed.stdout, /controller killed \(pid \d+\) and running again/);
    for (const s of manual) {
      const v = await admin.waitStatus(s.id, 'ACTIVE', { timeoutMs: 120_000, context: logs });
      assert.notEqual(v['OS-EXT-SRV-ATTR:host'], 'h0');
      assert.equal(JSON.stringify(v.addresses), s.addresses, 'same ports, same addresses');
      const evacuations = (await admin.os<any[]>('server', 'event', 'list', s.id)).filter((x) => x.Action === 'evacuate');
      assert.equal(evacuations.length, 1, 'one evacuation');
      const records = await admin.os<any[]>('--os-compute-api-version', '2.80', 'server', 'migration', 'list', '--server', s.id, '--type', 'evacuation');
      assert.deepEqual(records.map((m) => m.Status), ['done'], 'one evacuation record, done (the source is fenced when it comes back)');
    }
    assert.match(readFileSync(log, 'utf8'), /task taken over/);
    console.log(`nova evacuate with a controller crash: both ACTIVE elsewhere ${Date.now() - down} ms after h0 was declared down`);
    // the volume-booted guest booted on its new host from the same volume: what it wrote is there
    const volHost = (await show(vol.id))['OS-EXT-SRV-ATTR:host'] as string;
    const volConsole = tb.consoleOn(volHost, vol.id);
    assert.equal((await volConsole.waitFor(DISK_MARKER_RE, 120_000)).match[0], `NOVALET-DISKMARK found=${marker}`);
    // the new password reached the guest through its config drive (meta_data.json admin_pass), and no log has it
    await volConsole.waitFor(new RegExp(`^${adminPassLine(password)}$`), 60_000);
    assert.doesNotMatch(tb.logs(Number.MAX_SAFE_INTEGER), new RegExp(password), 'the password is in no log (controller, agents)');
    // the other one: no call; the controller evacuates it once h0 has been down for the delay
    const v = await waitFor('automatic evacuation', async () => {
      const x = await show(auto.id);
      return x['OS-EXT-SRV-ATTR:host'] !== 'h0' && x.status === 'ACTIVE' && !x['OS-EXT-STS:task_state'] && x;
    }, 120_000);
    console.log(`automatic evacuation: ACTIVE on ${v['OS-EXT-SRV-ATTR:host']} ${Date.now() - down} ms after h0 was declared down (delay ${AUTO_DELAY_S} s)`);
    assert.equal(JSON.stringify(v.addresses), auto.addresses, 'same ports, same addresses');
    const counts = qemuCounts();
    for (const s of servers) assert.equal(counts.get(s.id), 1, `one QEMU runs ${s.id}`);
    for (const s of servers) assert.equal(most.get(s.id), 1, `at most one QEMU ever ran ${s.id}`);
    for (const s of servers) {
      const actions = await admin.os<any[]>('server', 'event', 'list', s.id);
      assert.ok(actions.some((x) => x.Action === 'evacuate'), JSON.stringify(actions));
    }
    assert.match(readFileSync(log, 'utf8'), /automatic evacuation started/);
  });

  it('QEMU image locks: a second process on a running server\'s disk is refused', async () => {
    const host = (await show(servers[0]!.id))['OS-EXT-SRV-ATTR:host'];
    const disk = join(dir, host, 'agent', 'instances', servers[0]!.id, 'disk');
    assert.ok(existsSync(disk), disk);
    const r = await execa('qemu-system-x86_64', ['-machine', 'none', '-nographic', '-S', '-monitor', 'none', '-serial', 'none',
      '-drive', `file=${disk},if=none,id=d0`], { reject: false, timeout: 20_000 });
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /Failed to get "write" lock/);
  });

  it('revive h0: the stale copies are destroyed and their files removed before h0 shows up; never two QEMUs', async () => {
    const r = await novalet('revive-host', 'h0');
    assert.equal(r.exitCode, 0, r.all);
    await waitFor('h0 up', async () => (await services())['h0'] === 'up', 90_000);
    const st = JSON.parse(String((await novalet('status', '--json')).stdout));
    const h0 = st.hosts.find((h: any) => h.name === 'h0');
    assert.deepEqual(h0.domains, [], 'no definition of an evacuated server is left on h0');
    for (const s of servers) {
      assert.ok(!existsSync(join(dir, 'h0', 'agent', 'instances', s.id)), `the files of ${s.id} on h0 are cleaned`);
      const v = await show(s.id);
      assert.equal(v.status, 'ACTIVE');
      assert.notEqual(v['OS-EXT-SRV-ATTR:host'], 'h0');
    }
    const log = readFileSync(join(dir, 'logs', 'controller.log'), 'utf8');
    assert.match(log, /fencing: destroyed the guest of a server evacuated away from this host/);
    assert.match(log, /fencing done; the host may come up/);
    await sleep(3000); // a few heartbeats after: still nothing started on h0
    for (const s of servers) assert.equal(most.get(s.id), 1, `at most one QEMU ever ran ${s.id}`);
    assert.equal(qemuCounts().get(servers[0]!.id), 1);
  });

  it('two of three hosts lose power at once: automatic evacuation does nothing and says why', async () => {
    const hostsBefore = await Promise.all(servers.map(async (s) => (await show(s.id))['OS-EXT-SRV-ATTR:host'] as string));
    for (const h of ['h1', 'h2']) assert.equal((await novalet('kill-host', h)).exitCode, 0);
    await waitFor('h1 and h2 down', async () => { const st = await services(); return st['h1'] === 'down' && st['h2'] === 'down'; }, 60_000);
    const log = join(dir, 'logs', 'controller.log');
    await waitFor('the reason in the log', async () => /automatic evacuation held: 2 of 3 hosts are down, more than maxDownFraction 0.5/.test(readFileSync(log, 'utf8')), 30_000);
    await sleep((AUTO_DELAY_S + 3) * 1000); // past the delay: still nothing
    for (const [i, s] of servers.entries()) {
      const v = await show(s.id);
      assert.equal(v['OS-EXT-SRV-ATTR:host'], hostsBefore[i], 'not moved');
      assert.equal(v['OS-EXT-STS:task_state'] ?? null, null);
    }
    for (const s of servers) assert.ok((most.get(s.id) ?? 0) <= 1, `at most one QEMU ever ran ${s.id}`);
  });
});
