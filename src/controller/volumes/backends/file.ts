/**
 * The default backend: one qcow2 (or raw) file per volume in a directory every host sees (a local directory in
 * the all-in-one, shared storage in a cluster). Files are written under a temporary name and renamed, so a crash
 * or failure in the middle leaves no half volume under a real name, and a failed create removes its temporary.
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BackendError, type AttachSource, type CreatedVolume, type VolumeBackend, type VolumeSource } from './backend.js';

const GiB = 1024 ** 3;

export class FileBackend implements VolumeBackend {
  readonly name = 'file';

  constructor(readonly dir: string, private readonly format: 'qcow2' | 'raw' = 'qcow2', private readonly qemuImg = 'qemu-img') {}

  private async run(args: string[]): Promise<void> {
    const r = await execa(this.qemuImg, args, { reject: false, env: { LC_ALL: 'C' }, timeout: 600_000 });
    if (r.exitCode !== 0) throw new BackendError(this.name, `qemu-img ${args[0]} failed: ${String(r.stderr || r.message).trim()}`);
  }

  private async virtualSize(path: string): Promise<number> {
    const r = await execa(this.qemuImg, ['info', '--output=json', '-U', path], { reject: false, env: { LC_ALL: 'C' } });
    if (r.exitCode !== 0) throw new BackendError(this.name, `qemu-img info failed: ${String(r.stderr).trim()}`);
    return (JSON.parse(String(r.stdout)) as { 'virtual-size': number })['virtual-size'];
  }

  private pathOf(name: string): string { return join(this.dir, name); }

  /** nothing to cut: a second QEMU is refused the write lock of a file the stale one holds (OFD locks) */
  async fence(_hostAddress: string): Promise<boolean> { return false; }
  async unfence(_hostAddress: string): Promise<void> {}

  /** writes `name` through `fill(tmp)`, then renames; the temporary goes away on failure */
  private async writeOnce(name: string, fill: (tmp: string) => Promise<void>): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const path = this.pathOf(name);
    const tmp = `${path}.tmp`;
    try {
      await rm(tmp, { force: true });
      await fill(tmp);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return path;
  }

  async create(id: string, sizeGiB: number, source: VolumeSource): Promise<CreatedVolume> {
    const size = `${sizeGiB * GiB}`;
    const location = await this.writeOnce(`volume-${id}`, async (tmp) => {
      if (source.kind === 'blank') return this.run(['create', '-q', '-f', this.format, tmp, size]);
      const from = source.kind === 'image' ? source.path : source.location;
      await this.run(['convert', '-q', '-U', '-f', source.format, '-O', this.format, from, tmp]);
      // the copy is as large as its source: grow it to the size asked for, never shrink it
      if ((await this.virtualSize(tmp)) < sizeGiB * GiB) await this.run(['resize', '-q', '-f', this.format, tmp, size]);
    });
    return { location, format: this.format };
  }

  async extend(location: string, format: string, sizeGiB: number): Promise<void> {
    await this.run(['resize', '-q', '-f', format, location, `${sizeGiB * GiB}`]);
  }

  async remove(location: string): Promise<void> {
    await rm(location, { force: true });
    await rm(`${location}.tmp`, { force: true });
  }

  locationOf(id: string): string { return this.pathOf(`volume-${id}`); }

  /**
   * A copy of the volume. `-U` (force-share): an in-use volume is held open by its guest's QEMU, whose write lock
   * would refuse the read; the copy is then crash-consistent (what the guest had written to the disk at that time),
   * as Cinder's forced snapshot of an in-use volume on a file driver without the hypervisor's help.
   */
  async snapshot(location: string, format: string, snapshotId: string): Promise<{ location: string }> {
    const path = await this.writeOnce(`snapshot-${snapshotId}`, (tmp) => this.run(['convert', '-q', '-U', '-f', format, '-O', this.format, location, tmp]));
    return { location: path };
  }

  async removeSnapshot(location: string): Promise<void> {
    await rm(location, { force: true });
  }

  attachSource(location: string, format: string): AttachSource {
    return { path: location, format: format === 'raw' ? 'raw' : 'qcow2', sourceType: 'file' };
  }

  async list(): Promise<string[]> {
    try {
      await stat(this.dir);
    } catch {
      return [];
    }
    return (await readdir(this.dir)).map((n) => this.pathOf(n));
  }
}
