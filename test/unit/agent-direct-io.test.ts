/**
 * The instance dir's disk cache mode (src/agent/direct-io.ts): cache=none where the file system takes O_DIRECT
 * (ext4 here), writeback where the open fails (tmpfs before Linux 6.6 refuses O_DIRECT; a dir that cannot be
 * written), and the probe leaves no file behind. The agent's domains
 * carry it on their writable instance disks, not on volumes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileDiskCache } from '../../src/agent/direct-io.js';
import { buildDomainSpec } from '../../src/agent/ops/domain-spec.js';
import { agentPaths } from '../../src/agent/config.js';

test('O_DIRECT probe: none on a disk file system, writeback where the open fails, no file left', { skip: process.platform !== 'linux' }, () => {
  const disk = mkdtempSync('/var/tmp/novalet-dio-');
  try {
    assert.equal(fileDiskCache(disk), 'none');
    assert.deepEqual(readdirSync(disk), []);
    assert.equal(fileDiskCache(join(disk, 'missing')), 'writeback', 'the open fails: the page cache, as Nova falls back');
  } finally {
    rmSync(disk, { recursive: true, force: true });
  }
});

test('the host\'s cache mode goes on root, ephemeral and swap, not on volumes', () => {
  const paths = agentPaths('/var/lib/novalet');
  const d = buildDomainSpec({
    uuid: '6f1c2a47-9d0e-4c1b-8a55-0b7f3e2d1c00', displayName: 'x', vcpus: 1, memoryMiB: 128, rootGiB: 1, ephemeralGiB: 1, swapMiB: 64,
    image: { id: 'img', source: '/x', format: 'raw' }, disks: [{ target: 'vdd', path: '/srv/volumes/v1', format: 'raw', volumeId: 'v1' }],
  } as never, paths, { domainType: 'qemu', diskCache: 'none' });
  assert.deepEqual(d.disks.map((x) => [x.target, x.cache]), [['vda', 'none'], ['vdb', 'none'], ['vdc', 'none'], ['vdd', undefined]]);
});
