// Binding tests against libvirt's in-process test driver (test:///default): no daemon needed.
// Each test:///default connection starts from the same fresh fixture (domain 'test', pool 'default-pool').
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  DomainModificationImpact, DomainState, DomainUndefineFlags, LibvirtConnection, LibvirtError, libvirtVersion,
  type LibvirtDomain, type LifecycleEvent, MemoryModFlags, VcpuFlags,
} from '../../src/virt/libvirt/index.js';

const URI = 'test:///default';

function domainXml(name: string): string {
  return `<domain type='test'>
  <name>${name}</name>
  <memory unit='KiB'>262144</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static' current='1'>4</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>`;
}

async function rejectsWith(p: Promise<unknown>, codeName: string): Promise<LibvirtError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LibvirtError, `expected LibvirtError, got ${String(e)}`);
    assert.equal(e.codeName, codeName, e.message);
    return e;
  }
  assert.fail(`expected rejection with ${codeName}`);
}

describe('connection', () => {
  let conn: LibvirtConnection;
  before(async () => { conn = await LibvirtConnection.open(URI); });
  after(async () => { await conn.close(); });

  test('host information', async () => {
    assert.equal(await conn.getURI(), URI);
    assert.ok((await conn.getHostname()).length > 0);
    const lib = await conn.getLibVersion();
    assert.equal(lib.major, 9);
    assert.equal(libvirtVersion().text, lib.text);
    const hv = await conn.getVersion();
    assert.equal(typeof hv.raw, 'number');
    const caps = await conn.getCapabilities();
    assert.match(caps, /<capabilities>/);
    const ni = await conn.getNodeInfo();
    assert.ok(ni.cpus > 0 && Number(ni.memory) > 0 && ni.model.length > 0);
    assert.ok(Number(await conn.getFreeMemory()) > 0);
    const cpu = await conn.getNodeCPUStats();
    assert.ok('idle' in cpu && 'kernel' in cpu);
    assert.equal(await conn.isAlive(), true);
    // Local drivers have no keepalive; the option must not make open() fail.
    assert.equal(conn.keepaliveEnabled, false);
  });

  test('node memory stats is typed-unsupported on the test driver', async () => {
    await rejectsWith(conn.getNodeMemoryStats(), 'VIR_ERR_NO_SUPPORT');
  });

  test('list and look up domains', async () => {
    const doms = await conn.listAllDomains();
    assert.deepEqual(doms.map((d) => d.name), ['test']);
    const byName = await conn.lookupDomainByName('test');
    assert.match(byName.uuid, /^[0-9a-f-]{36}$/);
    const byUuid = await conn.lookupDomainByUUID(byName.uuid);
    assert.equal(byUuid.name, 'test');
    const st = await byUuid.getState();
    assert.equal(st.state, DomainState.RUNNING);
    assert.equal(st.stateName, 'running');
    const info = await byName.getInfo();
    assert.equal(info.state, DomainState.RUNNING);
    assert.ok(info.nrVirtCpu >= 1);
  });

  test('missing domain -> LibvirtError VIR_ERR_NO_DOMAIN', async () => {
    const e = await rejectsWith(conn.lookupDomainByName('no-such-domain'), 'VIR_ERR_NO_DOMAIN');
    assert.equal(e.code, 42);
    assert.notEqual(e.domain, 0);
    assert.equal(e.domainName, 'VIR_FROM_TEST');
    assert.equal(e.level, 2);
    assert.equal(e.name, 'LibvirtError');
    await rejectsWith(conn.lookupDomainByUUID('00000000-0000-0000-0000-000000000000'), 'VIR_ERR_NO_DOMAIN');
  });

  test('bad XML -> typed XML error', async () => {
    const e = await rejectsWith(conn.defineDomain('<domain'), 'VIR_ERR_XML_DETAIL');
    assert.ok(e.message.length > 0);
  });

  test('all-domain stats', async () => {
    const stats = await conn.getAllDomainStats();
    const rec = stats.find((s) => s.name === 'test');
    assert.ok(rec);
    assert.match(rec.uuid, /^[0-9a-f-]{36}$/);
    assert.equal(rec.stats['state.state'], DomainState.RUNNING);
    const one = await (await conn.lookupDomainByName('test')).getStats();
    assert.equal(one['state.state'], DomainState.RUNNING);
  });

  test('200 concurrent getState calls all resolve', async () => {
    const dom = await conn.lookupDomainByName('test');
    const states = await Promise.all(Array.from({ length: 200 }, () => dom.getState()));
    assert.equal(states.length, 200);
    assert.ok(states.every((s) => s.state === DomainState.RUNNING));
  });
});

describe('domain lifecycle', () => {
  let conn: LibvirtConnection;
  before(async () => { conn = await LibvirtConnection.open(URI); });
  after(async () => { await conn.close(); });

  test('define, start, suspend, resume, shutdown, destroy, undefine (+ lifecycle events)', async () => {
    const events: LifecycleEvent[] = [];
    const onLifecycle = (e: LifecycleEvent): void => { if (e.name === 'nv-life') events.push(e); };
    conn.on('lifecycle', onLifecycle);
    const waitFor = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && events.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };

    const dom = await conn.defineDomain(domainXml('nv-life'));
    assert.equal(dom.name, 'nv-life');
    assert.equal((await dom.getState()).state, DomainState.SHUTOFF);
    assert.equal(await dom.isPersistent(), true);
    await dom.create();
    assert.equal((await dom.getState()).state, DomainState.RUNNING);
    assert.ok((await dom.getId()) > 0);
    await dom.suspend();
    assert.equal((await dom.getState()).stateName, 'paused');
    await dom.resume();
    assert.equal((await dom.getState()).state, DomainState.RUNNING);
    await dom.shutdown();
    assert.equal((await dom.getState()).state, DomainState.SHUTOFF);
    await dom.create();
    await dom.destroy();
    const st = await dom.getState();
    assert.equal(st.state, DomainState.SHUTOFF);
    assert.equal(st.reasonName, 'destroyed');
    await dom.undefine();
    await rejectsWith(conn.lookupDomainByName('nv-life'), 'VIR_ERR_NO_DOMAIN');
    // An object of an undefined domain stays usable as a handle; calls on it fail typed.
    await rejectsWith(dom.getState(), 'VIR_ERR_NO_DOMAIN');

    await waitFor(8);
    conn.off('lifecycle', onLifecycle);
    assert.deepEqual(events.map((e) => `${e.event}/${e.detail}`), [
      'defined/added', 'started/booted', 'suspended/paused', 'resumed/unpaused', 'stopped/shutdown',
      'started/booted', 'stopped/destroyed', 'undefined/removed',
    ]);
    assert.ok(events.every((e) => e.uuid === dom.uuid));
  });

  test('managed save, hasManagedSaveImage, start restores, undefine MANAGED_SAVE', async () => {
    const dom = await conn.defineDomain(domainXml('nv-save'));
    await dom.create();
    await dom.managedSave();
    assert.equal(await dom.hasManagedSaveImage(), true);
    const saved = await dom.getState();
    assert.equal(saved.state, DomainState.SHUTOFF);
    assert.equal(saved.reasonName, 'saved');
    await dom.create();
    assert.equal((await dom.getState()).state, DomainState.RUNNING);
    assert.equal(await dom.hasManagedSaveImage(), false);
    await dom.managedSave();
    await dom.managedSaveRemove();
    assert.equal(await dom.hasManagedSaveImage(), false);
    await dom.create();
    await dom.managedSave();
    await dom.undefine(DomainUndefineFlags.MANAGED_SAVE | DomainUndefineFlags.SNAPSHOTS_METADATA);
    await rejectsWith(conn.lookupDomainByName('nv-save'), 'VIR_ERR_NO_DOMAIN');
  });

  test('setVcpus / setMemory with config flags', async () => {
    const dom = await conn.defineDomain(domainXml('nv-size'));
    await dom.setVcpus(2, VcpuFlags.CONFIG);
    await dom.setMemory(196608, MemoryModFlags.CONFIG);
    const xml = await dom.getXMLDesc();
    assert.match(xml, /<vcpu placement='static' current='2'>4<\/vcpu>/);
    assert.match(xml, /<currentMemory unit='KiB'>196608<\/currentMemory>/);
    await dom.setMemory(524288, MemoryModFlags.CONFIG | MemoryModFlags.MAXIMUM);
    assert.match(await dom.getXMLDesc(), /<memory unit='KiB'>524288<\/memory>/);
    // Live changes on a running domain (the test driver supports them).
    await dom.create();
    await dom.setVcpus(3, DomainModificationImpact.LIVE);
    assert.equal((await dom.getInfo()).nrVirtCpu, 3);
    await dom.destroy();
    await dom.undefine();
  });

  test('snapshots: create, list, lookup, XML, revert, delete', async () => {
    const dom = await conn.defineDomain(domainXml('nv-snap'));
    await dom.create();
    const s1 = await dom.createSnapshot('<domainsnapshot><name>s1</name></domainsnapshot>');
    assert.equal(s1.name, 's1');
    await dom.suspend();
    const s2 = await dom.createSnapshot('<domainsnapshot><name>s2</name></domainsnapshot>');
    assert.deepEqual((await dom.listSnapshotNames()).sort(), ['s1', 's2']);
    assert.equal((await dom.listAllSnapshots()).length, 2);
    assert.equal(await dom.hasCurrentSnapshot(), true);
    assert.equal((await dom.currentSnapshot()).name, 's2');
    assert.equal(await s2.isCurrent(), true);
    assert.equal((await s2.getParent())?.name, 's1');
    assert.equal(await s1.getParent(), null);
    assert.match(await s1.getXMLDesc(), /<name>s1<\/name>/);
    const looked = await dom.lookupSnapshot('s1');
    await looked.revert();
    assert.equal((await dom.getState()).state, DomainState.RUNNING);  // s1 was taken while running
    await s2.delete();
    assert.deepEqual(await dom.listSnapshotNames(), ['s1']);
    await rejectsWith(dom.lookupSnapshot('s2'), 'VIR_ERR_NO_DOMAIN_SNAPSHOT');
    await dom.destroy();
    await dom.undefine(DomainUndefineFlags.SNAPSHOTS_METADATA);
  });

  test('unsupported operations on the test driver reject with VIR_ERR_NO_SUPPORT', async () => {
    const dom = await conn.lookupDomainByName('test');
    await rejectsWith(dom.getJobStats(), 'VIR_ERR_NO_SUPPORT');
    await rejectsWith(dom.abortJob(), 'VIR_ERR_NO_SUPPORT');
    await rejectsWith(dom.getBlockJobInfo('vda'), 'VIR_ERR_NO_SUPPORT');
    await rejectsWith(dom.migrateSetMaxSpeed(100), 'VIR_ERR_NO_SUPPORT');
  });
});

describe('storage', () => {
  let conn: LibvirtConnection;
  before(async () => { conn = await LibvirtConnection.open(URI); });
  after(async () => { await conn.close(); });

  test('default pool: info, volumes create/list/path/resize/delete', async () => {
    const pools = await conn.listAllStoragePools();
    assert.ok(pools.some((p) => p.name === 'default-pool'));
    const pool = await conn.lookupStoragePool('default-pool');
    assert.equal(await pool.isActive(), true);
    const info = await pool.getInfo();
    assert.equal(info.state, 2 /* RUNNING */);
    await pool.refresh();
    const vol = await pool.createVolume(
      `<volume><name>disk1.img</name><capacity unit='MiB'>10</capacity></volume>`);
    assert.equal(vol.name, 'disk1.img');
    assert.deepEqual(await pool.listVolumeNames(), ['disk1.img']);
    const path = await vol.getPath();
    assert.equal(path, '/default-pool/disk1.img');
    assert.equal(Number((await vol.getInfo()).capacity), 10 * 1024 * 1024);
    // The test driver has no virStorageVolResize; the call must still come back typed.
    await rejectsWith(vol.resize(20 * 1024 * 1024), 'VIR_ERR_NO_SUPPORT');
    const byPath = await conn.lookupStorageVolumeByPath(path);
    assert.equal(byPath.name, 'disk1.img');
    const clone = await pool.createVolumeFrom(
      `<volume><name>disk2.img</name><capacity unit='MiB'>20</capacity></volume>`, vol);
    assert.deepEqual((await pool.listVolumeNames()).sort(), ['disk1.img', 'disk2.img']);
    await clone.delete();
    await vol.delete();
    assert.deepEqual(await pool.listVolumeNames(), []);
    await rejectsWith(pool.lookupVolume('disk1.img'), 'VIR_ERR_NO_STORAGE_VOL');
  });

  test('define/build/create/destroy/undefine a pool', async () => {
    const pool = await conn.defineStoragePool(
      `<pool type='dir'><name>nv-pool</name><target><path>/nv-pool</path></target></pool>`);
    assert.equal(await pool.isActive(), false);
    await pool.build();
    await pool.create();
    assert.equal(await pool.isActive(), true);
    await pool.destroy();
    await pool.undefine();
    await rejectsWith(conn.lookupStoragePool('nv-pool'), 'VIR_ERR_NO_STORAGE_POOL');
  });
});

describe('closed connection', () => {
  test('calls after close reject with a typed error; close is idempotent', async () => {
    const conn = await LibvirtConnection.open(URI);
    const dom: LibvirtDomain = await conn.lookupDomainByName('test');
    const pool = await conn.lookupStoragePool('default-pool');
    conn.on('lifecycle', () => {});
    await conn.close();
    assert.equal(conn.closed, true);
    await conn.close();
    await rejectsWith(conn.getHostname(), 'VIR_ERR_INVALID_CONN');
    await rejectsWith(conn.lookupDomainByName('test'), 'VIR_ERR_INVALID_CONN');
    // Objects outliving their connection are safe to use: they reject instead of crashing.
    await rejectsWith(dom.getState(), 'VIR_ERR_INVALID_CONN');
    await rejectsWith(pool.getInfo(), 'VIR_ERR_INVALID_CONN');
    assert.equal(dom.name, 'test');
  });

  test('open of an unknown driver rejects typed', async () => {
    const e = await rejectsWith(LibvirtConnection.open('nosuchdriver:///x'), 'VIR_ERR_NO_CONNECT');
    assert.ok(e.message.length > 0);
  });
});
