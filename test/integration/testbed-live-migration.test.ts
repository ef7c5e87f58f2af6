/**
 * Live migration through novalet on `novalet testbed up --hosts 2` (real libvirtds in their namespaces, real QEMU),
 * driven by the stock openstack client: the guest moves to the other host and keeps running (the same boot id on
 * its console, the same address), a second concurrent migration is refused with 409, the migration shows in
 * `server migration list` as completed, and it migrates back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { Clients } from '../support/stock-clients.js';
import { ConsoleLog } from '../support/guest.js';
import { ensureGuestBuilt, isRoot, REPO_ROOT } from '../support/virsh.js';

const skip = isRoot() ? false : 'needs root (namespaces, libvirtd, QEMU)';
const parent = mkdtempSync(join(tmpdir(), 'novalet-tblm-'));
const dir = join(parent, 'tb');
const V = ['--os-compute-api-version', '2.80'];

const novalet = (...args: string[]) =>
  execa(process.execPath, [resolve(REPO_ROOT, 'bin/novalet.js'), 'testbed', ...args, '--data-dir', dir], { reject: false, timeout: 300_000, all: true });

function logs(): string {
  const d = join(dir, 'logs');
  if (!existsSync(d)) return '';
  return readdirSync(d).map((f) => `--- ${f}\n${readFileSync(join(d, f), 'utf8').slice(-2500)}`).join('\n');
}

const consoleOn = (host: string, id: string) => new ConsoleLog(join(dir, host, 'agent', 'instances', id, 'console.log'));

describe('live migration on novalet testbed (stock client)', { skip, timeout: 900_000 }, () => {
  let admin: Clients;
  let demo: Clients;
  let vm = '';
  let host = '';
  let bootId = '';
  let ip = '';

  before(async () => {
    await ensureGuestBuilt();
    const r = await novalet('up', '--hosts', '2');
    assert.equal(r.exitCode, 0, `${r.all}\n${logs()}`);
    demo = new Clients({ cloudsYaml: join(dir, 'clouds.yaml') }, 'novalet');
    admin = demo.as('novalet-admin');
  });

  after(async () => {
    await novalet('down');
    rmSync(parent, { recursive: true, force: true });
  });

  const hostOf = async () => (await admin.os<any>('server', 'show', vm))['OS-EXT-SRV-ATTR:host'] as string;

  it('a server boots and its guest reports a heartbeat', async () => {
    const s = await demo.os<any>('server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny', '--network', 'private', '--wait', 'lm');
    assert.equal(s.status, 'ACTIVE');
    vm = s.id;
    host = await hostOf();
    const hb = await consoleOn(host, vm).waitForHeartbeat((h) => (h.ips['eth0'] ?? []).length > 0, { timeoutMs: 120_000 });
    bootId = hb.boot;
    ip = hb.ips['eth0']![0]!;
    assert.ok(JSON.stringify(s.addresses).includes(ip), `guest ${ip} vs API ${JSON.stringify(s.addresses)}`);
  });

  it('openstack server migrate --live-migration: a second one meanwhile is a 409; the guest keeps running on the other host', async () => {
    const con = consoleOn(host, vm);
    await con.poll();
    const lastSeq = con.heartbeats().at(-1)!.seq;
    await admin.osRaw(...V, 'server', 'migrate', '--live-migration', vm);
    const second = await admin.osFails(...V, 'server', 'migrate', '--live-migration', vm);
    assert.match(second.stderr, /409|task_state migrating/, second.stderr);
    await admin.waitStatus(vm, 'ACTIVE', { timeoutMs: 180_000, context: logs });
    const target = await hostOf();
    assert.notEqual(target, host, `still on ${host}\n${logs()}`);
    const hb = await consoleOn(target, vm).waitForHeartbeat((h) => h.seq > lastSeq, { timeoutMs: 60_000 });
    assert.equal(hb.boot, bootId, 'no reboot: the same boot continues on the target');
    assert.deepEqual(hb.ips['eth0'], [ip], 'the same address');
    const list = await admin.os<Array<Record<string, unknown>>>(...V, 'server', 'migration', 'list', '--server', vm);
    assert.equal(list.length, 1, JSON.stringify(list));
    assert.equal(list[0]!['Status'], 'completed');
    assert.equal(list[0]!['Type'] ?? list[0]!['Migration Type'], 'live-migration');
    assert.equal(list[0]!['Source Compute'], host);
    assert.equal(list[0]!['Dest Compute'], target);
    host = target;
  });

  it('--wait with a requested host brings it back, same boot', async () => {
    const back = host === 'h0' ? 'h1' : 'h0';
    const con = consoleOn(host, vm);
    await con.poll();
    const lastSeq = con.heartbeats().at(-1)!.seq;
    await admin.osRaw(...V, 'server', 'migrate', '--live-migration', '--host', back, '--wait', vm);
    assert.equal(await hostOf(), back);
    const s = await admin.os<any>('server', 'show', vm);
    assert.equal(s.status, 'ACTIVE');
    const hb = await consoleOn(back, vm).waitForHeartbeat((h) => h.seq > lastSeq, { timeoutMs: 60_000 });
    assert.equal(hb.boot, bootId);
    await demo.osRaw('server', 'delete', '--wait', vm);
  });
});
