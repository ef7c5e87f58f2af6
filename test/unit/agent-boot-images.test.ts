import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, spawnParams, uuid } from './agent-doubles.js';

test('AMI-style boot: kernel and ramdisk given as images are fetched into the image cache and booted from there', async () => {
  const h = await harness();
  try {
    const kernel = join(h.dir, 'aki-source');
    const ramdisk = join(h.dir, 'ari-source');
    writeFileSync(kernel, 'kernel bytes');
    writeFileSync(ramdisk, 'ramdisk bytes');
    const id = uuid();
    const { operation } = h.agent.runner.submit({ requestId: 'r-aki', serverUuid: id, kind: 'spawn', params: spawnParams(id, h.imageFile, {
      boot: { kind: 'kernel', kernel: { id: 'aki-1', source: kernel }, ramdisk: { id: 'ari-1', source: ramdisk }, cmdline: 'console=ttyS0' },
    }) });
    const done = await h.agent.runner.wait(operation.id, 10_000);
    assert.equal(done?.state, 'succeeded', JSON.stringify(done?.error));
    const images = h.agent.deps.images;
    assert.equal(readFileSync(images.pathFor('aki-1'), 'utf8'), 'kernel bytes');
    assert.equal(readFileSync(images.pathFor('ari-1'), 'utf8'), 'ramdisk bytes');
    assert.deepEqual(h.hv.spec(id)!.boot,
      { kind: 'kernel', kernel: images.pathFor('aki-1'), ramdisk: images.pathFor('ari-1'), cmdline: 'console=ttyS0' });
    // cached images are shared, not owned: destroy keeps them
    const d = h.agent.runner.submit({ requestId: 'r-aki-d', serverUuid: id, kind: 'destroy', params: {} });
    assert.equal((await h.agent.runner.wait(d.operation.id, 10_000))?.state, 'succeeded');
    assert.equal(readFileSync(images.pathFor('aki-1'), 'utf8'), 'kernel bytes');

    // the path form still works: booted from the path as given
    const p = uuid();
    const s = h.agent.runner.submit({ requestId: 'r-path', serverUuid: p, kind: 'spawn', params: spawnParams(p, h.imageFile, {
      boot: { kind: 'kernel', kernel: kernel, cmdline: 'quiet' },
    }) });
    assert.equal((await h.agent.runner.wait(s.operation.id, 10_000))?.state, 'succeeded');
    assert.deepEqual(h.hv.spec(p)!.boot, { kind: 'kernel', kernel, cmdline: 'quiet' });
  } finally { await h.cleanup(); }
});
