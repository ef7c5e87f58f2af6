/**
 * The project's test guest on the root-namespace libvirtd (real QEMU).
 * Needs root; starts libvirtd via scripts/libvirtd.sh and builds the guest via scripts/build-guest.sh.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { ConsoleLog, guestDomainXml, noOsDomainXml, detectDomainType, guestArtifacts, type DomainType } from '../support/guest.js';
import { ROOT_URI, isRoot, uniqueName, virsh, defineXml, domState, waitForState, destroyAndUndefine, ensureRootLibvirtd, ensureGuestBuilt } from '../support/virsh.js';

const skip = isRoot() ? false : 'needs root (real libvirtd + QEMU)';

describe('test guest on the root libvirtd', { skip }, () => {
  const created: string[] = [];
  let tmp = '';
  let domainType: DomainType = 'qemu';

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    guestArtifacts();
    domainType = detectDomainType(await virsh(ROOT_URI, ['capabilities']));
    tmp = mkdtempSync('/tmp/nvt-guest-test-');
  });

  after(async () => {
    for (const name of created) await destroyAndUndefine(ROOT_URI, name);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function bootGuest(what: string): Promise<{ name: string; con: ConsoleLog; boot: string; readyMs: number }> {
    const name = uniqueName(what);
    const consoleLog = `${tmp}/${name}.log`;
    created.push(name);
    await defineXml(ROOT_URI, guestDomainXml({ name, consoleLog, domainType }));
    const con = new ConsoleLog(consoleLog);
    const t0 = Date.now();
    await virsh(ROOT_URI, ['start', name]);
    const { boot } = await con.waitForReady({ timeoutMs: 60_000 });
    const readyMs = Date.now() - t0;
    console.log(`${name}: start to NOVALET-READY in ${readyMs} ms (domain type ${domainType})`);
    return { name, con, boot, readyMs };
  }

  it('boots, heartbeats, and shuts off on ACPI shutdown', async () => {
    const { name, con, boot } = await bootGuest('acpi');
    const hb1 = await con.waitForHeartbeat((h) => h.boot === boot);
    const hb2 = await con.waitForHeartbeat((h) => h.boot === boot && h.seq > hb1.seq, { since: hb1.line + 1, timeoutMs: 10_000 });
    assert.ok(hb2.seq > hb1.seq);
    assert.deepEqual(hb2.nics, []);
    assert.equal(await domState(ROOT_URI, name), 'running');

    const t0 = Date.now();
    const since = await con.mark();
    // A press can be lost if it arrives too early: retry like Nova does.
    const deadline = Date.now() + 30_000;
    let off = false;
    while (!off && Date.now() < deadline) {
      await virsh(ROOT_URI, ['shutdown', name]).catch(() => undefined);
      try {
        await waitForState(ROOT_URI, name, 'shut off', Math.min(10_000, deadline - Date.now()));
        off = true;
      } catch { /* retry */ }
    }
    assert.ok(off, `domain did not shut off within 30 s; console:\n${con.text()}`);
    await con.waitFor(/NOVALET-ACPI-POWEROFF/, 5_000, since);
    console.log(`${name}: ACPI shutdown to shut off in ${Date.now() - t0} ms`);
  });

  it('hard reset and soft reboot give a new boot id', async () => {
    const { name, con, boot } = await bootGuest('reboot');
    await con.waitForHeartbeat((h) => h.boot === boot);

    let since = await con.mark();
    let t0 = Date.now();
    await virsh(ROOT_URI, ['reset', name]);
    const r1 = await con.waitForReady({ since, timeoutMs: 60_000 });
    assert.notEqual(r1.boot, boot);
    console.log(`${name}: hard reset to ready in ${Date.now() - t0} ms`);
    await con.waitForHeartbeat((h) => h.boot === r1.boot, { since: r1.line });

    since = await con.mark();
    t0 = Date.now();
    await virsh(ROOT_URI, ['reboot', name]);
    const off = await con.waitFor(/NOVALET-ACPI-POWEROFF/, 30_000, since);
    const r2 = await con.waitForReady({ since: off.line, timeoutMs: 60_000 });
    assert.notEqual(r2.boot, r1.boot);
    assert.equal(await domState(ROOT_URI, name), 'running');
    console.log(`${name}: soft (ACPI) reboot to ready in ${Date.now() - t0} ms`);
  });

  it('hot-plugged and unplugged disks show up in the heartbeat', async () => {
    const { name, con, boot } = await bootGuest('disk');
    const hb0 = await con.waitForHeartbeat((h) => h.boot === boot);
    assert.deepEqual(hb0.disks, []);
    const img = `${tmp}/${name}-vdb.qcow2`;
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', img, '32M']);
    let t0 = Date.now();
    await virsh(ROOT_URI, ['attach-disk', name, img, 'vdb', '--driver', 'qemu', '--subdriver', 'qcow2', '--targetbus', 'virtio', '--live']);
    // guest-side names are the kernel's (vda, vdb, ... in probe order), not libvirt's target dev
    await con.waitForHeartbeat((h) => h.boot === boot && h.disks.length === 1, { timeoutMs: 15_000 });
    console.log(`${name}: disk attach visible in guest after ${Date.now() - t0} ms`);
    t0 = Date.now();
    await virsh(ROOT_URI, ['detach-disk', name, 'vdb', '--live']);
    const since = await con.mark();
    await con.waitForHeartbeat((h) => h.boot === boot && h.disks.length === 0, { since, timeoutMs: 15_000 });
    console.log(`${name}: disk detach visible in guest after ${Date.now() - t0} ms`);
    await virsh(ROOT_URI, ['destroy', name]);
  });

  it('a domain without OS ignores ACPI shutdown and is then destroyed', async () => {
    const name = uniqueName('noos');
    created.push(name);
    await defineXml(ROOT_URI, noOsDomainXml({ name, domainType }));
    await virsh(ROOT_URI, ['start', name]);
    await sleep(1_000);
    await virsh(ROOT_URI, ['shutdown', name]);
    await sleep(10_000);
    assert.equal(await domState(ROOT_URI, name), 'running');
    await virsh(ROOT_URI, ['destroy', name]);
    assert.equal(await domState(ROOT_URI, name), 'shut off');
  });
});

describe('detectDomainType', () => {
  const caps = (types: string[]) => `<capabilities><guest><os_type>hvm</os_type><arch name='x86_64'>${types.map((t) => `<domain type='${t}'/>`).join('')}</arch></guest></capabilities>`;
  it('needs kvm in the caps and vmx/svm in cpuinfo (unless forced)', () => {
    const saved = process.env['NOVALET_DOMAIN_TYPE'];
    try {
      delete process.env['NOVALET_DOMAIN_TYPE'];
      assert.equal(detectDomainType(caps(['qemu']), 'flags\t: fpu vmx'), 'qemu');
      assert.equal(detectDomainType(caps(['qemu', 'kvm']), 'flags\t: fpu sse'), 'qemu');
      assert.equal(detectDomainType(caps(['qemu', 'kvm']), 'flags\t: fpu vmx sse'), 'kvm');
      process.env['NOVALET_DOMAIN_TYPE'] = 'qemu';
      assert.equal(detectDomainType(caps(['qemu', 'kvm']), 'flags\t: fpu vmx sse'), 'qemu');
      process.env['NOVALET_DOMAIN_TYPE'] = 'kvm';
      assert.equal(detectDomainType(caps(['qemu']), ''), 'kvm');
    } finally {
      if (saved === undefined) delete process.env['NOVALET_DOMAIN_TYPE'];
      else process.env['NOVALET_DOMAIN_TYPE'] = saved;
    }
  });
});
