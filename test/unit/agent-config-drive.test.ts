import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../../src/rpc/errors.js';
import { configDriveFiles, makeIso } from '../../src/agent/config-drive/config-drive.js';
import type { ServerSpec } from '../../src/rpc/protocol/server-spec.js';
import type { OperationRow } from '../../src/agent/journal/journal.js';
import { operationView } from '../../src/agent/agent.js';
import { harness, spawnParams, tmpDir, uuid, type Harness } from './agent-doubles.js';

const USER_DATA = '#!/bin/sh\necho "hello from user data"\n';

function spec(over: Partial<ServerSpec> = {}): ServerSpec {
  return {
    uuid: '6f1d3c3e-2a4b-4c5d-8e9f-0a1b2c3d4e5f', displayName: 'Web Server #1', vcpus: 1, memoryMiB: 128,
    image: { id: 'img', source: '/dev/null' }, rootGiB: 1, configDrive: true,
    userData: Buffer.from(USER_DATA).toString('base64'), keyName: 'ops', keyData: 'ssh-ed25519 AAAAC3Nza ops@example',
    metadata: { role: 'web' }, availabilityZone: 'zone-a', projectId: 'p-123',
    nics: [{ portId: 'port-1', mac: '52:54:00:AB:CD:EF', attachment: { type: 'network', network: 'tenant' } }],
    ...over,
  };
}

const isoinfo = (iso: string, ...args: string[]): string => execFileSync('isoinfo', ['-i', iso, ...args], { encoding: 'utf8' });

test('config drive ISO: label config-2, openstack/{2012-08-10,latest} with meta_data.json and user_data as Nova writes them', async () => {
  const t = tmpDir();
  try {
    const iso = join(t.dir, 'disk.config');
    await makeIso(iso, 'config-2', configDriveFiles(spec()));
    assert.match(isoinfo(iso, '-d'), /^Volume id: config-2$/m);
    const files = isoinfo(iso, '-R', '-f').split('\n').filter(Boolean).sort();
    assert.deepEqual(files, [
      '/openstack', '/openstack/2012-08-10', '/openstack/2012-08-10/meta_data.json', '/openstack/2012-08-10/user_data',
      '/openstack/2012-08-10/vendor_data.json', '/openstack/latest', '/openstack/latest/meta_data.json',
      '/openstack/latest/network_data.json', '/openstack/latest/user_data', '/openstack/latest/vendor_data.json', '/openstack/latest/vendor_data2.json',
    ]);
    const md = JSON.parse(isoinfo(iso, '-R', '-x', '/openstack/latest/meta_data.json')) as Record<string, unknown>;
    assert.equal(md['uuid'], '6f1d3c3e-2a4b-4c5d-8e9f-0a1b2c3d4e5f');
    assert.equal(md['name'], 'Web Server #1');
    assert.equal(md['hostname'], 'web-server-1');
    assert.equal(md['availability_zone'], 'zone-a');
    assert.equal(md['project_id'], 'p-123');
    assert.equal(md['launch_index'], 0);
    assert.deepEqual(md['meta'], { role: 'web' });
    assert.deepEqual(md['public_keys'], { ops: 'ssh-ed25519 AAAAC3Nza ops@example' });
    assert.deepEqual(md['keys'], [{ name: 'ops', type: 'ssh', data: 'ssh-ed25519 AAAAC3Nza ops@example' }]);
    assert.equal(Buffer.from(String(md['random_seed']), 'base64').length, 512);
    assert.equal(isoinfo(iso, '-R', '-x', '/openstack/latest/user_data'), USER_DATA);
    assert.equal(isoinfo(iso, '-R', '-x', '/openstack/2012-08-10/user_data'), USER_DATA);
    assert.deepEqual(JSON.parse(isoinfo(iso, '-R', '-x', '/openstack/2012-08-10/meta_data.json')), md);
    const nd = JSON.parse(isoinfo(iso, '-R', '-x', '/openstack/latest/network_data.json')) as { links: { ethernet_mac_address: string }[]; networks: { type: string }[] };
    assert.deepEqual(nd.links.map((l) => l.ethernet_mac_address), ['52:54:00:ab:cd:ef']);
    assert.deepEqual(nd.networks.map((n) => n.type), ['ipv4_dhcp']);
  } finally { t.cleanup(); }
});

test('without user data or a key the drive has neither user_data nor public_keys', async () => {
  const files = configDriveFiles(spec({ userData: undefined, keyName: undefined, keyData: undefined }));
  assert.equal([...files.keys()].some((k) => k.endsWith('/user_data')), false);
  const md = JSON.parse(files.get('openstack/latest/meta_data.json')!.toString()) as Record<string, unknown>;
  assert.equal('public_keys' in md, false);
  assert.equal(md['availability_zone'], 'zone-a');
});

async function run(h: Harness, serverUuid: string, kind: string, params: unknown = {}): Promise<OperationRow> {
  const { operation } = h.agent.runner.submit({ requestId: `req-${Math.random().toString(16).slice(2)}`, serverUuid, kind: kind as never, params });
  const done = await h.agent.runner.wait(operation.id, 10_000);
  assert.ok(done);
  return done;
}

test('spawn with configDrive: the drive is owned, attached read-only as the IDE cdrom hdd, deleted by destroy', async () => {
  const h = await harness();
  try {
    const id = uuid();
    const p = spawnParams(id, h.imageFile, { configDrive: true, userData: Buffer.from(USER_DATA).toString('base64') });
    assert.equal((await run(h, id, 'spawn', p)).state, 'succeeded');
    const drive = join(h.dir, 'instances', id, 'disk.config');
    assert.ok(existsSync(drive));
    assert.ok(h.agent.deps.journal.getServer(id)!.files.includes(drive));
    const disk = h.hv.spec(id)!.disks.find((d) => d.role === 'config');
    assert.deepEqual(disk, { target: 'hdd', path: drive, format: 'raw', role: 'config', bus: 'ide', device: 'cdrom', readonly: true });
    assert.throws(() => h.agent.runner.submit({ requestId: 'r-hdd', serverUuid: id, kind: 'attach_disk', params: { disk: { target: 'hdd', sizeGiB: 1 } } }),
      (e: unknown) => e instanceof AgentError && e.code === 'invalid_state');
    assert.equal((await run(h, id, 'destroy')).state, 'succeeded');
    assert.equal(existsSync(drive), false);

    const big = uuid();
    assert.throws(() => h.agent.runner.submit({ requestId: 'r-big', serverUuid: big, kind: 'spawn',
      params: spawnParams(big, h.imageFile, { configDrive: true, userData: Buffer.alloc(65_536, 1).toString('base64') }) }),
    (e: unknown) => e instanceof AgentError && e.code === 'bad_request' && /65535/.test(e.message));
  } finally { await h.cleanup(); }
});

test('adminPass: meta_data.json admin_pass on the drive (spawn, rebuild), never in the spec, gone from the journal once the operation ends', async () => {
  assert.equal('admin_pass' in JSON.parse(configDriveFiles(spec()).get('openstack/latest/meta_data.json')!.toString()), false);
  const h = await harness();
  try {
    const id = uuid();
    const drive = join(h.dir, 'instances', id, 'disk.config');
    const adminPassOnDrive = () => {
      const iso = JSON.parse(readFileSync(drive, 'utf8')) as { files: Record<string, string> };
      const md = JSON.parse(iso.files['openstack/latest/meta_data.json']!) as Record<string, unknown>;
      assert.deepEqual(JSON.parse(iso.files['openstack/2012-08-10/meta_data.json']!), md);
      return md['admin_pass'];
    };
    const op = await run(h, id, 'spawn', { ...spawnParams(id, h.imageFile, { configDrive: true }), adminPass: 'first-S3cret' });
    assert.equal(op.state, 'succeeded');
    assert.equal(adminPassOnDrive(), 'first-S3cret');
    assert.doesNotMatch(JSON.stringify(operationView({ ...op, params: { ...spawnParams(id, h.imageFile), adminPass: 'running-S3cret' } })), /S3cret/, 'an operation as answered (even running) never shows it');
    const journaled = () => JSON.stringify([h.agent.deps.journal.getServer(id), h.agent.deps.journal.getOperation(op.id), h.agent.deps.journal.getOperation(rebuilt.id)]);
    let rebuilt = op;
    assert.doesNotMatch(journaled(), /S3cret/, 'neither the spec nor the finished operation keeps it');
    // rebuild with a new password: the drive is made again
    rebuilt = await run(h, id, 'rebuild', { image: { id: 'img-test', source: h.imageFile, format: 'qcow2' }, adminPass: 'second-S3cret' });
    assert.equal(rebuilt.state, 'succeeded');
    assert.equal(adminPassOnDrive(), 'second-S3cret');
    assert.doesNotMatch(journaled(), /S3cret/);
    // without one, the drive stays as it was
    assert.equal((await run(h, id, 'rebuild', { image: { id: 'img-test', source: h.imageFile, format: 'qcow2' } })).state, 'succeeded');
    assert.equal(adminPassOnDrive(), 'second-S3cret');
  } finally { await h.cleanup(); }
});
