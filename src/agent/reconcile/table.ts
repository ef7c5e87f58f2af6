import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { DomainStatus, PowerState } from '../../virt/hypervisor.js';
import type { OperationKind } from '../../rpc/protocol/operations.js';
import type { OperationRow } from '../journal/journal.js';
import { serverFiles } from '../ops/domain-spec.js';
import { diskSource, removeAll } from '../ops/files.js';
import { isOff, powerOf } from '../ops/helpers.js';
import { restoreSaved } from '../ops/resize.js';
import { commitOverlays } from '../ops/snapshot.js';
import type { OpExec } from '../ops/types.js';
import type { Outcome } from '../ops/runner.js';
import { dhcpEntries, removeDhcpEntries } from '../network/dhcp-hosts.js';
import { recoverLiveMigrate } from '../migration/recovery.js';

/**
 * What to do with an operation the journal says was unfinished when the agent died. The hypervisor is
 * asked first (`dom`), then the operation is finished, re-driven (every run() is idempotent: it checks
 * what is already done), or rolled back. Nothing here kills a running guest the operation was not
 * already meant to stop: a restart alone never powers a guest off.
 *
 * | kind                  | interrupted at / libvirt says             | action                                           |
 * |-----------------------|-------------------------------------------|--------------------------------------------------|
 * | spawn                 | before 'define' (no domain)               | roll back: DHCP entries, files; server error; rolled_back |
 * | spawn                 | 'define' or later                         | re-drive (define again, start if not running)    |
 * | start, resume         | running                                   | succeeded                                        |
 * |                       | otherwise                                 | re-drive (start)                                 |
 * | unpause               | running / still paused                    | succeeded / re-drive                             |
 * | stop                  | off                                       | succeeded                                        |
 * |                       | still running                             | re-drive (Nova re-runs powering-off)             |
 * | reboot                | before its final 'start' step             | re-drive (a second reboot is within the intent)  |
 * |                       | at 'start'                                | start if not running, succeeded                  |
 * | pause                 | paused / running                          | succeeded / re-drive                             |
 * | suspend               | managed save image and off / running      | succeeded / re-drive                             |
 * | destroy               | anything                                  | re-drive (idempotent)                            |
 * | attach/detach disk+nic| anything                                  | re-drive (checks the domain XML first)           |
 * | rebuild               | at 'start' and running                    | succeeded (no second reboot)                     |
 * |                       | otherwise                                 | re-drive (wasRunning is checkpointed)            |
 * | resize                | before 'define'                           | roll back: saved XML + root disk back, start if it was running |
 * |                       | at 'start' and running                    | succeeded, awaits confirm (no second reboot)     |
 * |                       | 'define' or later                         | re-drive to finish (grow is idempotent), awaits confirm |
 * | migrate_receive       | before 'define' (no domain)               | roll back: DHCP entries, copied files; rolled_back (the source keeps the server) |
 * |                       | 'define' or later                         | re-drive (define again, start if asked)          |
 * | resize_confirm/revert | anything                                  | re-drive                                         |
 * | snapshot              | image complete (renamed into place)       | commit overlays back, succeeded                  |
 * |                       | otherwise                                 | roll back: commit overlays back, drop the partial image |
 * | live_migrate (source) | domain gone from this host                | it completed: forget the server here (files unless shared, DHCP), succeeded |
 * |                       | a migration job still runs                | wait for it to end (libvirtd drives it), then decide as here |
 * |                       | domain here, no job                       | unpause if force-complete paused it; rolled_back (guest stays here) |
 * | live_migrate_prepare  | anything                                  | re-drive (images, createOnce disks, DHCP are idempotent) |
 * | live_migrate_finish / _rollback (destination) | anything          | re-drive (both ask libvirt whether the guest runs here first) |
 * | any                   | server row gone from the journal          | failed                                           |
 */
export type Recovery = (x: OpExec<unknown>, op: OperationRow, dom: DomainStatus | null, rerun: () => Promise<Outcome>) => Promise<Outcome>;

const interrupted = (what: string) => ({ code: 'internal' as const, message: `agent restarted during ${what}` });
const reached = (dom: DomainStatus | null, ...ok: PowerState[]): boolean => ok.includes(powerOf(dom));
const stepIndex = (op: OperationRow, steps: string[]): number => steps.indexOf(op.step);

async function finishedRunning(x: OpExec<unknown>): Promise<Outcome> {
  x.updateServer({ power: 'running', desiredPower: 'running' });
  const s = x.server();
  return { state: 'succeeded', result: { power: 'running', vcpus: s.spec.vcpus, memoryMiB: s.spec.memoryMiB, image: s.spec.image?.id ?? '', recovered: true } };
}

const SPAWN_STEPS = ['accepted', 'image', 'disks', 'network', 'define', 'start'];
const MIGRATE_RECEIVE_STEPS = ['accepted', 'image', 'list_files', 'copy_files', 'disks', 'network', 'define', 'start'];
const RESIZE_STEPS = ['accepted', 'save_definition', 'stop', 'acpi_shutdown', 'destroy', 'backup_root', 'grow_root', 'define', 'start'];

export const RECOVERY: Record<OperationKind, Recovery> = {
  async spawn(x, op, dom, rerun) {
    if (stepIndex(op, SPAWN_STEPS) >= SPAWN_STEPS.indexOf('define') || dom) return rerun();
    await removeDhcpEntries(x.deps.hv, dhcpEntries(x.server().spec.nics));
    await removeAll(x.server().files);
    x.updateServer({ status: 'error', files: [], power: 'nostate', desiredPower: 'nostate' });
    return { state: 'rolled_back', error: interrupted('spawn before the domain was defined') };
  },
  start: (_x, _op, dom, rerun) => (reached(dom, 'running') ? Promise.resolve({ state: 'succeeded', result: { power: 'running', recovered: true } }) : rerun()),
  resume: (_x, _op, dom, rerun) => (reached(dom, 'running') ? Promise.resolve({ state: 'succeeded', result: { power: 'running', recovered: true } }) : rerun()),
  unpause: (_x, _op, dom, rerun) => (reached(dom, 'running') ? Promise.resolve({ state: 'succeeded', result: { power: 'running', recovered: true } }) : rerun()),
  pause: (_x, _op, dom, rerun) => (reached(dom, 'paused') ? Promise.resolve({ state: 'succeeded', result: { power: 'paused', recovered: true } }) : rerun()),
  stop: (_x, _op, dom, rerun) => (isOff(powerOf(dom)) || powerOf(dom) === 'suspended' ? Promise.resolve({ state: 'succeeded', result: { power: 'shutdown', recovered: true } }) : rerun()),
  suspend: (_x, _op, dom, rerun) => (reached(dom, 'suspended')
    ? Promise.resolve({ state: 'succeeded', result: { power: 'suspended', recovered: true } }) : rerun()),
  async reboot(x, op, dom, rerun) {
    // before the final start we cannot tell whether the pressed button will still power the guest off:
    // rebooting again is within the operation's intent, leaving it off is not
    if (op.step !== 'start') return rerun();
    if (!reached(dom, 'running')) {
      x.step('start');
      await x.deps.hv.start(op.serverUuid);
    }
    return { state: 'succeeded', result: { power: 'running', recovered: true } };
  },
  destroy: (_x, _op, _dom, rerun) => rerun(),
  attach_disk: (_x, _op, _dom, rerun) => rerun(),
  detach_disk: (_x, _op, _dom, rerun) => rerun(),
  attach_nic: (_x, _op, _dom, rerun) => rerun(),
  detach_nic: (_x, _op, _dom, rerun) => rerun(),
  // died after the final start: the guest already runs the rebuilt disk, re-driving would reboot it again
  rebuild: (x, op, dom, rerun) => (op.step === 'start' && reached(dom, 'running') ? finishedRunning(x) : rerun()),
  async resize(x, op, dom, rerun) {
    if (op.step === 'start' && reached(dom, 'running')) return finishedRunning(x);
    if (stepIndex(op, RESIZE_STEPS) >= RESIZE_STEPS.indexOf('define')) return rerun();
    await restoreSaved(x, op.data['wasRunning'] === true);
    return { state: 'rolled_back', error: interrupted('resize before the new definition') };
  },
  // like spawn: before the domain was defined nothing ran here (the source still has the server): roll back
  async migrate_receive(x, op, dom, rerun) {
    if (stepIndex(op, MIGRATE_RECEIVE_STEPS) >= MIGRATE_RECEIVE_STEPS.indexOf('define') || dom) return rerun();
    await removeDhcpEntries(x.deps.hv, dhcpEntries(x.server().spec.nics));
    await removeAll(x.server().files);
    x.updateServer({ status: 'error', files: [], power: 'nostate', desiredPower: 'nostate' });
    return { state: 'rolled_back', error: interrupted('migrate_receive before the domain was defined') };
  },
  resize_confirm: (_x, _op, _dom, rerun) => rerun(),
  resize_revert: (_x, _op, _dom, rerun) => rerun(),
  live_migrate: (x) => recoverLiveMigrate(x),
  live_migrate_prepare: (_x, _op, _dom, rerun) => rerun(),
  live_migrate_finish: (_x, _op, _dom, rerun) => rerun(),
  live_migrate_rollback: (_x, _op, _dom, rerun) => rerun(),
  async snapshot(x, op, dom) {
    const out = (op.data['output'] as string | undefined) ?? null;
    if (out && existsSync(out)) {
      // the image was complete (written to .tmp, then renamed): only the commit was left, so finish
      await commitOverlays(x, (op.data['overlays'] as Record<string, string> | undefined) ?? {});
      const p = op.params as { imageId: string };
      return { state: 'succeeded', result: { imageId: p.imageId, path: out, format: 'qcow2', sizeBytes: (await stat(out)).size, recovered: true } };
    }
    if (out) await rm(`${out}.tmp`, { force: true });
    let overlays = op.data['overlays'] as Record<string, string> | undefined;
    if (!overlays && dom) {
      // died inside snapshotDisks: the overlay, if libvirt made it, is whatever the root disk now points at
      const root = serverFiles(x.deps.paths, op.serverUuid).root;
      const src = diskSource(await x.deps.hv.getDomainXml(op.serverUuid), 'vda');
      if (src && src !== root) overlays = { vda: src };
    }
    await commitOverlays(x, overlays ?? {});
    return { state: 'rolled_back', error: interrupted('snapshot') };
  },
};
