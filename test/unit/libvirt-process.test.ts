// Process-level behaviour of the binding: the process must exit by itself (event TSFN unref'd /
// released, long-call threads finished), and long calls must not starve short ones.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  DomainState, LibvirtConnection, blockCopyParamsToTuples, migrateParamsToTuples,
} from '../../src/virt/libvirt/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const INDEX = path.resolve(here, '../../src/virt/libvirt/index.ts');

/** Run an ESM snippet (with `lv` = the binding) in a child; resolve its exit code, or 'timeout'. */
function runChild(body: string, timeoutMs = 10_000): Promise<{ code: number | 'timeout'; out: string }> {
  const src = `const lv = await import(${JSON.stringify(INDEX)});\n${body}\n`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve({ code: 'timeout', out }); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, out }); });
  });
}

describe('process exit', () => {
  test('exits by itself after close() even with event listeners attached', async () => {
    const r = await runChild(`
      const c = await lv.LibvirtConnection.open('test:///default');
      c.on('lifecycle', () => {}); c.on('close', () => {});
      const d = await c.lookupDomainByName('test');
      await d.suspend(); await d.resume();
      await c.close();
      console.log('closed');`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /closed/);
  });

  test('an idle open connection without listeners does not keep the process alive', async () => {
    const r = await runChild(`
      const c = await lv.LibvirtConnection.open('test:///default');
      await c.getHostname();
      console.log('done');`);
    assert.equal(r.code, 0, r.out);
  });

  test('a connection with listeners keeps the process alive until they are removed', async () => {
    const r = await runChild(`
      const c = await lv.LibvirtConnection.open('test:///default');
      const f = () => {};
      c.on('lifecycle', f);
      setTimeout(() => { console.log('removing'); c.off('lifecycle', f); }, 300);`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /removing/);
  });
});

describe('threads', () => {
  test('many long calls (dedicated threads) and short calls (libuv pool) in parallel', async () => {
    const conn = await LibvirtConnection.open('test:///default');
    try {
      const doms = await Promise.all(Array.from({ length: 12 }, (_, i) => conn.defineDomain(
        `<domain type='test'><name>par-${i}</name><memory unit='KiB'>65536</memory><os><type>hvm</type></os></domain>`)));
      // create + managedSave + create run on dedicated threads; 12 of them at once exceed libuv's 4.
      await Promise.all(doms.map(async (d) => { await d.create(); await d.managedSave(); await d.create(); }));
      const test = await conn.lookupDomainByName('test');
      const [states] = await Promise.all([
        Promise.all(doms.map((d) => d.getState())),
        Promise.all(Array.from({ length: 100 }, () => test.getState())),
      ]);
      assert.ok(states.every((s) => s.state === DomainState.RUNNING));
      await Promise.all(doms.map(async (d) => { await d.destroy(); await d.undefine(); }));
    } finally {
      await conn.close();
    }
  });
});

describe('close while calls are in flight', () => {
  test('in-flight long and short calls still settle; the connection closes cleanly', async () => {
    const conn = await LibvirtConnection.open('test:///default');
    const dom = await conn.defineDomain(
      `<domain type='test'><name>inflight</name><memory unit='KiB'>65536</memory><os><type>hvm</type></os></domain>`);
    await dom.create();
    // Issued before close(): they hold their own libvirt references and complete normally.
    const save = dom.managedSave();
    const states = Promise.all(Array.from({ length: 20 }, () => dom.getState()));
    const closing = conn.close();
    await save;
    assert.equal((await states).length, 20);
    await closing;
    await assert.rejects(dom.hasManagedSaveImage(), (e: unknown) => (e as { codeName?: string }).codeName === 'VIR_ERR_INVALID_CONN');
  });
});

describe('typed parameter mapping', () => {
  test('migrate params -> libvirt names and types', () => {
    assert.deepEqual(migrateParamsToTuples({
      migrateUri: 'tcp://10.0.0.2', destName: 'new', destXml: '<domain/>', persistXml: '<domain/>',
      bandwidth: 100, listenAddress: '10.0.0.2', migrateDisks: ['vda', 'vdb'], parallelConnections: 4,
    }), [
      ['migrate_uri', 'string', 'tcp://10.0.0.2'],
      ['destination_name', 'string', 'new'],
      ['destination_xml', 'string', '<domain/>'],
      ['persistent_xml', 'string', '<domain/>'],
      ['bandwidth', 'ullong', 100],
      ['listen_address', 'string', '10.0.0.2'],
      ['migrate_disks', 'string', 'vda'],
      ['migrate_disks', 'string', 'vdb'],
      ['parallel.connections', 'int', 4],
    ]);
    assert.deepEqual(migrateParamsToTuples({}), []);
  });

  test('block copy params', () => {
    assert.deepEqual(blockCopyParamsToTuples({ bandwidth: 10n, granularity: 65536, bufSize: 1 << 20 }), [
      ['bandwidth', 'ullong', 10n], ['granularity', 'uint', 65536], ['buf-size', 'ullong', 1 << 20],
    ]);
  });

  test('typed params reach libvirt (migrateToURI3 on the test driver fails typed, not on conversion)', async () => {
    const conn = await LibvirtConnection.open('test:///default');
    try {
      const dom = await conn.lookupDomainByName('test');
      // The test driver refuses migration itself ('direct migration is not supported'): that error proves
      // the params (incl. a 2^60 bigint as ullong and a repeated list entry) were converted and passed.
      await assert.rejects(dom.migrateToURI3('test:///default', { bandwidth: 2n ** 60n, migrateDisks: ['vda', 'vdb'] }),
        (e: unknown) => (e as { codeName?: string }).codeName === 'VIR_ERR_ARGUMENT_UNSUPPORTED');
      // A bad value is rejected by the conversion itself, before any libvirt call.
      await assert.rejects(dom.migrateToURI3(null, { bandwidth: -1 }), TypeError);
      await assert.rejects(dom.blockCopy('vda', '<disk/>', { granularity: 512 }),
        (e: unknown) => (e as { codeName?: string }).codeName === 'VIR_ERR_NO_SUPPORT');
    } finally {
      await conn.close();
    }
  });
});
