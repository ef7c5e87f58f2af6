// qemu-img wrapper against the real qemu-img (fast, no daemon): create/info/resize/convert/commit/check, errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { isVirtError } from '../../src/virt/errors.js';
import * as qemuImg from '../../src/virt/qemu-img.js';

const MiB = 1024 * 1024;

describe('qemu-img wrapper', () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-qemu-img-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('create blank + overlay, info, resize, commit, convert, check', async () => {
    const base = join(dir, 'base.raw');
    const overlay = join(dir, 'overlay.qcow2');
    await qemuImg.create(base, { format: 'raw', sizeBytes: 16 * MiB });
    await qemuImg.create(overlay, { format: 'qcow2', backing: { path: base, format: 'raw' } });
    const i = await qemuImg.info(overlay);
    assert.equal(i.format, 'qcow2');
    assert.equal(i.virtualSize, 16 * MiB);
    assert.equal(i.fullBackingFile, base);
    assert.equal(i.backingFormat, 'raw');
    await qemuImg.resize(overlay, 32 * MiB, { format: 'qcow2' });
    assert.equal((await qemuImg.info(overlay, { format: 'qcow2' })).virtualSize, 32 * MiB);
    await qemuImg.resize(overlay, 16 * MiB, { format: 'qcow2', shrink: true });
    await qemuImg.commit(overlay, { format: 'qcow2' });
    const out = join(dir, 'out.qcow2');
    await qemuImg.convert(overlay, out, { outFormat: 'qcow2', srcFormat: 'qcow2', forceShare: true });
    const o = await qemuImg.info(out);
    assert.equal(o.backingFile, undefined, 'converted image is standalone');
    assert.deepEqual(await qemuImg.check(out), { errors: 0, leaks: 0, corruptions: 0 });
  });

  test('failures are QemuImgError with code operation_failed and stderr', async () => {
    await assert.rejects(qemuImg.info(join(dir, 'missing.qcow2')), (e: unknown) => {
      assert.ok(e instanceof qemuImg.QemuImgError);
      assert.ok(isVirtError(e, 'operation_failed'));
      assert.match(e.stderr, /No such file/);
      return true;
    });
    const junk = join(dir, 'junk');
    writeFileSync(junk, 'not an image');
    await assert.rejects(qemuImg.check(junk, { format: 'qcow2' }), qemuImg.QemuImgError);
  });
});
