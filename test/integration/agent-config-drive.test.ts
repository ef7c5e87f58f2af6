/**
 * Config drive on real QEMU: a server spawned with configDrive + user data gets an ISO9660 cdrom labelled
 * config-2; the test guest finds it by label, mounts it and prints what it read (NOVALET-CONFIGDRIVE: device,
 * version dirs, the uuid from meta_data.json, the first line of user_data), and sets root's password from the
 * spawn's adminPass (meta_data.json admin_pass, as Nova's libvirt driver writes it; the console shows which, never
 * the password itself). Destroy deletes the drive.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { adminPassLine, ConsoleLog } from '../support/guest.js';
import { isRoot, ROOT_URI, virsh } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import { randomUUID, suiteAgent } from './agent-process.js';

const CONFIGDRIVE_RE = /NOVALET-CONFIGDRIVE dev=(\S+) label=(\S+) dirs=(\S*) uuid=(\S*) userdata=(.*)$/;

describe('agent on real QEMU: config drive', { skip: !isRoot() && 'needs root (libvirtd + QEMU)' }, () => {
  const uuid = randomUUID();
  const agent = suiteAgent([uuid]);

  it('the guest finds the config-2 cdrom, reads meta_data.json and user_data from it, and takes the admin password', async () => {
    const userData = Buffer.from('#cloud-config from novalet\nruncmd: [true]\n').toString('base64');
    const adminPass = 'Adm1n-pass_for-the-guest';
    const r = await agent.client.submit('spawn', uuid, { spec: agent.guestSpec(uuid, { configDrive: true, userData, keyName: 'k', keyData: 'ssh-ed25519 AAAA k' }), adminPass });
    const op = await agent.waitOp(r.operation);
    assert.equal(op.state, 'succeeded', `${JSON.stringify(op.error)}\n${agent.log.slice(-2000)}`);
    const xml = await virsh(ROOT_URI, ['dumpxml', domainNameFor(uuid)]);
    const cdrom = /<disk type='file' device='cdrom'>[\s\S]*?<\/disk>/.exec(xml)?.[0] ?? '';
    assert.match(cdrom, /disk\.config'/);
    assert.match(cdrom, /<target dev='hdd' bus='ide'\/>/);
    assert.match(cdrom, /<readonly\/>/);
    const con = new ConsoleLog(agent.consoleLog(uuid));
    const m = (await con.waitFor(CONFIGDRIVE_RE, 120_000)).match;
    assert.equal(m[1], 'sr0', 'an IDE cdrom');
    assert.equal(m[2], 'config-2');
    assert.equal(m[3], '2012-08-10,latest');
    assert.equal(m[4], uuid);
    assert.equal(m[5]!.trim(), '#cloud-config from novalet');
    await con.waitFor(new RegExp(`^${adminPassLine(adminPass)}$`), 30_000);
    assert.doesNotMatch(con.text() + agent.log, new RegExp(adminPass), 'the password is neither on the console nor in the agent log');
  });

  it('destroy deletes the drive with the server', async () => {
    const drive = `${agent.dataDir}/instances/${uuid}/disk.config`;
    assert.ok(existsSync(drive));
    const r = await agent.client.submit('destroy', uuid, {});
    assert.equal((await agent.waitOp(r.operation)).state, 'succeeded');
    assert.equal(existsSync(drive), false);
  });
});
