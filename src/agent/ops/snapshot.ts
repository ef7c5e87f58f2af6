import { createReadStream, existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { rename, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentError } from '../../rpc/errors.js';
import { serverFiles } from './domain-spec.js';
import { requirePower } from './helpers.js';
import type { OpExec, OperationDef } from './types.js';

/**
 * snapshot to image, live or not: an external disk-only snapshot freezes the root disk (QEMU now writes
 * to a fresh overlay), qemu-img convert -U flattens the frozen chain into the output image, then the overlay
 * is committed back and removed. Works running, paused or stopped.
 */
export const snapshot: OperationDef<'snapshot'> = {
  kind: 'snapshot',
  refusedWhenDrained: false,
  check(s) {
    const srv = requirePower(s, ['running', 'paused', 'shutdown', 'crashed'], 'snapshot');
    if (srv.status !== 'active') throw new AgentError('invalid_state', `cannot snapshot a server in status ${srv.status}`);
  },
  async run(x) {
    const { hv, disks, images, journal } = x.deps;
    const uuid = x.op.serverUuid;
    const f = serverFiles(x.deps.paths, uuid);
    const out = outputPath(x);
    if (existsSync(out)) throw new AgentError('invalid_state', `image ${x.params.imageId} already exists at ${out}`);

    x.step('snapshot_disks');
    const { overlays } = await hv.snapshotDisks(uuid, `novalet-${x.op.id}`);
    journal.addFiles(uuid, Object.values(overlays));
    x.save({ overlays });
    x.progress(10);

    x.step('convert', { output: out });
    await disks.convert(f.root, `${out}.tmp`, 'qcow2', { forceShare: true, onProgress: (p) => x.progress(10 + p * 0.8) });
    await rename(`${out}.tmp`, out);
    void images; // output lands in the image cache dir by default, usable by spawn on this host

    await commitOverlays(x, overlays);
    const size = (await stat(out)).size;
    if (x.params.uploadUrl) {
      x.step('upload');
      await uploadImage(x.params.uploadUrl, out, size);
    }
    x.progress(100);
    return { imageId: x.params.imageId, path: out, format: 'qcow2', sizeBytes: size };
  },
  async rollback(x) {
    await rm(`${outputPath(x)}.tmp`, { force: true });
    await commitOverlays(x, (x.data()['overlays'] as Record<string, string> | undefined) ?? {});
  },
};

/** how long an upload keeps trying to reach the controller (a controller restarting re-drives its tasks before it listens) */
const UPLOAD_RETRY_MS = 60_000;

/**
 * streams the image to the controller's image store (a signed URL: no other credentials needed); a controller that
 * cannot be reached (restarting) is tried again, every second, for a minute
 */
async function uploadImage(url: string, file: string, size: number): Promise<void> {
  const deadline = Date.now() + UPLOAD_RETRY_MS;
  for (;;) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'PUT', body: Readable.toWeb(createReadStream(file)) as ReadableStream, duplex: 'half',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      } as RequestInit);
    } catch (err) {
      // fetch rejects only when no HTTP answer came (refused, reset): nothing was stored, try again
      if (Date.now() > deadline) throw new AgentError('internal', `image upload to the controller failed: ${(err as Error).message}`);
      await sleep(1000);
      continue;
    }
    if (!res.ok) throw new AgentError('internal', `image upload to the controller failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return;
  }
}

function outputPath(x: OpExec<{ imageId: string; outputPath?: string | undefined }>): string {
  return x.params.outputPath ?? x.deps.images.pathFor(x.params.imageId);
}

/** Merges each overlay back into its base and deletes it; a target already merged is skipped. */
export async function commitOverlays(x: OpExec<unknown>, overlays: Record<string, string>): Promise<void> {
  const uuid = x.op.serverUuid;
  const xml = Object.keys(overlays).length ? await x.deps.hv.getDomainXml(uuid) : '';
  for (const [target, file] of Object.entries(overlays)) {
    x.step('commit', undefined);
    if (xml.includes(file)) await x.deps.hv.commitDisk(uuid, target);
    await rm(file, { force: true });
    x.deps.journal.removeFiles(uuid, [file]);
  }
}
