/**
 * Disk snapshots the way Nova's live snapshot works: an external disk-only snapshot puts a fresh qcow2
 * overlay on top of every writable disk (the guest keeps writing there) so that the base can be copied
 * (`qemu-img convert -U`) undisturbed; commitDisk then merges the overlay back and removes it.
 * Overlay naming (and why commitDisk only ever merges such overlays): ../overlays.ts.
 */
import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BlockCommitFlags, BlockJobAbortFlags, BlockJobType, DomainXMLFlags, isLibvirtError, SnapshotCreateFlags,
} from '../libvirt/index.js';
import { parseDisks, setDiskSource, type ParsedDisk } from '../domain-xml/index.js';
import { xmlEscape as e } from '../domain-xml/xml.js';
import { VirtError } from '../errors.js';
import type { DiskSnapshotResult } from '../hypervisor.js';
import { checkSnapshotName, isOverlayPath, overlayPathFor } from '../overlays.js';
import * as qemuImg from '../qemu-img.js';
import type { OpContext } from './context.js';
import { waitFor } from './waits.js';


/** Disks a disk-only snapshot covers: writable file disks (block devices are volumes, snapshotted elsewhere). */
function snapshottable(d: ParsedDisk): boolean {
  return d.device === 'disk' && !d.readonly && d.sourceType === 'file' && d.path !== '';
}

export interface SnapshotPlan {
  /** the domainsnapshot XML, null when every disk is already on this snapshot's overlay */
  xml: string | null;
  /** overlay per covered disk target (existing ones included) */
  overlays: Record<string, string>;
  /** overlays to be created now */
  fresh: string[];
}

/** What snapshotDisks asks libvirt for, given the domain's disks; pure, so it is unit-tested. */
export function planSnapshot(disks: ParsedDisk[], name: string): SnapshotPlan {
  const overlays: Record<string, string> = {};
  const fresh: string[] = [];
  const parts = disks.map((d) => {
    const no = `<disk name='${e(d.target)}' snapshot='no'/>`;
    if (!snapshottable(d)) return no;
    // re-driven after a crash: the disk already sits on this snapshot's overlay
    if (isOverlayPath(d.path, name)) { overlays[d.target] = d.path; return no; }
    const overlay = overlayPathFor(d.path, name);
    overlays[d.target] = overlay;
    fresh.push(overlay);
    return `<disk name='${e(d.target)}' snapshot='external'><driver type='qcow2'/><source file='${e(overlay)}'/></disk>`;
  });
  const xml = fresh.length === 0 ? null : `<domainsnapshot><name>${e(name)}</name><disks>${parts.join('')}</disks></domainsnapshot>`;
  return { xml, overlays, fresh };
}

export async function snapshotDisks(ctx: OpContext, name: string): Promise<DiskSnapshotResult> {
  const bad = checkSnapshotName(name);
  if (bad) throw new VirtError('operation_failed', bad);
  const plan = planSnapshot(parseDisks(await ctx.dom.getXMLDesc(0)), name);
  if (plan.xml === null) return { overlays: plan.overlays };
  // leftovers of an attempt that failed before the domain switched to them (libvirt refuses to overwrite);
  // the names are ours and the domain does not use them
  for (const overlay of plan.fresh) if (existsSync(overlay)) await unlink(overlay);
  // NO_METADATA: the overlays are the whole result, libvirt need not track a snapshot object; never QUIESCE
  // (needs a guest agent, which novalet does not require)
  await ctx.dom.createSnapshot(plan.xml, SnapshotCreateFlags.DISK_ONLY | SnapshotCreateFlags.ATOMIC | SnapshotCreateFlags.NO_METADATA);
  return { overlays: plan.overlays };
}

export async function commitDisk(ctx: OpContext, target: string): Promise<void> {
  const disk = parseDisks(await ctx.dom.getXMLDesc(0)).find((d) => d.target === target);
  if (!disk) throw new VirtError('operation_failed', `domain ${ctx.uuid} has no disk ${target}`);
  if (!isOverlayPath(disk.path)) return; // nothing to merge (already committed)
  const overlay = disk.path;
  const info = await qemuImg.info(overlay, { forceShare: true, format: 'qcow2' });
  const base = info.fullBackingFile;
  if (!base) throw new VirtError('operation_failed', `overlay ${overlay} has no backing file`);
  if (await ctx.dom.isActive()) await activeCommit(ctx, target);
  else await qemuImg.commit(overlay, { format: 'qcow2' });
  // the persistent definition must point at the base too (libvirt updates it on pivot; offline it is ours)
  const config = await ctx.dom.getXMLDesc(DomainXMLFlags.INACTIVE);
  const c = parseDisks(config).find((d) => d.target === target);
  if (c && c.path === overlay) {
    await ctx.redefine(setDiskSource(config, target, base, info.backingFormat ?? 'qcow2'));
  }
  await unlink(overlay).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
}

async function activeCommit(ctx: OpContext, target: string): Promise<void> {
  // re-driven: the commit job may still be running from before a crash; then only pivot
  const running = await ctx.dom.getBlockJobInfo(target);
  if (running && running.type !== BlockJobType.ACTIVE_COMMIT) {
    throw new VirtError('operation_failed', `disk ${target} is busy with another block job (type ${running.type})`);
  }
  let ready = false;
  await waitFor(ctx.subscribe, {
    what: `block commit of ${target} to become ready`,
    timeoutMs: ctx.blockJobTimeoutMs,
    pollMs: 250,
    // SHALLOW: merge into the overlay's immediate backing file only, never further down the chain
    start: running ? undefined : () => ctx.dom.blockCommit(target, null, null, 0, BlockCommitFlags.ACTIVE | BlockCommitFlags.SHALLOW),
    onEvent: (ev) => {
      if (ev.type !== 'blockJob' || ev.uuid !== ctx.uuid || ev.disk !== target) return false;
      if (ev.status === 'failed' || ev.status === 'canceled') throw new VirtError('operation_failed', `block commit of ${target} ${ev.status}`);
      if (ev.status === 'ready') ready = true;
      return ready;
    },
    // no event (missed, or the connection was replaced): the job has copied everything. An active commit
    // never ends by itself (it waits for the pivot), so a job that vanished has failed.
    poll: async () => {
      const j = await ctx.dom.getBlockJobInfo(target);
      if (j === null) throw new VirtError('operation_failed', `block commit of ${target} ended without becoming ready`);
      return Number(j.end) > 0 && j.cur === j.end;
    },
  });
  // pivot; QEMU may still be short of 'ready' when the poll saw cur === end: retry briefly
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await ctx.dom.blockJobAbort(target, BlockJobAbortFlags.PIVOT);
      return;
    } catch (err) {
      const notReadyYet = isLibvirtError(err, 'VIR_ERR_BLOCK_COPY_ACTIVE') || isLibvirtError(err, 'VIR_ERR_OPERATION_INVALID');
      if (ready || !notReadyYet || Date.now() >= deadline) throw err;
      await sleep(200);
    }
  }
}
