/**
 * `novalet testbed` as a user runs it (bin/novalet.js subprocesses, the stock openstack client): two hosts come up,
 * a server boots on one of them, that host loses power (kill-host) and comes back (revive-host), then `down` leaves
 * no namespace, process, interface, loop device or file behind, and a second `down` is a no-op.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Clients } from '../support/stock-clients.js';
import { ConsoleLog } from '../support/guest.js';
import { ensureGuestBuilt, isRoot } from '../support/virsh.js';
import { NovaletTestbed } from '../support/novalet-testbed.js';
import { TESTBED_BASE } from '../support/testbed.js';

const skip = isRoot() ? false : 'needs root (namespaces, libvirtd, QEMU)';
const tb = new NovaletTestbed('tbcli');
const { parent, dir } = tb;

const novalet = tb.run;

async function status(): Promise<any> {
  const r = await novalet('status', '--json');
  assert.equal(r.exitCode, 0, r.all);
  return JSON.parse(String(r.stdout));
}

async function netnsPids(ns: string): Promise<number[]> {
  const r = await execa('ip', ['netns', 'pids', ns], { reject: false });
  return String(r.stdout).split('\n').map(Number).filter((n) => n > 0);
}

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => tb.waitFor(what, fn, timeoutMs, 1000);

const logs = () => tb.logs(1500);

describe('novalet testbed up --hosts 2 / kill-host / revive-host / down', { skip, timeout: 900_000 }, () => {
  let admin: Clients;
  let demo: Clients;
  let prefix = '';
  /** every process the testbed ran, seen while it ran */
  const pids = new Set<number>();

  const collectPids = async (s: any) => {
    for (const ns of [`${s.prefix}-br`, ...s.hosts.map((h: any) => h.netns)]) for (const p of await netnsPids(ns)) pids.add(p);
  };
  const serviceStates = async () => Object.fromEntries(
    (await admin.run<Array<{ Host: string; State: string }>>('compute', 'service', 'list', '--service', 'nova-compute')).map((s) => [s.Host, s.State]),
  );

  before(async () => {
    await ensureGuestBuilt();
    ({ demo, admin } = await tb.up('--hosts', '2'));
  });

  after(async () => {
    await novalet('down');
    rmSync(parent, { recursive: true, force: true });
  });

  it('two hosts, each with its libvirtd and agent, are up in the compute API', async () => {
    const s = await status();
    prefix = s.prefix;
    assert.equal(s.controller, true);
    assert.deepEqual(s.hosts.map((h: any) => [h.name, h.libvirtd, h.agent]), [['h0', true, true], ['h1', true, true]]);
    const hv = await admin.run<Array<Record<string, string>>>('hypervisor', 'list');
    assert.deepEqual(hv.map((h) => [h['Hypervisor Hostname'], h['Host IP'], h.State]).sort(), [['h0', '10.77.0.1', 'up'], ['h1', '10.77.0.2', 'up']]);
    await collectPids(s);
  });

  let host = '';
  let vm = '';
  it('a server boots with the stock client and gets its address on its host', async () => {
    const s = await demo.os<any>('server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny', '--network', 'private', '--wait', 'vm');
    assert.equal(s.status, 'ACTIVE');
    vm = s.id;
    host = (await admin.os<any>('server', 'show', vm))['OS-EXT-SRV-ATTR:host'];
    assert.ok(host === 'h0' || host === 'h1', `host ${host}`);
    const st = await status();
    assert.deepEqual(st.hosts.map((h: any) => [h.name, h.domains.length]), [['h0', host === 'h0' ? 1 : 0], ['h1', host === 'h1' ? 1 : 0]], 'the guest is on its host only');
    const con = new ConsoleLog(join(dir, host, 'agent', 'instances', vm, 'console.log'));
    const hb = await con.waitForHeartbeat((h) => (h.ips['eth0'] ?? []).length > 0, { timeoutMs: 90_000 });
    const addr = Object.values(s.addresses ?? {}).flat().map(String)[0] ?? JSON.stringify(s.addresses);
    assert.ok(String(JSON.stringify(s.addresses)).includes(hb.ips['eth0']![0]!), `guest ${hb.ips['eth0']} vs API ${addr}`);
    await collectPids(st);
  });

  it('kill-host: agent, libvirtd and the guest die at once; the host goes down, the other stays up', async () => {
    const ns = `${prefix}-${host}`;
    const before = await netnsPids(ns);
    assert.ok(before.length >= 3, `agent, libvirtd, QEMU in ${ns}: ${before}`);
    const r = await novalet('kill-host', host);
    assert.equal(r.exitCode, 0, r.all);
    for (const p of before) assert.ok(!existsSync(`/proc/${p}`), `process ${p} of ${host} survived the power loss`);
    const s = await status();
    const h = s.hosts.find((x: any) => x.name === host);
    assert.deepEqual([h.libvirtd, h.agent, h.domains], [false, false, []]);
    const other = host === 'h0' ? 'h1' : 'h0';
    const states = await waitFor(`${host} down`, async () => { const st = await serviceStates(); return st[host] === 'down' && st; }, 60_000);
    assert.equal(states[other], 'up');
  });

  it('revive-host: libvirtd and the agent come back on the same host state; the agent reports again', async () => {
    const r = await novalet('revive-host', host);
    assert.equal(r.exitCode, 0, r.all);
    await waitFor(`${host} up`, async () => (await serviceStates())[host] === 'up', 60_000);
    // the server is still known to its host (its definition and disk survived); the guest died with the power
    await demo.waitStatus(vm, 'SHUTOFF', { timeoutMs: 90_000, context: logs });
    const con = new ConsoleLog(join(dir, host, 'agent', 'instances', vm, 'console.log'));
    const mark = await con.mark();
    await demo.run('server', 'start', vm);
    await demo.waitStatus(vm, 'ACTIVE', { timeoutMs: 90_000, context: logs });
    await con.waitForReady({ since: mark, timeoutMs: 90_000 });
    await collectPids(await status());
  });

  it('down leaves nothing behind; a second down is a no-op', async () => {
    const r = await novalet('down');
    assert.equal(r.exitCode, 0, r.all);
    const ns = String((await execa('ip', ['netns', 'list'])).stdout);
    assert.ok(!ns.includes(prefix), `namespaces left: ${ns}`);
    const left = [...pids].filter((p) => existsSync(`/proc/${p}`));
    assert.deepEqual(left, [], `processes left: ${left.map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return p; } }).join('\n')}`);
    for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let cmd = '';
      try { cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { continue; }
      assert.ok(!cmd.includes(dir), `process ${p} still uses the testbed: ${cmd}`);
    }
    const links = String((await execa('ip', ['-o', 'link', 'show'])).stdout);
    assert.ok(!links.includes(prefix), `interfaces left: ${links}`);
    const loops = String((await execa('losetup', ['-l', '-n'])).stdout);
    assert.ok(!loops.includes(dir), `loop devices left: ${loops}`);
    assert.ok(!existsSync(dir), `${dir} left`);
    assert.ok(!existsSync(join(TESTBED_BASE, prefix)), 'registry entry left');
    const again = await novalet('down');
    assert.equal(again.exitCode, 0, again.all);
    assert.match(String(again.stdout), /nothing to do/);
  });
});
