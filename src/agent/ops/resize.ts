import { existsSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { AgentError } from '../../rpc/errors.js';
import { GiB } from '../disks/disk-tool.js';
import type { ResizeSaved } from '../journal/journal.js';
import { buildDomainSpec, serverFiles } from './domain-spec.js';
import { currentPower, gracefulStop, recordPower, requirePower, requireStatus } from './helpers.js';
import type { OpExec, OperationDef } from './types.js';

/**
 * Cold resize on the same host: save the old definition in the journal, stop, copy the root disk aside if it
 * is to grow (a qcow2 cannot shrink back), grow it, redefine with the new flavor, start if it was running.
 * The server is then 'resized' until resize_confirm (drops the saved state) or resize_revert (restores it).
 */
export const resize: OperationDef<'resize'> = {
  kind: 'resize',
  refusedWhenDrained: true,
  check(s, p) {
    const srv = requirePower(s, ['running', 'shutdown', 'crashed'], 'resize');
    if (srv.status !== 'active' || srv.resizeOld) throw new AgentError('invalid_state', 'a resize is already awaiting confirm or revert');
    if (p.rootGiB !== undefined && p.rootGiB < srv.spec.rootGiB && !srv.spec.rootVolume) throw new AgentError('invalid_state', 'the root disk cannot shrink');
  },
  async run(x) {
    const { hv, disks, journal, paths } = x.deps;
    const uuid = x.op.serverUuid;
    const f = serverFiles(paths, uuid);
    if (x.data()['wasRunning'] === undefined) x.save({ wasRunning: (await currentPower(x)) === 'running' });
    const wasRunning = x.data()['wasRunning'] === true;

    x.step('save_definition');
    let saved = x.server().resizeOld;
    if (!saved) {
      saved = { xml: await hv.getDomainXml(uuid, true), spec: x.server().spec, rootBackup: null };
      x.updateServer({ resizeOld: saved });
    }
    const old = saved.spec;
    const spec = {
      ...old,
      vcpus: x.params.vcpus,
      memoryMiB: x.params.memoryMiB,
      maxVcpus: Math.max(x.params.maxVcpus ?? old.maxVcpus ?? x.params.vcpus, x.params.vcpus),
      rootGiB: x.params.rootGiB ?? old.rootGiB,
    };

    x.step('stop');
    await gracefulStop(x, x.params);
    x.progress(30);

    // a root volume is not grown by a flavor (Nova ignores the flavor's disk for volume-backed servers)
    if (spec.rootGiB > old.rootGiB && !spec.rootVolume) {
      const backup = `${f.root}.pre-resize`;
      x.step('backup_root');
      journal.addFiles(uuid, [backup]);
      if (!existsSync(backup)) {
        await copyFile(f.root, `${backup}.tmp`);
        await rename(`${backup}.tmp`, backup);
      }
      x.updateServer({ resizeOld: { ...saved, rootBackup: backup } });
      x.step('grow_root');
      await disks.resize(f.root, spec.rootGiB * GiB);
    }
    x.progress(60);

    x.step('define');
    await hv.define(buildDomainSpec(spec, paths, x.deps, x.deps.networks.resolveNic));
    x.updateServer({ spec, status: 'resized' });

    if (wasRunning) {
      x.step('start');
      if ((await currentPower(x)) !== 'running') await hv.start(uuid);
    }
    return { vcpus: spec.vcpus, memoryMiB: spec.memoryMiB, rootGiB: spec.rootGiB, power: await recordPower(x, wasRunning ? 'running' : 'shutdown') };
  },
  async rollback(x) {
    await restoreSaved(x, x.data()['wasRunning'] === true);
  },
};

/**
 * Puts the pre-resize definition and root disk back (revert, and rollback of a failed or interrupted resize).
 * The guest is stopped first only if it runs the new definition; a guest still on the old one is left alone.
 */
export async function restoreSaved(x: OpExec<unknown>, startAfter: boolean): Promise<void> {
  const { hv } = x.deps;
  const uuid = x.op.serverUuid;
  const saved: ResizeSaved | null = x.server().resizeOld;
  if (saved) await restoreDefinition(x, saved);
  // also when re-driven after the saved state was already dropped: the start may be all that is left
  if (startAfter && (await currentPower(x)) !== 'running') {
    x.step('start');
    await hv.start(uuid);
  }
  await recordPower(x, startAfter ? 'running' : undefined);
}

async function restoreDefinition(x: OpExec<unknown>, saved: ResizeSaved): Promise<void> {
  const { hv } = x.deps;
  const uuid = x.op.serverUuid;
  const f = serverFiles(x.deps.paths, uuid);
  const redefined = x.server().status === 'resized' || x.server().spec.vcpus !== saved.spec.vcpus || x.server().spec.memoryMiB !== saved.spec.memoryMiB;
  if (redefined || (saved.rootBackup && existsSync(saved.rootBackup))) {
    x.step('stop');
    await gracefulStop(x);
  }
  x.step('restore_definition');
  await hv.defineXml(saved.xml);
  if (saved.rootBackup && existsSync(saved.rootBackup)) {
    x.step('restore_root');
    await rename(saved.rootBackup, f.root);
  }
  if (saved.rootBackup) x.deps.journal.removeFiles(uuid, [saved.rootBackup]);
  x.updateServer({ spec: saved.spec, status: 'active', resizeOld: null });
}

export const resizeConfirm: OperationDef<'resize_confirm'> = {
  kind: 'resize_confirm',
  refusedWhenDrained: false,
  check: (s) => { requireStatus(s, ['resized'], 'confirm the resize of'); },
  async run(x) {
    const saved = x.server().resizeOld;
    x.step('drop_saved');
    if (saved?.rootBackup) {
      await rm(saved.rootBackup, { force: true });
      x.deps.journal.removeFiles(x.op.serverUuid, [saved.rootBackup]);
    }
    x.updateServer({ resizeOld: null, status: 'active' });
    return { confirmed: true };
  },
};

export const resizeRevert: OperationDef<'resize_revert'> = {
  kind: 'resize_revert',
  refusedWhenDrained: false,
  check: (s) => { requireStatus(s, ['resized'], 'revert the resize of'); },
  async run(x) {
    if (x.data()['wasRunning'] === undefined) x.save({ wasRunning: (await currentPower(x)) === 'running' });
    await restoreSaved(x, x.data()['wasRunning'] === true);
    const s = x.server();
    return { vcpus: s.spec.vcpus, memoryMiB: s.spec.memoryMiB, rootGiB: s.spec.rootGiB, power: s.power };
  },
};
